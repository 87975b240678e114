"""The deployed workflow through Step Functions: find it, start an execution, read one back as steps."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from endpoint_updater.cli.errors import INVALID, NAME_TAKEN, NOT_FOUND, CliError
from endpoint_updater.core.aws import error_code
from endpoint_updater.core.errors import cause_message
from endpoint_updater.names import (
    CLI_STATE_MACHINE_ENV as ARN_VARIABLE,
)
from endpoint_updater.names import (
    ENDED_STATUSES,
    STACK_NAME,
    STATE_MACHINE_OUTPUT,
    TABLE_ENV,
    TABLE_OUTPUT,
    execution_arn,
)

TERMINAL = frozenset(ENDED_STATUSES)
CALLBACK_PATTERN = ".waitForTaskToken"
# DescribeStacks answers a stack that does not exist with a validation error (CloudFormation's query protocol
# names it ValidationError; ValidationException is the JSON protocols' name). Given a stack name that is
# well formed, as ours is, that error means nothing else.
STACK_MISSING_CODES = frozenset({"ValidationError", "ValidationException"})
_ALREADY_EXISTS_ARN = re.compile(r"arn:[^'\s]+")


def find_state_machine(cloudformation: Any, given: str | None, output: str = STATE_MACHINE_OUTPUT,
                       variable: str = ARN_VARIABLE) -> str:
    """--state-machine-arn, else the environment `variable` ($ENDPOINT_UPDATER_STATE_MACHINE_ARN for the update
    state machine), else the stack's `output`."""
    if given:
        return given
    if os.environ.get(variable):
        return os.environ[variable]
    return _stack_output(cloudformation, output, f"pass --state-machine-arn or set {variable}")


def use_updates_table(cloudformation: Any, given: str | None) -> None:
    """Point the workflow's store at the updates table: --table, else $UPDATES_TABLE_NAME, else the stack's
    output."""
    if given:
        os.environ[TABLE_ENV] = given
    elif not os.environ.get(TABLE_ENV):
        os.environ[TABLE_ENV] = _stack_output(cloudformation, TABLE_OUTPUT, f"pass --table or set {TABLE_ENV}")


def _stack_output(cloudformation: Any, key: str, otherwise: str) -> str:
    try:
        stacks = cloudformation.describe_stacks(StackName=STACK_NAME)["Stacks"]
    except ClientError as error:
        if error_code(error) in STACK_MISSING_CODES:
            raise CliError(f"stack {STACK_NAME} not found in {cloudformation.meta.region_name}: deploy it "
                           f"(make deploy), or {otherwise}", NOT_FOUND) from error
        raise
    outputs = {o["OutputKey"]: o["OutputValue"] for stack in stacks for o in stack.get("Outputs") or []}
    if key not in outputs:
        raise CliError(f"stack {STACK_NAME} has no output {key} (is its deployment finished?); {otherwise}",
                       NOT_FOUND)
    return str(outputs[key])


def start(sfn: Any, state_machine_arn: str, name: str, request_json: str) -> dict[str, Any]:
    """StartExecution. With the name and input of a running execution AWS returns that one; a name already
    used otherwise raises ExecutionAlreadyExists, reported with the existing execution's ARN."""
    try:
        started = sfn.start_execution(stateMachineArn=state_machine_arn, name=name, input=request_json)
    except ClientError as error:
        code = error_code(error)
        if code == "ExecutionAlreadyExists":
            found = _ALREADY_EXISTS_ARN.search(str(error))
            existing = found.group(0) if found else execution_arn(state_machine_arn, name)
            raise CliError(f"an execution named {name} already ran with this name: {existing}; "
                           "see it with `status`, or pass --name to start another", NAME_TAKEN) from error
        if code == "StateMachineDoesNotExist":
            raise CliError(f"state machine {state_machine_arn} does not exist", NOT_FOUND) from error
        if code in ("InvalidArn", "InvalidName"):
            raise CliError(f"{code}: {error.response['Error'].get('Message', '')}", INVALID) from error
        raise
    return {"executionArn": started["executionArn"], "name": name, "stateMachineArn": state_machine_arn,
            "startDate": _iso(started.get("startDate"))}


def describe(sfn: Any, arn: str) -> dict[str, Any]:
    try:
        described = sfn.describe_execution(executionArn=arn)
    except ClientError as error:
        if error_code(error) == "ExecutionDoesNotExist":
            raise CliError(f"execution not found: {arn}", NOT_FOUND) from error
        if error_code(error) == "InvalidArn":
            raise CliError(f"not an execution ARN: {arn}", INVALID) from error
        raise
    result = {k: described.get(k) for k in ("executionArn", "name", "stateMachineArn", "status", "error")}
    result["cause"] = cause_message(described.get("cause"))
    result["startDate"] = _iso(described.get("startDate"))
    result["stopDate"] = _iso(described.get("stopDate"))
    result["input"] = _json(described.get("input"))
    result["output"] = _json(described.get("output"))
    return result


def history(sfn: Any, arn: str) -> list[dict[str, Any]]:
    try:
        pages = sfn.get_paginator("get_execution_history").paginate(executionArn=arn)
        return [event for page in pages for event in page["events"]]
    except ClientError as error:
        if error_code(error) == "ExecutionDoesNotExist":
            raise CliError(f"execution not found: {arn}", NOT_FOUND) from error
        raise


@dataclass
class Step:
    """One state entered: when, for how long, and how it ended."""

    name: str
    type: str
    started: dt.datetime
    ended: dt.datetime | None = None
    error: str | None = None
    cause: str | None = None
    attempts: int = 0
    failures: list[str] = field(default_factory=list)
    callback: bool = False
    """A callback wait (Completion events): it waits for SageMaker's event, not for a function."""
    safety_net: bool = False
    """A callback wait that no event ended within its timeout: the safety-net poll decides."""

    def seconds(self, now: dt.datetime) -> float:
        return ((self.ended or now) - self.started).total_seconds()

    def as_json(self, origin: dt.datetime) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "startedAt": self.started.isoformat(),
                "offsetSeconds": round((self.started - origin).total_seconds(), 3),
                "durationSeconds": None if self.ended is None else round(self.seconds(self.ended), 3),
                "attempts": self.attempts, "failures": self.failures, "error": self.error, "cause": self.cause,
                "callback": self.callback, "safetyNet": self.safety_net}


def steps(events: list[dict[str, Any]]) -> list[Step]:
    """The history as steps. A state entered again (a polling loop) is a new step each time. A task's
    failed attempts are listed on its step; its error is the last attempt's, kept only when no attempt
    succeeded (a failed state has no StateExited event: the next state entered, or the end, closes it)."""
    result: list[Step] = []
    open_steps: list[Step] = []

    def close(step: Step, stamp: dt.datetime, succeeded: bool) -> None:
        step.ended = stamp
        if succeeded:
            step.error = step.cause = None
        open_steps.remove(step)

    for event in events:
        kind = event["type"]
        details: dict[str, Any] = next((v for k, v in event.items() if k.endswith("EventDetails")), {})
        stamp = _as_datetime(event["timestamp"])
        if kind.endswith("StateEntered"):
            for step in [s for s in open_steps if s.type != "Parallel"]:
                close(step, stamp, succeeded=False)
            step = Step(name=details["name"], type=kind.removesuffix("StateEntered"), started=stamp)
            result.append(step)
            open_steps.append(step)
        elif kind.endswith("StateExited"):
            named = [s for s in open_steps if s.name == details.get("name")]
            if named:
                if named[-1].type == "Parallel":
                    for child in [s for s in open_steps if s is not named[-1]]:
                        close(child, stamp, succeeded=False)
                close(named[-1], stamp, succeeded=True)
        elif kind in ("LambdaFunctionScheduled", "TaskScheduled") and open_steps:
            open_steps[-1].attempts += 1
            # "TaskScheduledEventDetails": the resource of a callback task ends with its integration pattern.
            if str(details.get("resource", "")).endswith(CALLBACK_PATTERN):
                open_steps[-1].callback = True
        elif kind == "TaskTimedOut" and open_steps and open_steps[-1].callback:
            # Expected, not a failure: the state's Catch leads to the safety-net poll.
            open_steps[-1].safety_net = True
        elif kind.startswith(("LambdaFunction", "Task")) and kind.endswith(("Failed", "TimedOut")) and open_steps:
            step = open_steps[-1]
            step.error = str(details.get("error") or kind)
            step.cause = cause_message(details.get("cause"))
            step.failures.append(step.error)
        elif kind.startswith("Execution") and kind != "ExecutionStarted":
            for step in list(open_steps):
                close(step, stamp, succeeded=step.type in ("Succeed", "Fail") or kind == "ExecutionSucceeded")
    return result


def _json(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _as_datetime(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return dt.datetime.fromisoformat(str(value))


def _iso(value: Any) -> str | None:
    return None if value is None else _as_datetime(value).isoformat()
