"""cdk-nag's AwsSolutions and Serverless rules, enforced on every synthesis, and the acknowledgements the stack
states.

cdk-nag 3 runs as a CDK policy-validation plugin: a finding that is not acknowledged stops the synthesis,
so `make synth`, `cdk deploy` and every template test enforce the rules. Acknowledgements are made with
`Validations.of(scope).acknowledge(...)` on the narrowest construct, each with its reason.
"""

from __future__ import annotations

import re

from aws_cdk import Acknowledgment, Stage, Validations
from cdk_nag import AwsSolutionsChecks, ServerlessChecks
from constructs import IConstruct

PACKS = ("AwsSolutions", "Serverless")
_ENFORCED = "endpoint-updater:validation-plugin"
_PSEUDO_PARAMETER = re.compile(r"[$][{](?P<name>[^}]+)[}]")


def enforce(scope: IConstruct) -> None:
    """Attach the packs to the app (or stage) holding `scope`, once per app."""
    stage = Stage.of(scope)
    if stage is None:
        raise ValueError(f"{scope.node.path} is not inside an App or Stage: cdk-nag cannot be attached")
    # Two stacks in one app must not register the pack twice; the app's metadata remembers it (the list of
    # plugins is not readable from Python in this CDK version).
    if any(entry.type == _ENFORCED for entry in stage.node.metadata):
        return
    stage.node.add_metadata(_ENFORCED, list(PACKS))
    Validations.of(stage).add_plugins(AwsSolutionsChecks(stage), ServerlessChecks(stage))


def acknowledge(scope: IConstruct, rule_id: str, reason: str) -> None:
    # The bare rule id, as cdk-nag's README shows it: honoured both by the synthesis and by validateScope
    # (a plugin-scoped "AwsSolutions::<rule>" id is honoured by the synthesis only).
    Validations.of(scope).acknowledge(Acknowledgment(id=rule_id, reason=reason))


def wildcard_finding(resource: str) -> str:
    """The AwsSolutions-IAM5 finding id of a wildcard resource, as cdk-nag names it (`${X}` becomes `<X>`)."""
    shown = _PSEUDO_PARAMETER.sub(lambda match: f"<{match['name']}>", resource)
    return f"AwsSolutions-IAM5[Resource::{shown}]"


def acknowledge_wildcards(scope: IConstruct, reasons: dict[str, str]) -> None:
    """Acknowledge one IAM5 finding per wildcard resource granted under `scope`, each with its own reason."""
    for resource, reason in sorted(reasons.items()):
        acknowledge(scope, wildcard_finding(resource), reason)
