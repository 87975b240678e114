"""Each task of the workflow has its own function: runtime, code, role, layer, settings and log group."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from synthesized import (
    Template,
    as_list,
    functions_by_folder,
    referenced_id,
    resources_of_type,
    role_statements,
    state_machine,
)

from infra import settings
from statemachine import EVENT_FUNCTIONS, ROLLOUT_FUNCTIONS, TASK_FUNCTIONS, TaskFunction

# What the CDK grants a state machine for logging to CloudWatch Logs and for X-Ray (Step Functions Developer
# Guide, IAM policies for logging to CloudWatch Logs and for X-Ray).
STATE_MACHINE_LOGGING_AND_TRACING = {
    "logs:CreateLogDelivery", "logs:DeleteLogDelivery", "logs:DescribeLogGroups", "logs:DescribeResourcePolicies",
    "logs:GetLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:UpdateLogDelivery",
    "xray:GetSamplingRules", "xray:GetSamplingTargets", "xray:PutTelemetryRecords", "xray:PutTraceSegments",
}
ALL_FUNCTIONS = TASK_FUNCTIONS + EVENT_FUNCTIONS + ROLLOUT_FUNCTIONS
TASKS = pytest.mark.parametrize("task", ALL_FUNCTIONS, ids=lambda task: task.folder)


def test_every_task_has_exactly_one_function_and_nothing_else_is_a_function(template: Template) -> None:
    # Given the template's Lambda functions, keyed by the folder their handler runs
    functions = functions_by_folder(template)

    # When their handlers are compared with the workflow's tasks
    handlers = {function["Properties"]["Handler"] for _, function in functions.values()}

    # Then there is one function per task and per event handler (no helper functions such as a
    # log-retention custom resource)
    assert handlers == {task.handler for task in ALL_FUNCTIONS}
    assert len(functions) == len(ALL_FUNCTIONS) == 18


@TASKS
def test_the_function_runs_python_3_12_or_later_on_arm64(template: Template, task: TaskFunction) -> None:
    # Given the task's function
    _, function = functions_by_folder(template)[task.folder]

    # When its runtime and architecture are read
    runtime = function["Properties"]["Runtime"]
    major, minor = (int(part) for part in runtime.removeprefix("python").split("."))

    # Then it is Python 3.12+ on Graviton
    assert runtime.startswith("python") and (major, minor) >= (3, 12), runtime
    assert function["Properties"]["Architectures"] == ["arm64"]


@TASKS
def test_the_function_has_its_size_timeout_and_environment(template: Template, task: TaskFunction) -> None:
    # Given the task's function
    _, function = functions_by_folder(template)[task.folder]
    properties = function["Properties"]

    # When its settings are read
    # Then restoring gets five minutes, every other step one minute, and all share memory and environment
    assert properties["Timeout"] == (300 if task.folder in ("restore_scaling", "recover_scaling") else 60)
    assert properties["MemorySize"] == 256
    # Only the start function reads the model package deployments, only the notification function the topic
    # and only validation and CreateModel the change guardrails
    guardrails = properties["Environment"]["Variables"].get("CHANGE_GUARDRAILS")
    own = {"start_update": {"MODEL_PACKAGE_DEPLOYMENTS": "{}"},
           "notify_update": {"NOTIFICATION_TOPIC_ARN": {"Ref": topic_id(template)}},
           "validate_and_snapshot": {"CHANGE_GUARDRAILS": guardrails},
           "create_model": {"CHANGE_GUARDRAILS": guardrails}}.get(task.folder, {})
    # The rollout's functions write no update record, so they have no retention to apply
    retention = {} if task in ROLLOUT_FUNCTIONS else {"RECORD_RETENTION_DAYS": "90"}
    assert properties["Environment"]["Variables"] == {
        "POWERTOOLS_SERVICE_NAME": "endpoint-updater",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "AWS_RETRY_MODE": "standard",
        "AWS_MAX_ATTEMPTS": "5",
        "UPDATES_TABLE_NAME": {"Ref": table_id(template)},
        **retention,
        "STATE_MACHINE_ARN": properties["Environment"]["Variables"]["STATE_MACHINE_ARN"],
        **own,
    }
    assert state_machine_arn_name(properties["Environment"]["Variables"]["STATE_MACHINE_ARN"]) == \
        state_machine(template)[1]["Properties"]["StateMachineName"]


@TASKS
def test_the_function_uses_the_public_powertools_v3_layer_of_its_region(template: Template, task: TaskFunction) -> None:
    # Given the task's function and the layer version of cdk.json
    _, function = functions_by_folder(template)[task.folder]
    version = settings.context_defaults()["powertoolsLayerVersion"]

    # When its layers are read
    layers = function["Properties"]["Layers"]

    # Then the first is Powertools V3 for python3.12/arm64, in the stack's region, at that version (the other
    # is the stack's own SDK layer, tests/infrastructure/test_infra_sdk_layer.py)
    assert len(layers) == 2
    assert layers[:1] == [
        {
            "Fn::Join": [
                "",
                [
                    "arn:aws:lambda:",
                    {"Ref": "AWS::Region"},
                    f":017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-arm64:{version}",
                ],
            ]
        }
    ]


@TASKS
def test_the_function_logs_to_its_own_log_group_with_retention(template: Template, task: TaskFunction) -> None:
    # Given the task's function and the template's log groups
    _, function = functions_by_folder(template)[task.folder]
    log_groups = resources_of_type(template, "AWS::Logs::LogGroup")

    # When its logging configuration is read
    log_group_id = referenced_id(function["Properties"]["LoggingConfig"]["LogGroup"])

    # Then it names a log group of this stack that has a retention (not the logRetention custom resource)
    assert log_groups[log_group_id]["Properties"]["RetentionInDays"] > 0
    others = [
        other
        for folder, (_, other) in functions_by_folder(template).items()
        if folder != task.folder and referenced_id(other["Properties"]["LoggingConfig"]["LogGroup"]) == log_group_id
    ]
    assert others == []


@TASKS
def test_the_function_code_is_its_folder_and_the_shared_package(
    template: Template, cloud_assembly: Path, task: TaskFunction
) -> None:
    # Given the task's function and its staged code asset in the cloud assembly
    _, function = functions_by_folder(template)[task.folder]
    metadata = function["Metadata"]
    staged = cloud_assembly / metadata["aws:asset:path"]

    # When the asset's content is listed
    top_level = {entry.name for entry in staged.iterdir()}
    every_path = [path.relative_to(staged).as_posix() for path in staged.rglob("*")]

    # Then it is lambdas/<folder> plus the shared package (names and core, not the command line or the
    # emulator), staged as files (no bundling step)
    assert metadata["aws:asset:property"] == "Code"
    assert metadata["aws:asset:is-bundled"] is False
    assert top_level == {"lambdas", "endpoint_updater"}
    assert {entry.name for entry in (staged / "lambdas").iterdir()} == {"__init__.py", task.folder}
    assert {entry.name for entry in (staged / "endpoint_updater").iterdir()} == {"__init__.py", "names.py", "core"}
    assert not [path for path in every_path if "__pycache__" in path or path.endswith(".pyc")]


def test_each_function_has_its_own_role_that_only_lambda_can_assume(template: Template) -> None:
    # Given the functions of the template
    functions = functions_by_folder(template)

    # When their roles are resolved
    role_ids = {folder: referenced_id(function["Properties"]["Role"]) for folder, (_, function) in functions.items()}

    # Then no two functions share a role
    assert len(set(role_ids.values())) == len(functions)
    # And each role trusts the Lambda service only
    for folder, role_id in role_ids.items():
        trust = template["Resources"][role_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert trust == [
            {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}}
        ], folder


def test_the_state_machine_role_can_invoke_exactly_the_task_functions(template: Template) -> None:
    # Given the state machine, its role and the task functions
    _, machine = state_machine(template)
    statements = role_statements(template, referenced_id(machine["Properties"]["RoleArn"]))
    task_folders = {task.folder for task in TASK_FUNCTIONS}
    function_ids = {logical_id for folder, (logical_id, _) in functions_by_folder(template).items()
                    if folder in task_folders}

    # When the role's statements are split into invoking and the rest
    invoking = [statement for statement in statements if as_list(statement["Action"]) == ["lambda:InvokeFunction"]]
    others = [statement for statement in statements if statement not in invoking]
    resources = [resource for statement in invoking for resource in as_list(statement["Resource"])]

    # Then it may invoke only those functions (unqualified ARNs, as the definition names them), the await function
    # of the callback waits among them, and none of the functions EventBridge invokes
    assert {statement["Effect"] for statement in statements} == {"Allow"}
    assert all("Condition" not in statement for statement in invoking)
    assert sorted(resources, key=str) == sorted(
        ({"Fn::GetAtt": [function_id, "Arn"]} for function_id in function_ids), key=str
    )
    assert {"Fn::GetAtt": [functions_by_folder(template)["await_endpoint"][0], "Arn"]} in resources
    # And everything else is log delivery and X-Ray, which support no resource type: one statement on "*"
    # (@aws-cdk/aws-iam:minimizePolicies merges statements with the same resource and no condition)
    other_actions = {action for statement in others for action in as_list(statement["Action"])}
    assert other_actions == STATE_MACHINE_LOGGING_AND_TRACING
    assert [statement["Resource"] for statement in others] == ["*"]
    assert "Condition" not in others[0]


def test_every_function_has_active_tracing(template: Template) -> None:
    # Given the template's functions
    # When their tracing mode is read
    modes = {folder: function["Properties"].get("TracingConfig") for folder, (_, function) in
             functions_by_folder(template).items()}

    # Then every one sends traces to X-Ray
    assert modes == {folder: {"Mode": "Active"} for folder in modes}


def table_id(template: Template) -> str:
    (logical_id,) = [key for key, resource in template["Resources"].items()
                     if resource["Type"] == "AWS::DynamoDB::Table"]
    return logical_id


def state_machine_arn_name(arn: Any) -> str:
    """The name at the end of a state machine ARN the CDK rendered as Fn::Join."""
    parts = arn["Fn::Join"][1]
    return str(parts[-1]).rsplit(":", 1)[-1]


def topic_id(template: Template) -> str:
    (logical_id,) = [key for key, resource in template["Resources"].items() if resource["Type"] == "AWS::SNS::Topic"]
    return logical_id
