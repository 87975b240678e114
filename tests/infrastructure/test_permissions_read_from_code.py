"""Each function's role, in the synthesized template, allows exactly the AWS calls its code makes.

The calls are read from the source (code_calls.py), for every Lambda function of the template: a function
added to the stack later is covered without being listed here. Besides the calls, a role holds only the
actions AWS checks behind them and those every function needs (infra/permissions.py, each with its reason).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from code_calls import Call, CodeReader, UnreadableCall
from synthesized import Template, functions_by_folder

from infra import settings
from infra.permissions import (
    ASYNC_FUNCTION,
    BEHIND_THE_CALL,
    EVERY_FUNCTION,
    PERMISSIONS,
    UNREACHED_CALLS,
    behind_the_call,
    besides_calls,
)


@pytest.fixture(scope="module")
def code_actions(template: Template) -> dict[str, set[str]]:
    """Folder -> the IAM actions of every AWS call its handler's code can make."""
    reader = CodeReader(settings.REPO_ROOT)
    return {
        # A call with no IAM action of its own (TransactWriteItems) is authorized as the actions its items perform.
        folder: {action for call in reader.calls_of_handler(function["Properties"]["Handler"])
                 for action in call.actions} - set(UNREACHED_CALLS.get(folder, {}))
        for folder, (_, function) in functions_by_folder(template).items()
    }


def test_every_function_of_the_template_is_read(code_actions: dict[str, set[str]], template: Template) -> None:
    # Given every Lambda function of the template
    # When their code has been read
    # Then each makes at least one AWS call, but those the permissions table gives no row (a function that makes
    # none needs no role beyond logging)
    assert set(code_actions) == set(functions_by_folder(template))
    assert {folder for folder, actions in code_actions.items() if not actions} == \
        {folder for folder, grants in PERMISSIONS.items() if not grants}


def test_each_role_allows_every_call_its_code_makes(
    code_actions: dict[str, set[str]], function_roles: dict[str, set[str]]
) -> None:
    # Given the actions each function's code calls and those AWS checks behind them
    needed = {folder: actions | behind_the_call(actions) | set(besides_calls(folder)) for folder, actions in
              code_actions.items()}

    # When they are compared with the synthesized roles
    missing = {folder: sorted(actions - function_roles[folder]) for folder, actions in needed.items()}

    # Then no role lacks one
    assert {folder: gap for folder, gap in missing.items() if gap} == {}


def test_no_role_allows_an_action_no_code_calls(
    code_actions: dict[str, set[str]], function_roles: dict[str, set[str]]
) -> None:
    # Given what each role allows
    # When the code's calls, the actions behind them and the every-function actions are taken away
    extra = {
        folder: sorted(allowed - code_actions[folder] - behind_the_call(code_actions[folder])
                       - set(besides_calls(folder)))
        for folder, allowed in function_roles.items()
    }

    # Then nothing is left
    assert {folder: more for folder, more in extra.items() if more} == {}


def test_the_calls_read_from_the_restore_step_are_those_it_makes(code_actions: dict[str, set[str]]) -> None:
    # Given the restore step, which reaches its calls through two shared modules
    actions = code_actions["restore_scaling"]

    # When its actions are read
    # Then they are the scaling writes, the read-back, the alarm re-pointing and the endpoint description
    assert actions == {
        "application-autoscaling:ListTagsForResource", "application-autoscaling:TagResource",
        "application-autoscaling:RegisterScalableTarget", "application-autoscaling:PutScalingPolicy",
        "application-autoscaling:PutScheduledAction", "application-autoscaling:DescribeScalableTargets",
        "application-autoscaling:DescribeScalingPolicies", "application-autoscaling:DescribeScheduledActions",
        "cloudwatch:DescribeAlarms", "cloudwatch:PutMetricAlarm", "sagemaker:DescribeEndpoint",
        "dynamodb:GetItem", "dynamodb:UpdateItem",
    }


def test_a_step_is_charged_only_with_the_functions_it_reaches(code_actions: dict[str, set[str]]) -> None:
    # Given raise_capacity, which imports the scaling module for a constant and a helper only
    # When its actions are read
    # Then none of the scaling module's calls is charged to it
    assert code_actions["raise_capacity"] == {"sagemaker:DescribeEndpoint",
                                              "sagemaker:UpdateEndpointWeightsAndCapacities",
                                              "dynamodb:GetItem", "dynamodb:UpdateItem"}


def test_the_calls_read_from_the_completion_functions_are_those_they_make(code_actions: dict[str, set[str]]) -> None:
    # Given the await function (stores the token in a transaction that checks the lock, looks once, sends the
    # outcome) and the resume function (reads the lock and the holder's wait, confirms, sends the outcome)
    # When their actions are read
    # Then the transaction is charged as its items (a lock check and an update), and nothing else is
    complete = {"sagemaker:DescribeEndpoint", "states:SendTaskSuccess", "states:SendTaskFailure",
                "dynamodb:UpdateItem"}
    assert code_actions["await_endpoint"] == complete | {"dynamodb:ConditionCheckItem"}
    assert code_actions["resume_update"] == complete | {"dynamodb:GetItem"}


def test_every_behind_the_call_action_has_a_reason() -> None:
    # Given the documented behind-the-call and every-function actions
    reasons = [reason for implied in BEHIND_THE_CALL.values() for reason in implied.values()]
    reasons += list(EVERY_FUNCTION.values()) + list(ASYNC_FUNCTION.values())

    # When their reasons are read
    # Then none is empty
    assert reasons and all(len(reason) > 20 for reason in reasons)


# -- the reader itself, on code written for the purpose -----------------------------------------------------

def _package(tmp_path: Path, handler: str, shared: str = "") -> CodeReader:
    shared_package = tmp_path / "endpoint_updater" / "core"
    shared_package.mkdir(parents=True)
    (shared_package / "__init__.py").write_text("")
    (shared_package / "aws.py").write_text(textwrap.dedent('''
        import boto3
        def client(service):
            return boto3.client(service)
        def paginate(service, operation, key, **params):
            return [i for p in client(service).get_paginator(operation).paginate(**params) for i in p[key]]
    '''))
    (shared_package / "shared.py").write_text(textwrap.dedent(shared))
    (tmp_path / "step").mkdir()
    (tmp_path / "step" / "handler.py").write_text(textwrap.dedent(handler))
    return CodeReader(tmp_path)


def test_the_reader_follows_variables_constants_adapters_and_modules(tmp_path: Path) -> None:
    # Given a handler that calls AWS in every recognised shape, partly through a shared module
    reader = _package(tmp_path, handler='''
        from endpoint_updater.core import shared
        from endpoint_updater.core.aws import client, paginate
        SERVICE = "sagemaker"
        def step(event):
            sm = client(SERVICE)
            sm.describe_endpoint(EndpointName="x")
            paginate("sagemaker", "list_tags", "Tags", ResourceArn="y")
            return shared.put()
        handler = step
    ''', shared='''
        from endpoint_updater.core.aws import client
        CW = "cloudwatch"
        def put():
            client(CW).put_metric_alarm(AlarmName="a")
        def never_called():
            client("sagemaker").delete_endpoint(EndpointName="x")
    ''')

    # When the handler's calls are read
    calls = reader.calls_of_handler("step.handler.handler")

    # Then each is found with its API name, and the unreached function's call is not
    assert {(call.service, call.operation) for call in calls} == {
        ("sagemaker", "DescribeEndpoint"), ("sagemaker", "ListTags"), ("cloudwatch", "PutMetricAlarm")}
    assert {call.action for call in calls} == {"sagemaker:DescribeEndpoint", "sagemaker:ListTags",
                                               "cloudwatch:PutMetricAlarm"}


def test_a_transaction_is_read_as_the_kinds_of_its_items(tmp_path: Path) -> None:
    # Given a handler whose transaction checks one item and updates another
    reader = _package(tmp_path, handler='''
        from endpoint_updater.core.aws import client
        def step(event):
            client("dynamodb").transact_write_items(TransactItems=[
                {"ConditionCheck": {"TableName": "t", "Key": {}, "ConditionExpression": "a = :a"}},
                {"Update": {"TableName": "t", "Key": {}, "UpdateExpression": "SET b = :b"}},
            ])
        handler = step
    ''')

    # When its calls are read
    (call,) = reader.calls_of_handler("step.handler.handler")

    # Then it is authorized as those items' actions (DynamoDB has no IAM action for the transaction itself)
    assert call.operation == "TransactWriteItems"
    assert call.actions == {"dynamodb:ConditionCheckItem", "dynamodb:UpdateItem"}


@pytest.mark.parametrize("body", [
    'def step(event, service):\n    client(service).describe_endpoint(EndpointName="x")\nhandler = step\n',
    'def step(event):\n    getattr(client("sagemaker"), "describe_endpoint")()\nhandler = step\n',
    'import boto3\ndef step(event):\n    boto3.resource("dynamodb").Table("t").get_item(Key={})\nhandler = step\n',
    'def step(event, op):\n    paginate("sagemaker", op, "Tags")\nhandler = step\n',
    'def step(event, items):\n    client("dynamodb").transact_write_items(TransactItems=items)\nhandler = step\n',
], ids=["dynamic-service", "getattr", "resource", "dynamic-operation", "transaction-items-unread"])
def test_the_reader_refuses_calls_it_cannot_attribute(tmp_path: Path, body: str) -> None:
    # Given a handler that calls AWS in a shape the reader cannot attribute to an operation
    reader = _package(tmp_path, handler="from endpoint_updater.core.aws import client, paginate\n" + body)

    # When its calls are read
    # Then the reader refuses, naming the place, rather than letting the call escape the permission tests
    with pytest.raises(UnreadableCall, match=r"handler\.py"):
        reader.calls_of_handler("step.handler.handler")


def test_an_unknown_operation_is_refused(tmp_path: Path) -> None:
    # Given a handler that calls an operation SageMaker does not have
    reader = _package(tmp_path, handler='''
        from endpoint_updater.core.aws import paginate
        def step(event):
            return paginate("sagemaker", "list_everything", "Items")
        handler = step
    ''')

    # When its calls are read
    # Then the reader says which operation is unknown
    with pytest.raises(UnreadableCall, match="list_everything"):
        reader.calls_of_handler("step.handler.handler")


def test_a_call_is_named_by_its_iam_action() -> None:
    # Given calls on services whose IAM prefix differs from the client name, or whose action differs
    # When their actions are read
    # Then they follow IAM's names
    assert Call("stepfunctions", "StartExecution", "x").action == "states:StartExecution"
    assert Call("s3", "ListObjectsV2", "x").action == "s3:ListBucket"
    with pytest.raises(UnreadableCall, match="IAM_PREFIX"):
        _ = Call("kafka", "ListClusters", "x").action
