"""The rollout state machine: statemachine/rollout.asl.json deployed as it is, calling its own functions and starting
executions of the update state machine, with a role that may do exactly that."""

from __future__ import annotations

import json
from typing import Any

from synthesized import (
    Template,
    as_list,
    functions_by_folder,
    referenced_id,
    role_statements,
    rollout_state_machine,
    state_machine,
)

from endpoint_updater import names
from infra import settings
from statemachine import ROLLOUT_FUNCTIONS, placeholders, read_rollout_definition

LOGGING_AND_TRACING = {
    "logs:CreateLogDelivery", "logs:DeleteLogDelivery", "logs:DescribeLogGroups", "logs:DescribeResourcePolicies",
    "logs:GetLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:UpdateLogDelivery",
    "xray:GetSamplingRules", "xray:GetSamplingTargets", "xray:PutTelemetryRecords", "xray:PutTraceSegments",
}
UPDATE_EXECUTIONS = ("arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:"
                     f"{settings.STACK_ID}-Workflow:*")
SYNC_RULE = ("arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:"
             "rule/StepFunctionsGetEventsForStepFunctionsExecutionRule")


def _sub_text(resource: Any) -> Any:
    if isinstance(resource, dict) and "Fn::Sub" in resource:
        value = resource["Fn::Sub"]
        return value[0] if isinstance(value, list) else value
    return resource


def test_the_rollout_is_a_standard_state_machine_running_the_asl_file_byte_for_byte(template: Template) -> None:
    # Given the rollout state machine of the template
    _, machine = rollout_state_machine(template)
    properties = machine["Properties"]

    # When its definition, name and type are read
    # Then it is the file's text, inline and unchanged, in a STANDARD state machine named after the stack
    assert properties["DefinitionString"] == read_rollout_definition()
    assert "DefinitionS3Location" not in properties
    assert properties["StateMachineType"] == "STANDARD"
    assert properties["StateMachineName"] == f"{settings.STACK_ID}-Rollout"
    assert isinstance(json.loads(properties["DefinitionString"]).get("TimeoutSeconds"), int)
    assert properties["TracingConfiguration"] == {"Enabled": True}
    assert properties["LoggingConfiguration"]["Level"] == "ALL"


def test_the_placeholders_are_the_update_state_machine_and_the_rollout_functions(template: Template) -> None:
    # Given both state machines and the functions, keyed by logical id
    _, machine = rollout_state_machine(template)
    update_id, _ = state_machine(template)
    handler_by_id = {logical_id: function["Properties"]["Handler"]
                     for logical_id, function in functions_by_folder(template).values()}

    # When the rollout's substitutions are read
    substitutions = dict(machine["Properties"]["DefinitionSubstitutions"])

    # Then there is exactly one per placeholder: the update state machine's ARN, and each function's
    assert set(substitutions) == placeholders(read_rollout_definition())
    assert substitutions.pop("UpdateStateMachineArn") == {"Ref": update_id}
    expected = {task.placeholder: task.handler for task in ROLLOUT_FUNCTIONS}
    assert set(substitutions) == set(expected)
    for placeholder, value in substitutions.items():
        assert handler_by_id[referenced_id(value)] == expected[placeholder], placeholder


def test_the_rollout_role_starts_waits_for_and_stops_updates_and_invokes_only_its_functions(
        template: Template) -> None:
    # Given the rollout state machine's role
    _, machine = rollout_state_machine(template)
    statements = role_statements(template, referenced_id(machine["Properties"]["RoleArn"]))
    folders = {task.folder for task in ROLLOUT_FUNCTIONS}
    function_ids = {logical_id for folder, (logical_id, _) in functions_by_folder(template).items()
                    if folder in folders}

    # When its grants are listed as (action, resource)
    grants = {(action, json.dumps(_sub_text(resource), sort_keys=True))
              for statement in statements for action in as_list(statement["Action"])
              for resource in as_list(statement["Resource"])}
    assert {statement["Effect"] for statement in statements} == {"Allow"}
    assert all("Condition" not in statement for statement in statements)

    # Then they are exactly: invoke its functions; StartExecution on the update state machine; DescribeExecution
    # and StopExecution on its executions; the .sync rule's events actions (IAM policies for Step Functions:
    # StartExecution .sync); and the CDK's log delivery and X-Ray on "*"
    expected = {("lambda:InvokeFunction", json.dumps({"Fn::GetAtt": [function_id, "Arn"]}))
                for function_id in function_ids}
    expected.add(("states:StartExecution", json.dumps("${StateMachineArn}")))
    expected |= {(action, json.dumps(UPDATE_EXECUTIONS)) for action in ("states:DescribeExecution",
                                                                        "states:StopExecution")}
    expected |= {(action, json.dumps(SYNC_RULE)) for action in ("events:PutTargets", "events:PutRule",
                                                                "events:DescribeRule")}
    expected |= {(action, json.dumps("*")) for action in LOGGING_AND_TRACING}
    assert grants == expected
    # And the state machine the ARN variable names is the update state machine, by its name
    variables = {name: value for statement in statements for resource in as_list(statement["Resource"])
                 if isinstance(resource, dict) and isinstance(resource.get("Fn::Sub"), list)
                 for name, value in resource["Fn::Sub"][1].items()}
    assert variables["StateMachineArn"]["Fn::Join"][1][-1].endswith(f":{settings.STACK_ID}-Workflow")


def test_the_update_state_machine_role_cannot_start_a_rollout(template: Template) -> None:
    # Given the update state machine's role
    _, machine = state_machine(template)
    statements = role_statements(template, referenced_id(machine["Properties"]["RoleArn"]))
    # When its actions are read / Then it starts no execution of anything
    assert not any(action.startswith("states:") or action.startswith("events:")
                   for statement in statements for action in as_list(statement["Action"]))


def test_the_outputs_name_the_rollout_state_machine(template: Template) -> None:
    machine_id, _ = rollout_state_machine(template)
    outputs = template["Outputs"]
    assert outputs[names.ROLLOUT_STATE_MACHINE_OUTPUT]["Value"] == {"Ref": machine_id}
    assert outputs["RolloutStateMachineName"]["Value"] == {"Fn::GetAtt": [machine_id, "Name"]}
