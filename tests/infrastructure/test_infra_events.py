"""The rules around the workflow, the updates table, and the settings that shape them, in the template."""

from __future__ import annotations

import json
from typing import Any

import pytest
from synthesized import Template, functions_by_folder, resources_of_type, state_machine

from endpoint_updater.core import store
from infra import config, settings

DEPLOYMENTS = {"churn-models": {"EndpointName": "churn-prod", "VariantName": "AllTraffic",
                                "CapacityIncrease": {"Add": 1}}}


@pytest.fixture(scope="module")
def deploying() -> Template:
    """The stack synthesized with a model package group and its own event source."""
    import aws_cdk as cdk
    from aws_cdk.assertions import Template as CdkTemplate

    from infra.stack import EndpointUpdaterStack

    app = cdk.App(context={**settings.context_defaults(), config.MODEL_PACKAGE_DEPLOYMENTS: DEPLOYMENTS,
                           config.UPDATE_REQUEST_SOURCE: "ml-platform.deployments"})
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


def test_update_requests_from_the_configured_source_start_one_execution_each(deploying: Template) -> None:
    rule = next(r for d, r in rules(deploying).items() if "Endpoint Update Requested" in d)
    assert rule["EventPattern"] == {"source": ["ml-platform.deployments"], "detail-type": ["Endpoint Update Requested"]}
    assert target_function(deploying, rule) == "start_update"


def test_approved_packages_of_the_configured_groups_start_one_execution_each(deploying: Template) -> None:
    # Given the approval rule and the start function
    rule = rules(deploying)["Deploy each approved model package of the configured groups to its endpoint."]
    _, start = functions_by_folder(deploying)["start_update"]
    # Then it matches SageMaker's approvals in the configured groups only, and the start function knows where
    # each group deploys
    assert rule["EventPattern"] == {
        "source": ["aws.sagemaker"], "detail-type": ["SageMaker Model Package State Change"],
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
    (config.RECORD_RETENTION_DAYS, 0, "from 1 to 3650"),
])
def test_a_bad_setting_stops_the_synthesis_naming_it(setting: str, value: Any, message: str) -> None:
    import aws_cdk as cdk

    from infra.stack import EndpointUpdaterStack

    app = cdk.App(context={**settings.context_defaults(), setting: value})
    with pytest.raises(ValueError, match=setting) as refused:
        EndpointUpdaterStack(app, settings.STACK_ID)
    assert message in str(refused.value)
