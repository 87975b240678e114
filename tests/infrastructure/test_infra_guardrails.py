"""The change guardrails in the template: the settings reach the functions, IAM states them where SageMaker has
condition keys, PassRole is limited to the execution role patterns, alarm deletes to target-tracking alarms, and
the updates table cannot be deleted by accident."""

from __future__ import annotations

import json
from typing import Any

import pytest
from synthesized import Statement, Template, as_list, functions_by_folder, referenced_id, role_statements

from endpoint_updater import names
from endpoint_updater.core.guardrails import Guardrails
from infra import config
from infra.permissions import PERMISSIONS, render
from infra.settings import context_defaults
from statemachine import EVENT_FUNCTIONS, ROLLOUT_FUNCTIONS, TASK_FUNCTIONS

CONTEXT = context_defaults()
GUARDRAILS = config.guardrails(CONTEXT.get)
FOLDERS = [task.folder for task in TASK_FUNCTIONS + EVENT_FUNCTIONS + ROLLOUT_FUNCTIONS]


def statements(template: Template, folder: str) -> list[Statement]:
    _, function = functions_by_folder(template)[folder]
    return role_statements(template, referenced_id(function["Properties"]["Role"]))


def granting(template: Template, action: str) -> list[tuple[str, Statement]]:
    return [(folder, statement) for folder in FOLDERS for statement in statements(template, folder)
            if action in as_list(statement["Action"])]


def sub_text(resource: Any) -> str:
    if isinstance(resource, dict) and "Fn::Sub" in resource:
        value = resource["Fn::Sub"]
        return str(value[0] if isinstance(value, list) else value)
    return str(resource)


def test_cdk_json_states_every_guardrail_with_its_default() -> None:
    # Given cdk.json's context
    # When the guardrail settings are read from it
    # Then each is there, and they are the defaults (a deployment narrows them on purpose)
    assert {setting: CONTEXT[setting] for setting in Guardrails().to_settings()} == Guardrails().to_settings()
    assert Guardrails() == GUARDRAILS


def test_the_functions_that_check_the_guardrails_get_them_as_one_environment_variable(template: Template) -> None:
    # Given every function of the stack
    for folder, (_, function) in functions_by_folder(template).items():
        # When its environment is read
        variables = function["Properties"]["Environment"]["Variables"]
        # Then validation and CreateModel carry the settings as JSON, as they parse them; no other function
        if folder in ("validate_and_snapshot", "create_model"):
            assert Guardrails.from_settings(json.loads(variables[names.GUARDRAILS_ENV])) == GUARDRAILS, folder
        else:
            assert names.GUARDRAILS_ENV not in variables, folder


def test_create_endpoint_config_is_conditioned_on_the_instance_types_and_model_pattern(template: Template) -> None:
    # Given the statements granting CreateEndpointConfig
    found = granting(template, "sagemaker:CreateEndpointConfig")
    # When their conditions are read
    # Then there is one, with the instance types and the model name pattern of the settings as IAM conditions
    assert [folder for folder, _ in found] == ["create_endpoint_config"]
    _, statement = found[0]
    assert as_list(statement["Action"]) == ["sagemaker:CreateEndpointConfig"]
    assert statement["Condition"] == {
        "ForAllValues:StringLike": {"sagemaker:InstanceTypes": list(GUARDRAILS.allowed_instance_types)},
        "ForAllValues:ArnLike": {"sagemaker:ModelArn": f"arn:*:sagemaker:*:*:model/{GUARDRAILS.model_name_pattern}"},
    }


def test_pass_role_is_limited_to_the_execution_role_patterns_and_to_sagemaker(template: Template) -> None:
    # Given every statement granting iam:PassRole
    found = granting(template, "iam:PassRole")
    # When its resources are read
    # Then they are the roles the settings name, never every role, and only passed to SageMaker
    assert {folder for folder, _ in found} == {"create_model", "create_endpoint_config"}
    for _, statement in found:
        assert as_list(statement["Action"]) == ["iam:PassRole"]
        roles = sorted(sub_text(resource) for resource in as_list(statement["Resource"]))
        assert roles == sorted(f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/{pattern}"
                               for pattern in GUARDRAILS.execution_role_patterns)
        assert not [role for role in roles if role.endswith("role/*")]
        assert statement["Condition"] == {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}


def test_create_model_may_only_create_models_the_model_pattern_names(template: Template) -> None:
    ((folder, statement),) = granting(template, "sagemaker:CreateModel")
    assert folder == "create_model"
    assert [sub_text(r) for r in as_list(statement["Resource"])] == [
        f"arn:${{AWS::Partition}}:sagemaker:${{AWS::Region}}:${{AWS::AccountId}}:model/{GUARDRAILS.model_name_pattern}"]


def test_alarms_are_deleted_only_where_target_tracking_policies_own_them(template: Template) -> None:
    # Given every statement granting cloudwatch:DeleteAlarms (only ever checked by AWS behind the scaling calls)
    found = granting(template, "cloudwatch:DeleteAlarms")
    # When their resources are read
    resources = {sub_text(resource) for _, statement in found for resource in as_list(statement["Resource"])}
    # Then they are the target-tracking alarms of the endpoints the deployment may touch, not every alarm
    assert {folder for folder, _ in found} == {"deregister_scaling", "restore_scaling", "recover_scaling"}
    assert resources == {"arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:"
                         f"TargetTracking-endpoint/{pattern}/variant/*" for pattern in {CONTEXT["endpointNamePattern"],
                                                                                       CONTEXT["endpointNamePattern"]
                                                                                       .lower()}}
    # And only the restoring functions may write an alarm at all
    assert {folder for folder, _ in granting(template, "cloudwatch:PutMetricAlarm")} == {"restore_scaling",
                                                                                        "recover_scaling"}


def test_the_updates_table_has_deletion_protection(template: Template) -> None:
    (table,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::DynamoDB::Table"]
    assert table["Properties"]["DeletionProtectionEnabled"] is True
    assert table["DeletionPolicy"] == "Retain"


def test_patterns_with_capitals_are_granted_in_both_spellings_except_role_names() -> None:
    # Given guardrails with capitals in the model and role patterns
    rails = Guardrails(model_name_pattern="Churn-*", execution_role_patterns=("ChurnSageMaker*",))
    # When the table is rendered for them
    grants = {grant.actions: grant for grant in render(PERMISSIONS["create_endpoint_config"], "Churn-*", rails)}
    # Then model ARNs carry both spellings (SageMaker's ARNs are lower case), role ARNs their own case
    assert grants[("sagemaker:CreateEndpointConfig",)].conditions["ForAllValues:ArnLike"]["sagemaker:ModelArn"] == (
        "arn:*:sagemaker:*:*:model/Churn-*", "arn:*:sagemaker:*:*:model/churn-*")
    assert grants[("iam:PassRole",)].resources == ("arn:${AWS::Partition}:iam::${AWS::AccountId}:role/ChurnSageMaker*",)


@pytest.mark.parametrize(("setting", "value", "message"), [
    ("allowedVariantFields", ["ModelName", "NoSuchField"],
     "allowedVariantFields: NoSuchField not a ProductionVariant field"),
    ("allowedInstanceTypes", "[\"m5.large\"]", "allowedInstanceTypes must be"),
    ("maxInstancesPerVariant", 0, "maxInstancesPerVariant must be a whole number"),
    ("maxCapacityIncrease", "ten", "maxCapacityIncrease must be a whole number"),
    ("modelNamePattern", "churn/*", "modelNamePattern must be"),
    ("executionRolePatterns", [], "executionRolePatterns must be a non-empty list"),
], ids=["unknown-field", "instance-type-without-ml", "zero-instances", "not-a-number", "bad-model-pattern",
        "no-role"])
def test_a_bad_guardrail_setting_stops_the_synthesis_naming_it(setting: str, value: Any, message: str) -> None:
    with pytest.raises(ValueError, match="context value " + message.replace("[", r"\[")):
        config.guardrails({setting: value}.get)


def test_settings_from_the_command_line_arrive_as_text_and_are_read_alike() -> None:
    rails = config.guardrails({"allowedInstanceTypes": '["ml.m5.*", "ml.c5.*"]', "maxInstancesPerVariant": "8"}.get)
    assert rails.allowed_instance_types == ("ml.m5.*", "ml.c5.*") and rails.max_instances_per_variant == 8


def test_a_refused_snapshot_alarms_to_the_topic(template: Template) -> None:
    # Given the template's alarms on the workflow's own metrics
    alarms = [a["Properties"] for a in template["Resources"].values() if a["Type"] == "AWS::CloudWatch::Alarm"
              and a["Properties"].get("Namespace") == names.METRICS_NAMESPACE]
    # When the one on refused snapshots is read
    (alarm,) = [a for a in alarms if a["MetricName"] == "SnapshotsRefused"]
    # Then it fires on the first refusal within five minutes and notifies the topic
    (topic_id,) = [k for k, r in template["Resources"].items() if r["Type"] == "AWS::SNS::Topic"]
    assert alarm["Dimensions"] == [{"Name": "service", "Value": names.SERVICE_NAME}]
    assert (alarm["Statistic"], alarm["Period"], alarm["Threshold"], alarm["EvaluationPeriods"]) == ("Sum", 300, 1, 1)
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["TreatMissingData"] == "notBreaching"
    assert alarm["AlarmActions"] == [{"Ref": topic_id}]
