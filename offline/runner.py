"""Execute the workflow's ASL file on this machine, with no AWS account and no Docker.

moto's Step Functions interpreter runs the definition; every Lambda task is dispatched to the project's
own handler, in-process; SageMaker, Application Auto Scaling and CloudWatch are moto's, extended by
`offline.emulation`. The definition is the same file the stack deploys, rendered with the same
placeholders (`statemachine.render`).
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import logging
import os
import sys
import threading
import time
import traceback
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws
from moto.awslambda.models import LambdaBackend
from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.core.botocore_stubber import BotocoreStubber

from offline import emulation
from statemachine import TASK_FUNCTIONS, TaskFunction, read_definition, render

LAMBDAS_DIR = Path(__file__).resolve().parent.parent / "lambdas"
MOTO_CONFIG: Any = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
STATE_MACHINE_NAME = "endpoint-updater"
FUNCTION_PREFIX = "endpoint-updater-"
# The environment of every function, as the stack sets it (quieter logs, fewer SDK attempts so that the
# state machine's Retry is exercised).
FUNCTION_ENVIRONMENT = {"POWERTOOLS_SERVICE_NAME": "endpoint-updater", "POWERTOOLS_LOG_LEVEL": "ERROR",
                        "AWS_RETRY_MODE": "standard", "AWS_MAX_ATTEMPTS": "2"}
TERMINAL = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})


@dataclass
class Execution:
    """A finished (or still running) execution, as DescribeExecution and GetExecutionHistory show it."""

    arn: str
    status: str
    output: Any = None
    error: str | None = None
    cause: str | None = None
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def states_entered(self) -> list[str]:
        return [e["stateEnteredEventDetails"]["name"] for e in self.events if e["type"].endswith("StateEntered")]

    @property
    def transitions(self) -> int:
        """State transitions as Step Functions bills them: one per state entered."""
        return len(self.states_entered)


@dataclass
class Crash:
    exception: Exception
    times: int


class _LambdaContext:
    """What the Python runtime passes as `context`; Powertools' Logger reads these fields."""

    def __init__(self, function_name: str, function_arn: str) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = function_arn
        self.memory_limit_in_mb = 256
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + 300

    def get_remaining_time_in_millis(self) -> int:
        return int((self._deadline - time.monotonic()) * 1000)


class LocalRunner:
    """The workflow, deployed into an in-process emulated AWS account.

    Use as a context manager; everything it creates is gone when it exits. Executions still running
    then are stopped first, so that no interpreter thread outlives the emulator.
    """

    def __init__(self, region: str = "us-east-1") -> None:
        self.region = region
        self.functions: dict[str, TaskFunction] = {}
        self.function_arns: dict[str, str] = {}
        self.calls: list[tuple[str, str]] = []
        """(function folder, "service:Operation") for every AWS call a handler made."""
        self._crashes: dict[str, Crash] = {}
        self._lock = threading.RLock()
        self._current = threading.local()
        self._stack = contextlib.ExitStack()
        self.state_machine_arn = ""

    # -- lifecycle ---------------------------------------------------------------------------------
    def __enter__(self) -> LocalRunner:
        try:
            self._start()
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self._stop_running_executions()
        finally:
            self._stack.close()

    def _start(self) -> None:
        logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)
        if str(LAMBDAS_DIR) not in sys.path:
            sys.path.insert(0, str(LAMBDAS_DIR))
        # Every function has the same environment, so it is set once for the runner's life: changing
        # os.environ per invocation would race with threads that read it (botocore does, for proxies).
        self._stack.enter_context(_environment({"AWS_DEFAULT_REGION": self.region, "AWS_REGION": self.region,
                                                **FUNCTION_ENVIRONMENT}))
        self._stack.enter_context(mock_aws(config=MOTO_CONFIG))
        emulation.install()
        emulation.reset()
        self._stack.callback(emulation.reset)
        importlib.import_module("updater.aws").reset_clients()
        self._stack.enter_context(_patched(LambdaBackend, "invoke", self._invoke))
        self._stack.enter_context(_patched(LambdaSimpleBackend, "invoke", self._invoke))
        self._stack.enter_context(_patched(BotocoreStubber, "__call__", self._recording(BotocoreStubber.__call__)))
        self._deploy()

    def _deploy(self) -> None:
        iam = boto3.client("iam", region_name=self.region)
        role = iam.create_role(RoleName="endpoint-updater-local", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        lam = boto3.client("lambda", region_name=self.region)
        for task in TASK_FUNCTIONS:
            name = FUNCTION_PREFIX + task.folder.replace("_", "-")
            arn = lam.create_function(
                FunctionName=name, Runtime="python3.12", Role=role, Handler=task.handler,
                Code={"ZipFile": _placeholder_zip()}, Environment={"Variables": FUNCTION_ENVIRONMENT},
            )["FunctionArn"]
            self.functions[name] = task
            self.function_arns[task.folder] = arn
        definition = render(read_definition(), {
            task.placeholder: self.function_arns[task.folder] for task in TASK_FUNCTIONS})
        self.state_machine_arn = self.sfn.create_state_machine(
            name=STATE_MACHINE_NAME, definition=definition, roleArn=role)["stateMachineArn"]

    @property
    def sfn(self) -> Any:
        return boto3.client("stepfunctions", region_name=self.region)

    # -- executions --------------------------------------------------------------------------------
    def start(self, workflow_input: dict[str, Any], name: str | None = None) -> str:
        return str(self.sfn.start_execution(
            stateMachineArn=self.state_machine_arn, name=name or f"local-{uuid.uuid4().hex[:16]}",
            input=json.dumps(workflow_input))["executionArn"])

    def describe(self, execution_arn: str) -> Execution:
        described = self.sfn.describe_execution(executionArn=execution_arn)
        output = described.get("output")
        return Execution(
            arn=execution_arn, status=described["status"], output=json.loads(output) if output else None,
            error=described.get("error"), cause=described.get("cause"), events=self.history(execution_arn))

    def history(self, execution_arn: str) -> list[dict[str, Any]]:
        pages = self.sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn)
        return [event for page in pages for event in page["events"]]

    def wait(self, execution_arn: str, timeout: float = 120.0,
             on_event: Callable[[dict[str, Any]], None] | None = None) -> Execution:
        """Poll until the execution ends; `on_event` sees each history event once, as it appears."""
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            status = self.sfn.describe_execution(executionArn=execution_arn)["status"]
            if on_event is not None:
                events = self.history(execution_arn)
                for event in events[seen:]:
                    on_event(event)
                seen = len(events)
            if status in TERMINAL:
                return self.describe(execution_arn)
            if time.monotonic() > deadline:
                raise TimeoutError(f"execution {execution_arn} still {status} after {timeout} s")
            time.sleep(0.05)

    def run(self, workflow_input: dict[str, Any], name: str | None = None, timeout: float = 120.0) -> Execution:
        return self.wait(self.start(workflow_input, name), timeout)

    def stop(self, execution_arn: str) -> None:
        self.sfn.stop_execution(executionArn=execution_arn, error="Stopped", cause="stopped by the local runner")

    def _stop_running_executions(self) -> None:
        if not self.state_machine_arn:
            return
        pages = self.sfn.get_paginator("list_executions").paginate(
            stateMachineArn=self.state_machine_arn, statusFilter="RUNNING")
        for execution in (e for page in pages for e in page["executions"]):
            with contextlib.suppress(Exception):
                self.stop(execution["executionArn"])

    # -- fault injection ---------------------------------------------------------------------------
    def crash(self, folder: str, exception: Exception | None = None, times: int = 1) -> None:
        """The next `times` invocations of that function raise instead of running its handler."""
        if folder not in {t.folder for t in TASK_FUNCTIONS}:
            raise ValueError(f"no task function {folder!r}")
        self._crashes[folder] = Crash(exception or RuntimeError(f"{folder} crashed (injected)"), times)

    # -- the Lambda service, in-process ------------------------------------------------------------
    def _invoke(self, backend: Any, function_name: str, qualifier: str | None, body: Any, headers: Any,
                response_headers: dict[str, str]) -> bytes:
        """As the Python runtime does: the handler's return value as JSON, or an unhandled error."""
        name = function_name.split(":function:")[-1].split(":")[0]
        task = self.functions[name]
        event = json.loads(body) if body else {}
        with self._lock:
            previous = getattr(self._current, "folder", None)
            self._current.folder = task.folder
            try:
                crash = self._crashes.get(task.folder)
                if crash is not None and crash.times > 0:
                    crash.times -= 1
                    raise crash.exception
                module = importlib.import_module(f"{task.folder}.handler")
                result = module.handler(event, _LambdaContext(name, self.function_arns[task.folder]))
                payload = json.dumps(result).encode()
            except Exception as error:
                response_headers["x-amz-function-error"] = "Unhandled"
                payload = json.dumps({
                    "errorType": type(error).__name__, "errorMessage": str(error),
                    "stackTrace": traceback.format_tb(error.__traceback__)}).encode()
            finally:
                self._current.folder = previous
        response_headers["Content-Length"] = str(len(payload))
        return payload

    def _recording(self, original: Callable[..., Any]) -> Callable[..., Any]:
        runner = self

        def call(stubber: Any, event_name: str, request: Any, **kwargs: Any) -> Any:
            folder = getattr(runner._current, "folder", None)
            if folder is not None:
                _, service, operation = event_name.split(".", 2)
                runner.calls.append((folder, f"{service}:{operation}"))
            return original(stubber, event_name, request, **kwargs)

        return call


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextlib.contextmanager
def _patched(cls: type, attribute: str, replacement: Callable[..., Any]) -> Iterator[None]:
    original = cls.__dict__[attribute]
    setattr(cls, attribute, replacement if attribute == "__call__" else _as_method(replacement))
    try:
        yield
    finally:
        setattr(cls, attribute, original)


def _as_method(bound: Callable[..., Any]) -> Callable[..., Any]:
    def method(backend: Any, *args: Any, **kwargs: Any) -> Any:
        return bound(backend, *args, **kwargs)

    return method


def _placeholder_zip() -> bytes:
    """The functions' code is dispatched in-process; the emulated Lambda service only needs a package."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README", "code runs in-process; see offline/runner.py")
    return buffer.getvalue()
