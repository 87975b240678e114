"""The synthesis runs offline: no AWS credentials, no Docker, environment-agnostic unless told otherwise."""

from __future__ import annotations

import base64
import gzip
import json
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

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


ACCOUNT, REGION = "111122223333", "eu-west-1"


@pytest.fixture(scope="module")
def cli_synthesis(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Template]:
    """The manifest and template of the app run as the CDK command line runs it for `cdk deploy`: in its own
    process, with the profile's account and region in CDK_DEFAULT_* and the command line's context (version
    reporting on, its default) in CDK_CONTEXT_JSON, which the CDK reads when the process starts."""
    outdir = tmp_path_factory.mktemp("cli.out")
    env = {name: value for name, value in os.environ.items() if not name.startswith("CDK_")}
    env.update(
        CDK_DEFAULT_ACCOUNT=ACCOUNT,
        CDK_DEFAULT_REGION=REGION,
        CDK_OUTDIR=str(outdir),
        CDK_CONTEXT_JSON=json.dumps({"aws:cdk:version-reporting": True}),
        JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20",
    )
    result = subprocess.run([sys.executable, "app.py"], cwd=settings.REPO_ROOT, env=env, capture_output=True,
                            text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    manifest = json.loads((outdir / "manifest.json").read_text())
    template = json.loads((outdir / f"{settings.STACK_ID}.template.json").read_text())
    return manifest, template


def test_app_targets_the_cli_environment_when_given(cli_synthesis: tuple[dict[str, Any], Template]) -> None:
    # Given the app run with the variables the CDK command line sets for the current profile
    manifest, template = cli_synthesis

    # When its manifest and functions are read
    layers = {
        layer for _, function in functions_by_folder(template).values() for layer in function["Properties"]["Layers"]
        if isinstance(layer, str)
    }

    # Then the stack is bound to that account and region, and the public layer's ARN names the region (the
    # SDK layer is the stack's own, a reference)
    assert manifest["artifacts"][settings.STACK_ID]["environment"] == f"aws://{ACCOUNT}/{REGION}"
    version = settings.context_defaults()["powertoolsLayerVersion"]
    assert layers == {
        f"arn:aws:lambda:{REGION}:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-arm64:{version}"
    }


def test_arns_the_cdk_builds_for_a_known_region_name_its_partition(
    cli_synthesis: tuple[dict[str, Any], Template],
) -> None:
    # Given the stack bound to a region, and the ARNs the CDK builds itself: the state machine's, which the
    # functions are given, and the account root's, which the notification key's policy trusts
    _, template = cli_synthesis
    machine_arns = {json.dumps(function["Properties"]["Environment"]["Variables"][settings.STATE_MACHINE_ENV])
                    for _, function in functions_by_folder(template).values()}
    key = next(resource for resource in template["Resources"].values() if resource["Type"] == "AWS::KMS::Key")
    root = key["Properties"]["KeyPolicy"]["Statement"][0]["Principal"]["AWS"]

    # When they are read
    # Then the partition is written as the region's ("aws"), not left to {"Ref": "AWS::Partition"}
    # (@aws-cdk/core:enablePartitionLiterals)
    assert machine_arns == {json.dumps(f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{settings.STACK_ID}-Workflow")}
    assert root == f"arn:aws:iam::{ACCOUNT}:root"


def test_the_usage_metadata_names_construct_properties_but_none_of_the_stack_s_own_strings(
    cli_synthesis: tuple[dict[str, Any], Template],
) -> None:
    # Given the CDKMetadata resource the CDK adds when the command line reports versions (its default), and the
    # strings the stack writes into its resources: descriptions and the topic's display name
    _, template = cli_synthesis
    analytics = template["Resources"]["CDKMetadata"]["Properties"]["Analytics"]
    own_strings = {value for resource in template["Resources"].values()
                   for name in ("Description", "DisplayName")
                   if isinstance(value := resource.get("Properties", {}).get(name), str)}

    # When its usage data is decoded ("v2:deflate64:" and base64 of gzip)
    scheme, encoded = analytics.rsplit(":", 1)
    assert scheme == "v2:deflate64"
    usage = gzip.decompress(base64.b64decode(encoded)).decode()

    # Then, with @aws-cdk/core:enableAdditionalMetadataCollection, it lists the L2 constructs' property keys with
    # their boolean and enum values, every other value written as "*", as well as the constructs used
    assert usage.startswith(f"{metadata.version('aws-cdk-lib')}!aws-cdk-lib.")
    assert '"enableKeyRotation":true' in usage
    assert '"tracing":"Active"' in usage
    assert '"description":"*"' in usage
    # And none of the stack's own strings
    assert len(own_strings) > 10
    assert [string for string in own_strings if string in usage] == []


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
    # Then there is no container image, every function's code asset is a zip of a staged directory (not the
    # output of a command), the SDK layer is the one zip built at synth (infra/sdk_layer.py), and none was bundled
    assert not assets.get("dockerImages")
    assert len(code_assets) == 19
    directories = [source for source in code_assets if source["packaging"] == "zip"]
    assert len(directories) == 18
    assert all(source == {"path": source["path"], "packaging": "zip"} for source in directories)
    assert [source for source in code_assets if source not in directories] == [
        {"path": next(source["path"] for source in code_assets if source["path"].endswith(".zip")),
         "packaging": "file"}]
    assert len(asset_metadata) == 19
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
