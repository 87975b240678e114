"""One synthesis of the stack per test session, and what the template tests read from it."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from synthesized import Template, allowed_actions, functions_by_folder, referenced_id, role_statements

from infra import settings


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The stack as `make synth` builds it, from cdk.json's context, in its own App (not yet synthesized)."""
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    import aws_cdk as cdk

    from infra.stack import EndpointUpdaterStack

    outdir = tmp_path_factory.mktemp("cdk.out")
    # Asset metadata is what the CDK command line turns on: it records each asset's path and bundling.
    app = cdk.App(
        outdir=str(outdir),
        context={**settings.context_defaults(), "aws:cdk:enable-asset-metadata": True},
    )
    return EndpointUpdaterStack(app, settings.STACK_ID)


@pytest.fixture(scope="session")
def cloud_assembly(stack: Any) -> Path:
    """The cloud assembly directory of the stack, synthesized in-process (jsii starts once: a few seconds).

    cdk-nag's AwsSolutions checks run in this synthesis: an unacknowledged finding fails every template test.
    """
    assembly = stack.node.root.synth()
    return Path(assembly.directory)


@pytest.fixture(scope="session")
def template(cloud_assembly: Path) -> Template:
    """The synthesized CloudFormation template as a dict."""
    document: dict[str, Any] = json.loads((cloud_assembly / f"{settings.STACK_ID}.template.json").read_text())
    return document


@pytest.fixture(scope="session")
def function_roles(template: Template) -> dict[str, set[str]]:
    """Folder under lambdas/ -> every IAM action its function's role allows, read from the template.

    The role's inline policies and the AWS::IAM::Policy resources attached to it are read; a managed
    policy would make the set unknowable, so its presence fails here rather than passing silently.
    """
    roles: dict[str, set[str]] = {}
    for folder, (_, function) in functions_by_folder(template).items():
        role_id = referenced_id(function["Properties"]["Role"])
        managed = template["Resources"][role_id]["Properties"].get("ManagedPolicyArns")
        assert not managed, f"the role of {folder} has managed policies {managed}"
        roles[folder] = allowed_actions(role_statements(template, role_id))
    return roles
