"""The synthesis runs offline: no AWS credentials, no Docker, environment-agnostic unless told otherwise."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from synthesized import Template, functions_by_folder

from infra import settings


def test_app_synthesizes_with_no_credentials_and_no_docker(tmp_path: Path) -> None:
    # Given an environment with no AWS variables and no CDK defaults, whose AWS config files do not exist and
    # whose instance metadata is off (so no credentials can be found), and whose `docker` always fails
    env = {name: value for name, value in os.environ.items() if not name.startswith(("AWS_", "CDK_"))}
    env.update(
        AWS_CONFIG_FILE=str(tmp_path / "no-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-credentials"),
        AWS_EC2_METADATA_DISABLED="true",
        CDK_OUTDIR=str(tmp_path / "cdk.out"),
        CDK_DOCKER="false",
        JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20",
    )

    # When the app is run as `make synth` runs it
    result = subprocess.run(
        [sys.executable, "app.py"],
        cwd=settings.REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    # Then it writes the template of an environment-agnostic stack
    assert result.returncode == 0, result.stderr
    manifest = json.loads((tmp_path / "cdk.out" / "manifest.json").read_text())
    stack = manifest["artifacts"][settings.STACK_ID]
    assert stack["environment"] == "aws://unknown-account/unknown-region"
    assert (tmp_path / "cdk.out" / f"{settings.STACK_ID}.template.json").is_file()


def test_app_targets_the_cli_environment_when_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the variables the CDK command line sets for the current profile
    monkeypatch.setenv("CDK_DEFAULT_ACCOUNT", "111122223333")
    monkeypatch.setenv("CDK_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("CDK_OUTDIR", str(tmp_path))
    import app

    # When the app runs
    app.main()

    # Then the stack is bound to that account and region, and the layer ARN names the region
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["artifacts"][settings.STACK_ID]["environment"] == "aws://111122223333/eu-west-1"
    template = json.loads((tmp_path / f"{settings.STACK_ID}.template.json").read_text())
    layers = {
        layer for _, function in functions_by_folder(template).values() for layer in function["Properties"]["Layers"]
    }
    version = settings.context_defaults()["powertoolsLayerVersion"]
    assert layers == {
        f"arn:aws:lambda:eu-west-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-arm64:{version}"
    }


def test_no_asset_needs_docker_or_bundling(template: Template, cloud_assembly: Path) -> None:
    # Given the assembly's asset manifest and the template's asset metadata
    assets = json.loads((cloud_assembly / f"{settings.STACK_ID}.assets.json").read_text())
    asset_metadata = [
        resource["Metadata"]
        for resource in template["Resources"].values()
        if "aws:asset:path" in resource.get("Metadata", {})
    ]

    code_assets = [
        asset["source"]
        for asset in assets["files"].values()
        if asset["source"]["path"] != f"{settings.STACK_ID}.template.json"
    ]

    # When they are inspected
    # Then there is no container image, every code asset is a zip of a staged directory (not the output of a
    # command), and none was bundled
    assert not assets.get("dockerImages")
    assert len(code_assets) == 11
    assert all(source == {"path": source["path"], "packaging": "zip"} for source in code_assets)
    assert len(asset_metadata) == 11
    assert all(metadata["aws:asset:is-bundled"] is False for metadata in asset_metadata)


def test_the_layer_version_comes_from_context_and_a_malformed_one_is_refused() -> None:
    # Given the context values the CDK command line passes for `-c powertoolsLayerVersion=...` (strings)
    import aws_cdk as cdk
    from aws_cdk.assertions import Template as CdkTemplate

    from infra.stack import EndpointUpdaterStack

    # When the stack is built with a well-formed one
    stack = EndpointUpdaterStack(cdk.App(context={"powertoolsLayerVersion": "41"}), "Given")
    layers = [
        function["Properties"]["Layers"][0]["Fn::Join"][1][2]
        for _, function in functions_by_folder(CdkTemplate.from_stack(stack).to_json()).values()
    ]

    # Then every function uses that layer version
    assert set(layers) == {":017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-arm64:41"}
    # And a malformed or missing version stops the synthesis instead of deploying a broken layer ARN
    for malformed in ("latest", "0", None):
        with pytest.raises(ValueError, match="powertoolsLayerVersion"):
            EndpointUpdaterStack(cdk.App(context={"powertoolsLayerVersion": malformed}), "Given")
