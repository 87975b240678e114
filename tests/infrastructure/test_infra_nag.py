"""cdk-nag's AwsSolutions and Serverless rules hold on the stack: every finding is acknowledged, each with its
reason, and docs/settings-and-permissions.md states how many per pack."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from cdk_nag import AwsSolutionsChecks, ServerlessChecks

from infra import nag, settings
from infra.stack import EVERY_ENDPOINT_WARNING

SETTINGS_PAGE = settings.REPO_ROOT / "docs" / "settings-and-permissions.md"


def _acknowledgements(stack: Any) -> dict[tuple[str, str], str]:
    """(construct path, rule id) -> reason, for every acknowledgement made under the stack."""
    from aws_cdk import Validations

    found = {}
    for construct in stack.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
                for rule_id, reason in entry.data.items():
                    # The CDK records a bare rule id under its "Annotation::" prefix.
                    found[(construct.node.path, rule_id.removeprefix("Annotation::"))] = reason
    return found


@pytest.mark.parametrize("pack", [AwsSolutionsChecks, ServerlessChecks], ids=nag.PACKS)
def test_the_stack_has_no_unacknowledged_finding(stack: Any, cloud_assembly: Path, pack: Any) -> None:
    # Given the synthesized stack, whose synthesis ran both packs as validation plugins
    report = json.loads((cloud_assembly / "validation-report.json").read_text())

    # When the pack is also run directly on the same construct tree
    direct = pack(stack.node.root).validate_scope(stack.node.root)

    # Then neither finds anything left unacknowledged, errors and warnings alike (the stack's own warning that
    # endpointNamePattern "*" reaches every endpoint is meant to be seen at each synthesis)
    assert [violation["ruleName"] for plugin in report["pluginReports"] for violation in plugin["violations"]
            if violation["ruleName"] != f"Annotation::{EVERY_ENDPOINT_WARNING}"] == []
    assert [violation.rule_name for violation in direct.violations] == []
    assert direct.success is True


def test_a_stack_with_subscribers_and_package_deployments_has_no_unacknowledged_finding(tmp_path: Path) -> None:
    # Given the optional resources cdk.json leaves out: subscribers and a model package deployment rule
    import aws_cdk as cdk

    from infra import config
    from infra.stack import EndpointUpdaterStack

    context = {**settings.context_defaults(),
               config.NOTIFICATION_SUBSCRIBERS: ["ops@example.com",
                                                 {"protocol": "https", "endpoint": "https://hooks.example.com/u"}],
               config.MODEL_PACKAGE_DEPLOYMENTS: {"churn-models": {"EndpointName": "churn-prod",
                                                                   "VariantName": "AllTraffic"}}}
    app = cdk.App(outdir=str(tmp_path), context=context)
    EndpointUpdaterStack(app, "Given")

    # When the app is synthesized, with both packs as validation plugins
    app.synth()

    # Then it succeeds, with nothing left unacknowledged (the warning about endpointNamePattern "*" aside)
    report = json.loads((tmp_path / "validation-report.json").read_text())
    assert [violation["ruleName"] for plugin in report["pluginReports"] for violation in plugin["violations"]
            if violation["ruleName"] != f"Annotation::{EVERY_ENDPOINT_WARNING}"] == []


def test_every_acknowledgement_gives_a_reason_and_names_one_rule(stack: Any) -> None:
    # Given every acknowledgement made in the stack
    acknowledgements = _acknowledgements(stack)

    # When their ids and reasons are read
    rule_ids = {rule_id for _, rule_id in acknowledgements}

    # Then there are some, each names one rule of a pack (IAM5 with its exact resource, never the whole
    # rule), and each carries a sentence of reason
    assert acknowledgements
    assert all(re.fullmatch(r"AwsSolutions-(IAM5\[Resource::[^\]]+\]|L1|SQS3)|Serverless-[A-Za-z]+", rule_id)
               for rule_id in rule_ids)
    assert all(len(reason) > 40 and reason.endswith(".") for reason in acknowledgements.values())
    # And they sit on the roles and functions they concern, not on the stack or the app
    assert all(path.count("/") >= 2 for path, _ in acknowledgements)


def test_only_the_rules_the_design_needs_are_acknowledged(stack: Any) -> None:
    # Given the acknowledged rules
    rules = {rule_id.split("[")[0] for _, rule_id in _acknowledgements(stack)}

    # When they are compared with the design's exceptions: wildcard resources explained one by one, the
    # runtime tied to the Powertools layer build, the dead-letter queue (a DLQ itself, so without one of its
    # own), and no Lambda DLQ (synchronous invocations use none; asynchronous ones have an on-failure
    # destination instead)
    # Then nothing else is acknowledged (no SNS, KMS, Step Functions, DynamoDB, tracing or log finding is waived)
    assert rules == {"AwsSolutions-IAM5", "AwsSolutions-L1", "AwsSolutions-SQS3",
                     "Serverless-LambdaLatestVersion", "Serverless-LambdaDLQ", "Serverless-SQSRedrivePolicy"}


def test_the_settings_page_states_the_count_of_acknowledgements_per_pack(stack: Any) -> None:
    # Given the acknowledgements made in the stack as cdk.json deploys it, counted by pack
    counts = {pack: sum(1 for _, rule_id in _acknowledgements(stack) if rule_id.startswith(f"{pack}-"))
              for pack in nag.PACKS}

    # When the settings page's line for each pack is read
    page = SETTINGS_PAGE.read_text(encoding="utf-8")
    stated = {pack: re.search(rf"^\| {pack} \| (\d+) \|", page, flags=re.MULTILINE) for pack in nag.PACKS}

    # Then it states each count as it is
    assert {pack: int(found[1]) if found else None for pack, found in stated.items()} == counts


def test_the_settings_page_states_the_count_of_acknowledgements_per_rule(stack: Any) -> None:
    # Given the acknowledgements made in the stack as cdk.json deploys it, counted by rule (an IAM5 finding is
    # one rule, whatever resource it names)
    counts = Counter(rule_id.split("[")[0] for _, rule_id in _acknowledgements(stack))

    # When each pack's line on the settings page is read for its "`RULE` (count)" entries
    page = SETTINGS_PAGE.read_text(encoding="utf-8")
    stated = {}
    for pack in nag.PACKS:
        line = re.search(rf"^\| {pack} \| \d+ \|(.*)$", page, flags=re.MULTILINE)
        assert line, f"no line for {pack}"
        stated.update({f"{pack}-{rule}": int(count) for rule, count in re.findall(r"`(\w+)` \((\d+)\)", line[1])})

    # Then it states each rule's count as it is
    assert stated == dict(counts)


def test_an_unacknowledged_finding_stops_the_synthesis(tmp_path: Path) -> None:
    # Given a stack with one resource that breaks a rule: a topic that accepts plain-HTTP publishers
    import aws_cdk as cdk
    from aws_cdk import aws_sns as sns

    from infra import settings
    from infra.stack import EndpointUpdaterStack

    app = cdk.App(outdir=str(tmp_path), context=settings.context_defaults())
    stack = EndpointUpdaterStack(app, "Given")
    sns.Topic(stack, "PlainTopic")

    # When the app is synthesized
    # Then the synthesis fails, and the report names the rule and the resource
    with pytest.raises(Exception, match="ValidationFailed"):
        app.synth()
    report = (tmp_path / "validation-report.json").read_text()
    assert "AwsSolutions-SNS3" in report and "PlainTopic" in report


def test_wildcard_findings_are_named_as_cdk_nag_names_them() -> None:
    # Given a resource with CloudFormation pseudo parameters
    resource = "arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}:endpoint/churn-*"

    # When its finding id is made
    # Then the parameters are written as cdk-nag writes them
    assert nag.wildcard_finding(resource) == (
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:endpoint/churn-*]")
