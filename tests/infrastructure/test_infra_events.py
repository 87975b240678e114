"""The rules around the workflow, the updates table, and the settings that shape them, in the template."""

from __future__ import annotations

import json
from typing import Any

import pytest
from synthesized import Template, functions_by_folder, resources_of_type, state_machine

from endpoint_updater import names
from endpoint_updater.core import store
from infra import config, settings

DEPLOYMENTS = {"churn-models": {"EndpointName": "churn-prod", "VariantName": "AllTraffic",
                                "CapacityIncrease": {"Add": 1}}}
PIPELINE_ACCOUNT = "111122223333"
DEPLOYER_ROLE = "arn:aws:iam::444455556666:role/ci/churn-deployer"
THIS_ACCOUNT = {"Ref": "AWS::AccountId"}
SCOPED_PATTERN = "churn-?rod*"
ENDPOINT_EVENTS = "Resume the endpoint update waiting on an endpoint when SageMaker reports its state changed."


@pytest.fixture(scope="module")
def deploying() -> Template:
    """The stack synthesized with a model package group and its own event source."""
    import aws_cdk as cdk
    from aws_cdk.assertions import Template as CdkTemplate

    from infra.stack import EndpointUpdaterStack

    app = cdk.App(context={**settings.context_defaults(), config.MODEL_PACKAGE_DEPLOYMENTS: DEPLOYMENTS,
                           config.UPDATE_REQUEST_SOURCE: "ml-platform.deployments",
                           config.UPDATE_REQUEST_PRINCIPALS: [PIPELINE_ACCOUNT, DEPLOYER_ROLE],
                           config.ENDPOINT_NAME_PATTERN: SCOPED_PATTERN})
    document: Template = CdkTemplate.from_stack(EndpointUpdaterStack(app, settings.STACK_ID)).to_json()
    return document


def rules(template: Template) -> dict[str, dict[str, Any]]:
    """Rule description -> its properties."""
    return {rule["Properties"]["Description"]: rule["Properties"]
            for rule in resources_of_type(template, "AWS::Events::Rule").values()}


def target_function(template: Template, rule: dict[str, Any]) -> str:
    (target,) = rule["Targets"]
    function_id = target["Arn"]["Fn::GetAtt"][0]
    return next(folder for folder, (logical_id, _) in functions_by_folder(template).items()
                if logical_id == function_id)


def test_executions_that_end_without_restoring_go_to_the_recovery_function(template: Template) -> None:
    # Given the recovery rule
    machine_id, _ = state_machine(template)
    rule = rules(template)["Restore the scaling of an endpoint update that ended without restoring it."]
    # When its pattern and target are read
    pattern = rule["EventPattern"]
    # Then it matches this state machine's aborted, timed-out and failed executions, and invokes the recovery
    assert pattern == {"source": ["aws.states"], "detail-type": ["Step Functions Execution Status Change"],
                       "detail": {"status": ["ABORTED", "TIMED_OUT", "FAILED"],
                                  "stateMachineArn": [{"Ref": machine_id}]}}
    assert target_function(template, rule) == "recover_scaling"
    assert "DeadLetterConfig" in rule["Targets"][0] and rule["Targets"][0]["RetryPolicy"]["MaximumRetryAttempts"]


def test_every_ended_execution_goes_to_the_notification_function(template: Template) -> None:
    machine_id, _ = state_machine(template)
    rule = rules(template)["Publish the end-of-update message of every endpoint update."]
    assert rule["EventPattern"]["detail"] == {"status": ["SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"],
                                              "stateMachineArn": [{"Ref": machine_id}]}
    assert target_function(template, rule) == "notify_update"


@pytest.mark.parametrize(("which", "wildcard"), [("default settings", "*"), ("scoped pattern", "churn-*rod*")])
def test_sagemaker_endpoint_events_of_the_allowed_endpoints_go_to_the_resume_function(
        which: str, wildcard: str, template: Template, deploying: Template) -> None:
    # Given the stack as cdk.json deploys it (endpointNamePattern "*"), and with a pattern holding both IAM wildcards
    chosen = template if which == "default settings" else deploying
    pattern = config.endpoint_name_pattern(settings.context_defaults().get(config.ENDPOINT_NAME_PATTERN)) \
        if which == "default settings" else SCOPED_PATTERN
    rule = rules(chosen)[ENDPOINT_EVENTS]
    # When the endpoint-events rule is read
    # Then it takes both of SageMaker's endpoint events, on the default bus, from this account, for the endpoints the
    # setting allows, with the pattern the local runner uses (EventBridge's wildcard filter: `?` read as `*`)
    assert "EventBusName" not in rule
    assert rule["EventPattern"] == {
        "source": ["aws.sagemaker"], "account": [THIS_ACCOUNT],
        "detail-type": ["SageMaker Endpoint State Change", "SageMaker Endpoint Deployment State Change"],
        "detail": {"EndpointName": [{"wildcard": wildcard}]}}
    assert rule["EventPattern"]["detail"] == names.endpoint_event_pattern([pattern])["detail"]
    # And it invokes the resume function
    assert target_function(chosen, rule) == "resume_update"


def test_the_endpoint_events_rule_retries_and_keeps_what_it_cannot_deliver_as_the_recovery_rule_does(
        template: Template) -> None:
    # Given the endpoint-events rule and the recovery rule
    (resume,) = rules(template)[ENDPOINT_EVENTS]["Targets"]
    (recovery,) = rules(template)["Restore the scaling of an endpoint update that ended without restoring it."][
        "Targets"]
    (queue_id,) = resources_of_type(template, "AWS::SQS::Queue")
    # When their targets' delivery settings are read
    # Then both retry for as long as EventBridge allows and send what they could not deliver to the one alarmed queue
    assert resume["RetryPolicy"] == recovery["RetryPolicy"] == {
        "MaximumRetryAttempts": names.EVENT_RETRY_ATTEMPTS,
        "MaximumEventAgeInSeconds": names.EVENT_MAX_AGE_HOURS * 3600}
    assert resume["DeadLetterConfig"] == recovery["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [queue_id, "Arn"]}}


def test_a_package_deployment_may_choose_how_completion_is_detected() -> None:
    # Given a model package deployment in an account whose SageMaker events do not reach the stack
    deployment = {"churn-models": {"EndpointName": "churn-prod", "VariantName": "AllTraffic",
                                   "Completion": "polling", "SafetyIntervalSeconds": 600}}
    # When the setting is read
    # Then the completion fields are kept for the workflow input, as the other workflow options are
    assert config.model_package_deployments(deployment) == deployment


def request_bus(template: Template) -> str:
    (bus_id,) = resources_of_type(template, "AWS::Events::EventBus")
    return bus_id


def bus_statements(template: Template) -> dict[str, dict[str, Any]]:
    """The request bus's resource policy: statement id -> statement."""
    bus_id = request_bus(template)
    policies = [p["Properties"] for p in resources_of_type(template, "AWS::Events::EventBusPolicy").values()]
    assert all(policy["EventBusName"] == {"Ref": bus_id} for policy in policies)
    return {policy["Statement"]["Sid"]: policy["Statement"] for policy in policies}


def account_root(account: Any) -> dict[str, Any]:
    """An account principal as the CDK writes it: arn:<partition>:iam::<account>:root."""
    parts = [":iam::", account, ":root"] if isinstance(account, dict) else [f":iam::{account}:root"]
    return {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, *parts]]}


def test_update_requests_from_the_configured_source_and_accounts_start_one_execution_each(
        deploying: Template) -> None:
    # Given the rule for update requests
    rule = next(r for d, r in rules(deploying).items() if "Endpoint Update Requested" in d)
    # Then it listens on the request bus, to the configured source, sent from the accounts of the named principals
    assert rule["EventBusName"] == {"Ref": request_bus(deploying)}
    assert rule["EventPattern"] == {"source": ["ml-platform.deployments"], "detail-type": ["Endpoint Update Requested"],
                                    "account": [PIPELINE_ACCOUNT, "444455556666"]}
    assert target_function(deploying, rule) == "start_update"


@pytest.mark.parametrize("which", ["default settings", "principals named"])
def test_no_rule_of_the_default_bus_starts_an_update_from_a_custom_source(
        which: str, template: Template, deploying: Template) -> None:
    # Given the stack's rules
    chosen = template if which == "default settings" else deploying
    # When those on the default bus (no EventBusName) are read
    on_default_bus = [r for r in rules(chosen).values() if "EventBusName" not in r]
    # Then each matches an AWS service's events from this account only, never the custom update request
    for rule in on_default_bus:
        pattern = rule["EventPattern"]
        assert all(source.startswith("aws.") for source in pattern["source"]), pattern
        assert "Endpoint Update Requested" not in pattern["detail-type"]
    approval = next(r for d, r in rules(deploying).items() if "approved model package" in d)
    assert "EventBusName" not in approval and approval["EventPattern"]["account"] == [THIS_ACCOUNT]


def test_the_request_bus_policy_names_exactly_the_configured_principals(deploying: Template) -> None:
    # Given the request bus's policy, deployed with an account and a role named
    statements = bus_statements(deploying)
    bus_arn = {"Fn::GetAtt": [request_bus(deploying), "Arn"]}
    assert set(statements) == {"AllowNamedRequesters", "DenyOtherPrincipals"}
    allow, deny = statements["AllowNamedRequesters"], statements["DenyOtherPrincipals"]
    # Then exactly those may put events, only update requests from the configured source, on this bus
    assert allow["Effect"] == "Allow" and allow["Action"] == "events:PutEvents" and allow["Resource"] == bus_arn
    assert allow["Principal"] == {"AWS": [account_root(PIPELINE_ACCOUNT), DEPLOYER_ROLE]}
    assert allow["Condition"] == {"ForAllValues:StringEquals": {
        "events:source": ["ml-platform.deployments"], "events:detail-type": ["Endpoint Update Requested"]}}
    # And every other principal, of this account too, is refused whatever its own IAM policies allow
    assert deny["Effect"] == "Deny" and deny["Action"] == "events:PutEvents" and deny["Resource"] == bus_arn
    assert deny["Principal"] == {"AWS": "*"}
    assert deny["Condition"] == {"StringNotEquals": {"aws:PrincipalAccount": [PIPELINE_ACCOUNT],
                                                     "aws:PrincipalArn": [DEPLOYER_ROLE]}}


def test_without_named_principals_only_this_account_may_send_update_requests(template: Template) -> None:
    statements = bus_statements(template)
    allow, deny = statements["AllowNamedRequesters"], statements["DenyOtherPrincipals"]
    assert allow["Principal"] == {"AWS": account_root(THIS_ACCOUNT)}
    assert deny["Condition"] == {"StringNotEquals": {"aws:PrincipalAccount": [THIS_ACCOUNT]}}
    rule = next(r for d, r in rules(template).items() if "Endpoint Update Requested" in d)
    assert rule["EventPattern"]["account"] == [THIS_ACCOUNT]


def test_the_request_bus_name_is_a_stack_output(template: Template) -> None:
    output = template["Outputs"]["UpdateRequestBusName"]
    assert output["Value"] == {"Ref": request_bus(template)}


def test_approved_packages_of_the_configured_groups_start_one_execution_each(deploying: Template) -> None:
    # Given the approval rule and the start function
    rule = rules(deploying)["Deploy each approved model package of the configured groups to its endpoint."]
    _, start = functions_by_folder(deploying)["start_update"]
    # Then it matches SageMaker's approvals in the configured groups of this account only, and the start
    # function knows where each group deploys
    assert rule["EventPattern"] == {
        "source": ["aws.sagemaker"], "detail-type": ["SageMaker Model Package State Change"], "account": [THIS_ACCOUNT],
        "detail": {"ModelPackageGroupName": ["churn-models"], "ModelApprovalStatus": ["Approved"]}}
    assert target_function(deploying, rule) == "start_update"
    assert json.loads(start["Properties"]["Environment"]["Variables"]["MODEL_PACKAGE_DEPLOYMENTS"]) == DEPLOYMENTS


def test_without_configured_groups_there_is_no_approval_rule(template: Template) -> None:
    assert not [d for d in rules(template) if "approved model package" in d]


def test_the_updates_table_has_the_functions_keys_ttl_and_recovery(template: Template) -> None:
    # Given the updates table
    (table,) = [r for r in resources_of_type(template, "AWS::DynamoDB::Table").values()]
    properties = table["Properties"]
    # Then its keys and TTL attribute are those the functions use, it can be recovered, and it outlives the stack
    assert properties["KeySchema"] == [{"AttributeName": store.PARTITION_KEY, "KeyType": "HASH"},
                                       {"AttributeName": store.SORT_KEY, "KeyType": "RANGE"}]
    assert properties["TimeToLiveSpecification"] == {"AttributeName": store.TTL_ATTRIBUTE, "Enabled": True}
    assert properties["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert table["DeletionPolicy"] == "Retain"


@pytest.mark.parametrize(("setting", "value", "message"), [
    (config.MODEL_PACKAGE_DEPLOYMENTS, {"churn-models": {"EndpointName": "churn-prod"}}, '"VariantName"'),
    (config.MODEL_PACKAGE_DEPLOYMENTS, {"churn-models": {"EndpointName": "churn-prod", "VariantName": "A",
                                                         "DryRun": True}}, "DryRun not allowed; allowed besides"),
    (config.MODEL_PACKAGE_DEPLOYMENTS, ["churn-models"], "must be an object"),
    (config.UPDATE_REQUEST_SOURCE, "aws.sagemaker", "does not start with 'aws.'"),
    (config.UPDATE_REQUEST_PRINCIPALS, ["*"], "a 12-digit account id or an IAM role ARN"),
    (config.UPDATE_REQUEST_PRINCIPALS, ["arn:aws:iam::111122223333:role/*"], "wildcards are not allowed"),
    (config.UPDATE_REQUEST_PRINCIPALS, ["arn:aws:iam::111122223333:user/alice"], "[0]"),
    (config.UPDATE_REQUEST_PRINCIPALS, ["111122223333", "11112222333"], "[1]"),
    (config.UPDATE_REQUEST_PRINCIPALS, {"accounts": ["111122223333"]}, "must be a list"),
    (config.RECORD_RETENTION_DAYS, 0, "from 1 to 3650"),
])
def test_a_bad_setting_stops_the_synthesis_naming_it(setting: str, value: Any, message: str) -> None:
    import aws_cdk as cdk

    from infra.stack import EndpointUpdaterStack

    app = cdk.App(context={**settings.context_defaults(), setting: value})
    with pytest.raises(ValueError, match=setting) as refused:
        EndpointUpdaterStack(app, settings.STACK_ID)
    assert message in str(refused.value)


def test_a_pattern_of_every_endpoint_is_a_warning_of_the_synthesis() -> None:
    import aws_cdk as cdk
    from aws_cdk.assertions import Annotations, Match

    from infra.stack import EndpointUpdaterStack

    # Given the shipped pattern "*", and a scoped one
    found = {}
    for pattern in ("*", "churn-*"):
        app = cdk.App(context={**settings.context_defaults(), config.ENDPOINT_NAME_PATTERN: pattern})
        stack = EndpointUpdaterStack(app, settings.STACK_ID)
        # When the synthesis's warnings are read
        found[pattern] = Annotations.from_stack(stack).find_warning(
            "*", Match.string_like_regexp("endpointNamePattern"))
    # Then "*" gets one saying what it means and how to scope it, and a scoped pattern none
    (warning,) = found["*"]
    assert "every SageMaker endpoint of the account" in str(warning.entry.data)
    assert "-c endpointNamePattern=" in str(warning.entry.data)
    assert found["churn-*"] == []
