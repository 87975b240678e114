"""A failed execution's cause is the message a person can act on: no stack trace, no local paths.

A Python function's error reaches Step Functions as the runtime's JSON (errorMessage, errorType, requestId,
stackTrace with file paths); the definition keeps only the message, and the execution's error stays the
exception's class name (the contract). Each failure path is run through the real definition.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from endpoint_updater.offline import emulation
from endpoint_updater.offline.runner import Execution, LocalRunner
from endpoint_updater.offline.scenario import VariantSpec, attach_scaling, create_endpoint
from infra.settings import REPO_ROOT

ENDPOINT = "churn-prod"
REQUEST = {"EndpointName": ENDPOINT, "PollIntervalSeconds": 1,
           "VariantChanges": [{"VariantName": "AllTraffic", "ModelName": "churn-v8"}]}
STACK_TRACE_MARKS = ("Traceback", "stackTrace", 'File "', "/var/task", "errorType", "requestId", str(REPO_ROOT))


def _autoscaled() -> None:
    create_endpoint(ENDPOINT, (VariantSpec(count=2),))
    attach_scaling(ENDPOINT, "AllTraffic")


def _bad_input(runner: LocalRunner) -> Execution:
    _autoscaled()
    return runner.run({**REQUEST, "Foo": 1})


def _no_endpoint(runner: LocalRunner) -> Execution:
    return runner.run({**REQUEST, "EndpointName": "no-such-endpoint"})


def _not_in_service(runner: LocalRunner) -> Execution:
    _autoscaled()
    emulation.set_endpoint_status(ENDPOINT, "Updating")
    return runner.run(REQUEST)


def _validation_crashed(runner: LocalRunner) -> Execution:
    # An error the code did not foresee: its class name and message, and nothing of where it was raised.
    _autoscaled()
    runner.crash("validate_and_snapshot", KeyError("'EndpointConfigName'"), times=1)
    return runner.run(REQUEST)


def _rolled_back(runner: LocalRunner) -> Execution:
    _autoscaled()
    emulation.configure_update(ENDPOINT, seconds=0.2, outcome="rollback")
    return runner.run(REQUEST)


def _restore_refused(runner: LocalRunner) -> Execution:
    _autoscaled()
    emulation.inject_fault("application-autoscaling", "RegisterScalableTarget", "ValidationException",
                           "refused", times=1000)
    return runner.run(REQUEST)


# (failure path, the execution's error, how the cause begins)
PATHS: list[tuple[Callable[[LocalRunner], Execution], str, str]] = [
    (_bad_input, "InvalidInput", "invalid input: Foo: unknown field"),
    (_no_endpoint, "EndpointNotFound", ""),
    (_not_in_service, "EndpointNotInService", ""),
    (_validation_crashed, "KeyError", "\"'EndpointConfigName'\""),
    (_rolled_back, "EndpointUpdateRolledBack", ""),
    (_restore_refused, "ScalingRestoreFailed", "the scaling of endpoint churn-prod could not be restored"),
]


@pytest.mark.parametrize(("path", "error", "begins"), PATHS, ids=[error for _, error, _ in PATHS])
def test_a_failed_executions_cause_is_the_message_without_stack_trace(
        runner: LocalRunner, path: Callable[[LocalRunner], Execution], error: str, begins: str) -> None:
    # Given a failure on that path
    # When the execution ends and is described
    execution = path(runner)

    # Then it failed with the exception's class name, and its cause is the message alone
    assert (execution.status, execution.error) == ("FAILED", error), execution.cause
    cause = execution.cause or ""
    assert cause.startswith(begins) and cause.strip(), cause
    assert [mark for mark in STACK_TRACE_MARKS if mark in cause] == [], cause
    if error != "ScalingRestoreFailed":
        assert "\n" not in cause, cause
    else:
        # The restore's message is the one cause that spans lines: its first line says what failed and how to
        # retry, the next ones are the AWS calls that restore the scaling by hand, one per line.
        first, *calls = cause.splitlines()
        assert "endpoint-updater restore --endpoint churn-prod" in first
        assert calls and all(line.startswith(("aws ", "Snapshot: {")) for line in calls), calls


@pytest.mark.parametrize(("cause", "read_as_function_error"), [
    ('{"errorMessage": "m", "errorType": "E", "requestId": "r", "stackTrace": ["  File \\"/var/task/x.py\\""]}', True),
    ('{"errorType":"E","errorMessage":"m","stackTrace":[]}', True),  # another key order, compact
    ("Task timed out after 60.00 seconds", False),                    # a service's plain text
    ('{"errorType": "Sandbox.Timedout"}', False),                     # JSON without a message
    ('{"errorMessage": "m", "errorType": "E", "stackTr', False),      # cut at Step Functions' cause limit
])
def test_only_a_cause_in_the_runtimes_json_is_read_for_its_message(cause: str, read_as_function_error: bool) -> None:
    # Given the definition's choice between reading a function's message and keeping the cause as it is
    import json

    from statemachine import read_definition
    choice = json.loads(read_definition())["States"]["IsFunctionError"]
    (rule,) = choice["Choices"]
    (pattern,) = [test["StringMatches"] for test in rule["And"] if "StringMatches" in test]

    # When the cause is matched as StringMatches does (* is any run of characters, the rest literal)
    matched = re.fullmatch(".*".join(re.escape(part) for part in pattern.split("*")), cause, flags=re.DOTALL)

    # Then only the runtime's JSON is parsed (States.StringToJson), so any other cause cannot make it fail
    assert (matched is not None) == read_as_function_error
    if matched:
        assert json.loads(cause)["errorMessage"] == "m"


def _history_causes(execution: Execution) -> dict[str, Any]:
    return {event["type"]: event for event in execution.events if event["type"] == "ExecutionFailed"}


def test_the_history_ends_with_the_same_clean_cause(runner: LocalRunner) -> None:
    # Given bad input
    execution = _bad_input(runner)

    # When the execution's last event is read
    (failed,) = _history_causes(execution).values()

    # Then it carries the error and the cleaned cause, as DescribeExecution does
    details = failed["executionFailedEventDetails"]
    assert (details["error"], details["cause"]) == ("InvalidInput", execution.cause)
