"""Execute the workflow's ASL file on this machine, with no AWS account and no Docker.

moto's Step Functions interpreter runs the definition; every Lambda task is dispatched to the project's
own handler, in-process; SageMaker, Application Auto Scaling and CloudWatch are moto's, extended by
`offline.emulation`; the updates table is moto's DynamoDB. The definition is the same file the stack
deploys, rendered with the same placeholders (`statemachine.render`).

What EventBridge does around the workflow is emulated too: when an execution ends ABORTED, TIMED_OUT or
FAILED, `wait` delivers the "Step Functions Execution Status Change" event to the recovery function, as
the stack's rule would; `deliver` hands any event to a function the stack's rules target; `put_events`
sends events through moto's EventBridge, on the default bus or the request bus, with the stack's trigger
rules and their patterns (endpoint_updater.names), so only what the stack's rules match reaches the start
function. SageMaker's endpoint events, which the emulator sends as each endpoint changes status
(`offline.emulation.events`), go the same way on the clock's timers: PutEvents on the default bus at their
delivery moment, the stack's rule (`names.endpoint_event_pattern` with the runner's endpoint name patterns),
then the resume function, invoked as a rule's Lambda target is (asynchronously on AWS: retried twice on an
error). Their faults are switched with `endpoint_events.configure(...)`; `endpoint_event_deliveries` lists
what reached the function.

Time is emulated (`offline.virtual_clock`): Wait states and Retry intervals take no real time while the
caller waits for the workflow (`wait`, `wait_for_state`, `sleep`), and everything that reads time in the
workflow reads `runner.clock`. So do callback waits (`.waitForTaskToken`, answered with SendTaskSuccess or
SendTaskFailure, a token once) and Tasks that start an execution and wait for it (`states:startExecution.sync`,
`.sync:2`); `call_later` runs an action at a moment of emulated time. A parent stopped while such a Task waits
for its child stops the child too (it ends ABORTED), as Step Functions stops the job of a `.sync` Task whose
execution is stopped (the role it documents for the pattern has `states:StopExecution` on the child
executions for that: see `moto_seam.interpreter_time`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import importlib
import io
import json
import logging
import os
import threading
import time
import traceback
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import botocore.session
from moto import mock_aws

from endpoint_updater import names
from endpoint_updater.core import clock as functions_clock
from endpoint_updater.core.guardrails import Guardrails
from endpoint_updater.core.observability import metrics
from endpoint_updater.offline import emulation, moto_seam
from endpoint_updater.offline.virtual_clock import Timer, VirtualClock
from statemachine import (
    EVENT_FUNCTIONS,
    ROLLOUT_FUNCTIONS,
    TASK_FUNCTIONS,
    UPDATE_STATE_MACHINE_PLACEHOLDER,
    TaskFunction,
    read_definition,
    read_rollout_definition,
    render,
)

MOTO_CONFIG: Any = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
STATE_MACHINE_NAME = "endpoint-updater"
ROLLOUT_STATE_MACHINE_NAME = "endpoint-updater-rollout"
FUNCTION_PREFIX = "endpoint-updater-"
# The environment of every function, as the stack sets it (quieter logs, fewer SDK attempts so that the
# state machine's Retry is exercised).
UPDATES_TABLE_NAME = "endpoint-updater-updates"
REQUEST_BUS_NAME = "endpoint-updater-requests"
# moto's EventBridge has no Lambda target ("put_events": log groups, archives, SQS, other buses): the trigger
# rules send to this queue, and `put_events` hands what arrives there to the start function, as a Lambda
# target would.
TRIGGER_QUEUE_NAME = "endpoint-updater-trigger-deliveries"
# The same detour for the rule on SageMaker's endpoint events, whose target is the resume function.
ENDPOINT_EVENT_QUEUE_NAME = "endpoint-updater-endpoint-event-deliveries"
ENDPOINT_EVENTS_RULE = "EndpointStateChanged"
RESUME_FUNCTION = "resume_update"
# "How Lambda handles errors and retries with asynchronous invocation" (Lambda Developer Guide): a function
# error is retried twice, "with a one-minute wait between the first two attempts, and two minutes between the
# second and third attempts". A rule's Lambda target is invoked asynchronously.
ASYNC_RETRY_WAITS_SECONDS = (60.0, 120.0)
# A target without an input transformer gets the whole event (EventBridge User Guide, "Amazon EventBridge
# events": version, id, detail-type, source, account, time, region, resources, detail). moto's default target
# input leaves out `account`, which the start function records: this transformer gives every field back.
_EVENT_FIELDS = ("version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail")
WHOLE_EVENT = {
    "InputPathsMap": {field.replace("-", ""): f"$.{field}" for field in _EVENT_FIELDS},
    "InputTemplate": "{" + ", ".join(f'"{field}": ' + (f"<{field.replace('-', '')}>" if field in ("resources", "detail")
                                                       else f'"<{field.replace("-", "")}>"')
                                     for field in _EVENT_FIELDS) + "}",
}
FUNCTION_ENVIRONMENT = {"POWERTOOLS_SERVICE_NAME": names.SERVICE_NAME, "POWERTOOLS_LOG_LEVEL": "ERROR",
                        "AWS_RETRY_MODE": "standard", "AWS_MAX_ATTEMPTS": "2",
                        names.TABLE_ENV: UPDATES_TABLE_NAME, names.RETENTION_ENV: "30",
                        names.RESTORE_BACKOFF_ENV: "0.05"}
TERMINAL = frozenset(names.ENDED_STATUSES)
# The statuses the stack's recovery rule matches ("Step Functions Execution Status Change" events).
RECOVERED = frozenset(names.RECOVERED_STATUSES)
ALL_FUNCTIONS = TASK_FUNCTIONS + EVENT_FUNCTIONS + ROLLOUT_FUNCTIONS
# How long a runner that exits waits for each interpreter thread of a stopped execution to end (the step
# it is running finishes first).
THREAD_JOIN_SECONDS = 60.0


@dataclass
class Execution:
    """A finished (or still running) execution, as DescribeExecution and GetExecutionHistory show it."""

    arn: str
    status: str
    output: Any = None
    error: str | None = None
    cause: str | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    recovery: Any = None
    """What the recovery function answered to this execution's status-change event, if it was delivered."""
    children: list[Execution] = field(default_factory=list)
    """A rollout's update executions, each as `wait` left it (with its recovery answer)."""

    @property
    def states_entered(self) -> list[str]:
        return [e["stateEnteredEventDetails"]["name"] for e in self.events if e["type"].endswith("StateEntered")]

    @property
    def tasks_entered(self) -> list[str]:
        """The Task states entered, in order: the steps that ran a function (a refused request's failure
        handling enters Choice, Pass and Fail states, which change nothing)."""
        return [e["stateEnteredEventDetails"]["name"] for e in self.events if e["type"] == "TaskStateEntered"]

    @property
    def transitions(self) -> int:
        """State transitions as Step Functions bills them: one per state entered."""
        return len(self.states_entered)


@dataclass(frozen=True)
class EventDelivery:
    """One invocation of the resume function with an endpoint event the stack's rule matched."""

    event: dict[str, Any]
    at: float
    """The emulated moment (`clock.monotonic()`) it was invoked."""
    attempt: int
    """1, or 2 and 3 for Lambda's retries after an error."""
    answer: Any = None
    error: str | None = None
    """The exception's class name, when the function raised."""


@dataclass
class Crash:
    exception: Exception
    times: int


@dataclass
class Hook:
    action: Callable[[dict[str, Any]], None]
    skip: int


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

    def __init__(self, region: str = "us-east-1",
                 model_package_deployments: dict[str, dict[str, Any]] | None = None,
                 real_time: bool = False, update_request_source: str = names.DEFAULT_UPDATE_REQUEST_SOURCE,
                 guardrails: dict[str, Any] | None = None,
                 endpoint_name_patterns: tuple[str, ...] = ("*",)) -> None:
        """`real_time`: Wait states and Retry intervals take their real time (the demo, for a person to
        follow); by default they take none while the caller waits. `guardrails`: the change guardrail
        settings, as cdk.json's context names them (absent ones take their defaults).
        `endpoint_name_patterns`: the endpoints the stack's rule on SageMaker's endpoint events matches
        (the endpointNamePattern setting; every endpoint by default)."""
        self.region = region
        self.clock = VirtualClock(moto_seam.running_executions, jumps=not real_time)
        self.model_package_deployments = model_package_deployments or {}
        # Parsed here so that a bad setting fails as the synthesis would, before anything is deployed.
        self.guardrails = Guardrails.from_settings(guardrails or {})
        self.update_request_source = update_request_source
        self.request_bus = ""
        """The ARN of the bus update requests are sent to (the stack's UpdateRequestBusName output)."""
        self._trigger_queue = ""
        self.endpoint_name_patterns = tuple(endpoint_name_patterns)
        self._endpoint_event_queue = ""
        self._endpoint_event_lock = threading.Lock()
        self.endpoint_event_deliveries: list[EventDelivery] = []
        """Every invocation of the resume function with an endpoint event the rule matched, in order."""
        self.notifications: list[dict[str, Any]] = []
        """What the notification function published, in order: its answers (Subject) and the messages."""
        self.functions: dict[str, TaskFunction] = {}
        self.function_arns: dict[str, str] = {}
        self.calls: list[tuple[str, str]] = []
        """(function folder, "service:Operation") for every AWS call a handler made."""
        self._crashes: dict[str, Crash] = {}
        self._hooks: dict[str, Hook] = {}
        self._lock = threading.RLock()
        self._current = threading.local()
        self._stack = contextlib.ExitStack()
        self.state_machine_arn = ""
        self.rollout_state_machine_arn = ""
        self._recoveries: dict[str, Any] = {}
        self._notified: set[str] = set()
        self._first_thread = len(moto_seam.interpreter_threads())
        self._clients: dict[str, Any] = {}
        self._clients_lock = threading.Lock()

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
            try:
                # Pending timers are dropped first: an action would act on executions being stopped.
                self.clock.close()
            finally:
                self._stop_running_executions()
        finally:
            # With POWERTOOLS_METRICS_DISABLED (the command line's --local, the demo), Powertools' flush
            # neither prints nor clears what the functions added, so the shared buffer would carry this
            # emulator's metrics into the next one's first flush in the same process.
            metrics.clear_metrics()
            self._stack.close()

    def _start(self) -> None:
        logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)
        # Every function has the same environment, so it is set once for the runner's life: changing
        # os.environ per invocation would race with threads that read it (botocore does, for proxies).
        self._stack.enter_context(environment({"AWS_DEFAULT_REGION": self.region, "AWS_REGION": self.region,
                                                **FUNCTION_ENVIRONMENT}))
        self._stack.enter_context(mock_aws(config=MOTO_CONFIG))
        # mock_aws gives each emulated account a new default boto3 session, and a new session loads and
        # parses every service model again. One botocore session serves every runner in the process: it is
        # only used inside mock_aws, so the credentials it caches are the emulator's.
        boto3.setup_default_session(botocore_session=_botocore_session())
        self._stack.callback(self._clients.clear)
        emulation.install()
        emulation.reset()
        self._stack.callback(emulation.reset)
        importlib.import_module("endpoint_updater.core.aws").reset_clients()
        self._stack.enter_context(moto_seam.interpreter_time(self.clock.pause, lambda: self.clock.skipped,
                                                                self.clock.deadline))
        self._stack.enter_context(emulation.time_source(self.clock.monotonic, self.clock.utcnow))
        self._stack.enter_context(emulation.timers(self.clock.call_at))
        self._stack.enter_context(functions_clock.reading(self.clock.utcnow))
        self._stack.enter_context(moto_seam.lambda_invocations(self._invoke))
        self._stack.enter_context(moto_seam.aws_calls_observed(self._record_call))
        self._stack.enter_context(moto_seam.final_stop_and_timeout())
        self._stack.enter_context(moto_seam.task_tokens())
        self._stack.enter_context(moto_seam.step_functions_tasks())
        self._deploy()

    def _deploy(self) -> None:
        iam = boto3.client("iam", region_name=self.region)
        role = iam.create_role(RoleName="endpoint-updater-local", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        lam = boto3.client("lambda", region_name=self.region)
        _create_updates_table(self.region)
        topic = boto3.client("sns", region_name=self.region).create_topic(Name="endpoint-updater-notifications")
        # Set before any execution thread runs, as the stack sets them on the functions.
        self._stack.enter_context(environment({
            names.TOPIC_ENV: topic["TopicArn"],
            names.DEPLOYMENTS_ENV: json.dumps(self.model_package_deployments),
            names.GUARDRAILS_ENV: json.dumps(self.guardrails.to_settings())}))
        for task in ALL_FUNCTIONS:
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
        # The rollout state machine, as the stack deploys it: the same file, its functions' and the update state
        # machine's ARNs substituted.
        self.rollout_state_machine_arn = self.sfn.create_state_machine(
            name=ROLLOUT_STATE_MACHINE_NAME, roleArn=role, definition=render(read_rollout_definition(), {
                UPDATE_STATE_MACHINE_PLACEHOLDER: self.state_machine_arn,
                **{task.placeholder: self.function_arns[task.folder] for task in ROLLOUT_FUNCTIONS}}),
        )["stateMachineArn"]
        # Set before any execution thread runs; the start function reads it.
        self._stack.enter_context(environment({names.STATE_MACHINE_ENV: self.state_machine_arn}))
        account = boto3.client("sts", region_name=self.region).get_caller_identity()["Account"]
        self._deploy_triggers(account)
        self._deploy_endpoint_events(account)

    def _deploy_triggers(self, account: str) -> None:
        """The stack's trigger rules (infra/triggers.py), with the same patterns: update requests on the request
        bus from this account, approvals of the configured groups on the default bus."""
        events = self._client("events")
        queue = self._client("sqs").create_queue(QueueName=TRIGGER_QUEUE_NAME)["QueueUrl"]
        self._trigger_queue = queue
        queue_arn = f"arn:aws:sqs:{self.region}:{account}:{TRIGGER_QUEUE_NAME}"
        self.request_bus = events.create_event_bus(Name=REQUEST_BUS_NAME)["EventBusArn"]
        rules: list[tuple[str, str, dict[str, Any]]] = [
            ("UpdateRequested", REQUEST_BUS_NAME,
             names.update_request_pattern(self.update_request_source, [account]))]
        if self.model_package_deployments:
            rules.append(("ModelPackageApproved", "default",
                          names.package_approval_pattern(sorted(self.model_package_deployments), account)))
        for rule, bus, pattern in rules:
            events.put_rule(Name=rule, EventBusName=bus, EventPattern=json.dumps(pattern))
            events.put_targets(Rule=rule, EventBusName=bus, Targets=[
                {"Id": "StartUpdate", "Arn": queue_arn, "InputTransformer": WHOLE_EVENT}])

    def _deploy_endpoint_events(self, account: str) -> None:
        """The stack's rule on SageMaker's endpoint events (default bus, `names.endpoint_event_pattern`), and the
        emulator's events sent to it."""
        events = self._client("events")
        queue = self._client("sqs").create_queue(QueueName=ENDPOINT_EVENT_QUEUE_NAME)["QueueUrl"]
        self._endpoint_event_queue = queue
        events.put_rule(Name=ENDPOINT_EVENTS_RULE, EventBusName="default",
                        EventPattern=json.dumps(names.endpoint_event_pattern(list(self.endpoint_name_patterns))))
        events.put_targets(Rule=ENDPOINT_EVENTS_RULE, EventBusName="default", Targets=[
            {"Id": "ResumeUpdate", "Arn": f"arn:aws:sqs:{self.region}:{account}:{ENDPOINT_EVENT_QUEUE_NAME}",
             "InputTransformer": WHOLE_EVENT}])
        self._stack.enter_context(emulation.ENDPOINT_EVENTS.deliver_to(self._endpoint_event_arrives))

    @property
    def endpoint_events(self) -> emulation.EndpointEvents:
        """The emulator's endpoint events: their switches (`configure(...)`), what SageMaker sent (`sent`) and
        what the event bus received (`delivered`)."""
        return emulation.ENDPOINT_EVENTS

    def _endpoint_event_arrives(self, event: dict[str, Any]) -> None:
        """An endpoint event reaches EventBridge (on a timer's thread): PutEvents on the default bus, then the
        resume function for what the rule matched.

        On AWS only SageMaker can put an event with source `aws.sagemaker` (PutEvents refuses the `aws.` prefix
        to others, "PutEventsRequestEntry", Source); moto accepts it, which lets its rule matching decide, as
        the trigger rules do."""
        detail = event["detail"]
        answer = self._client("events").put_events(Entries=[{
            "Source": event["source"], "DetailType": event["detail-type"], "Detail": json.dumps(detail),
            "Resources": event["resources"],
            "Time": dt.datetime.strptime(event["time"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)}])
        if answer.get("FailedEntryCount"):
            raise ValueError(f"PutEvents refused an endpoint event: {answer['Entries']}")
        with self._endpoint_event_lock:
            matched = self._drain(self._endpoint_event_queue)
        for delivered in matched:
            self._resume(delivered, attempt=1)

    def _resume(self, event: dict[str, Any], attempt: int) -> None:
        at = self.clock.monotonic()
        try:
            delivery = EventDelivery(event, at, attempt, answer=self.deliver(RESUME_FUNCTION, event))
        except FunctionError as error:
            delivery = EventDelivery(event, at, attempt, error=error.error_type)
            if attempt <= len(ASYNC_RETRY_WAITS_SECONDS):
                self.clock.call_at(ASYNC_RETRY_WAITS_SECONDS[attempt - 1],
                                   lambda: self._resume(event, attempt + 1))
        with self._endpoint_event_lock:
            self.endpoint_event_deliveries.append(delivery)

    def put_events(self, entries: list[dict[str, Any]]) -> list[Any]:
        """PutEvents, then what the start function answered to each event the trigger rules matched, in order
        (raises `FunctionError` when it raised). An entry's EventBusName is `request_bus` or, when absent, the
        default bus."""
        answer = self._client("events").put_events(Entries=entries)
        if answer.get("FailedEntryCount"):
            raise ValueError(f"PutEvents refused entries: {answer['Entries']}")
        return [self.deliver("start_update", event) for event in self._drain(self._trigger_queue)]

    def _drain(self, queue: str) -> list[dict[str, Any]]:
        """The events a rule sent to one of the runner's delivery queues, in order, taken off the queue."""
        sqs = self._client("sqs")
        events: list[dict[str, Any]] = []
        while messages := sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", []):
            for message in messages:
                events.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
        return events

    @property
    def sfn(self) -> Any:
        return self._client("stepfunctions")

    def _client(self, service: str) -> Any:
        """One client per service for the runner's life: creating a boto3 client costs more than most calls."""
        with self._clients_lock:
            if service not in self._clients:
                self._clients[service] = boto3.client(service, region_name=self.region)
            return self._clients[service]

    # -- executions --------------------------------------------------------------------------------
    def start(self, workflow_input: dict[str, Any], name: str | None = None) -> str:
        return str(self.sfn.start_execution(
            stateMachineArn=self.state_machine_arn, name=name or f"local-{uuid.uuid4().hex[:16]}",
            input=json.dumps(workflow_input))["executionArn"])

    def start_rollout(self, rollout_input: dict[str, Any], name: str | None = None) -> str:
        """StartExecution of the rollout state machine."""
        return str(self.sfn.start_execution(
            stateMachineArn=self.rollout_state_machine_arn, name=name or f"rollout-{uuid.uuid4().hex[:12]}",
            input=json.dumps(rollout_input))["executionArn"])

    def run_rollout(self, rollout_input: dict[str, Any], name: str | None = None,
                    timeout: float = 300.0) -> Execution:
        return self.wait(self.start_rollout(rollout_input, name), timeout)

    def is_rollout(self, execution_arn: str) -> bool:
        return execution_arn.startswith(
            self.rollout_state_machine_arn.replace(":stateMachine:", ":execution:", 1) + ":")

    def children(self, execution_arn: str) -> list[str]:
        """The update executions a rollout started, in the order it started them, read from its history as AWS
        records them: each `startExecution.sync:2` task's TaskSubmitted event carries StartExecution's answer."""
        found: list[str] = []
        for event in self.history(execution_arn):
            details = event.get("taskSubmittedEventDetails")
            if event["type"] != "TaskSubmitted" or not details or details.get("resourceType") != "states":
                continue
            child = json.loads(details.get("output") or "{}").get("ExecutionArn")
            if child and child not in found:
                found.append(child)
        return found

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
             on_event: Callable[[dict[str, Any]], None] | None = None, recover: bool = True) -> Execution:
        """Let time pass until the execution ends; `on_event` sees each history event once, as it appears.
        `timeout` is in real seconds (a guard against a test that would hang).

        With `recover`, an execution that ended ABORTED, TIMED_OUT or FAILED has its status-change event
        delivered to the recovery function (once), and every ended execution to the notification function,
        as the stack's EventBridge rules do.
        """
        seen = 0
        status = ""

        def ended() -> bool:
            nonlocal seen, status
            status = self.sfn.describe_execution(executionArn=execution_arn)["status"]
            if on_event is not None:
                events = self.history(execution_arn)
                for event in events[seen:]:
                    on_event(event)
                seen = len(events)
            return status in TERMINAL

        if not self.clock.wait_for(ended, timeout):
            raise TimeoutError(f"execution {execution_arn} still {status} after {timeout} s")
        if self.is_rollout(execution_arn):
            # The stack's recovery and notification rules are on the update state machine: they see each of the
            # rollout's updates end (a stopped rollout's too: Step Functions stops them), not the rollout.
            rollout = self.describe(execution_arn)
            rollout.children = [self.wait(child, timeout, recover=recover) for child in self.children(execution_arn)]
            return rollout
        if recover and status in RECOVERED and execution_arn not in self._recoveries:
            try:
                answer = self.deliver("recover_scaling", self.status_change_event(execution_arn))
            except FunctionError as error:  # on AWS: retried twice by Lambda, then dropped
                answer = {"Recovered": False, "Error": error.error_type, "Message": str(error)}
            self._recoveries[execution_arn] = answer
        if recover and execution_arn not in self._notified:
            self._notified.add(execution_arn)
            self.notifications.append(self.deliver("notify_update", self.status_change_event(execution_arn)))
        execution = self.describe(execution_arn)
        execution.recovery = self._recoveries.get(execution_arn)
        return execution

    def published(self) -> list[dict[str, str | None]]:
        """Every message published to the notification topic, in order (what its subscribers receive)."""
        return [{"Subject": subject, "Message": message}
                for message, subject in moto_seam.published(os.environ[names.TOPIC_ENV], self.region)]

    def wait_for_state(self, execution_arn: str, state: str, timeout: float = 60.0,
                       wait_for_start: bool = False) -> None:
        """Let time pass until the execution has entered `state` (raises if it ends first). Time stops
        there: the execution is still in that state (or a Wait state right after it) when this returns.
        `wait_for_start`: the execution may not exist yet (a rollout starts it later)."""

        def entered() -> bool:
            if wait_for_start and not self._exists(execution_arn):
                return False
            if any(e["type"].endswith("StateEntered") and e["stateEnteredEventDetails"]["name"] == state
                   for e in self.history(execution_arn)):
                return True
            status = self.sfn.describe_execution(executionArn=execution_arn)["status"]
            if status in TERMINAL:
                raise RuntimeError(f"execution {execution_arn} ended {status} before entering {state}")
            return False

        if not self.clock.wait_for(entered, timeout):
            raise TimeoutError(f"execution {execution_arn} did not enter {state} within {timeout} s")

    def _exists(self, execution_arn: str) -> bool:
        try:
            self.sfn.describe_execution(executionArn=execution_arn)
        except self.sfn.exceptions.ExecutionDoesNotExist:
            return False
        return True

    def sleep(self, seconds: float) -> None:
        """Let `seconds` of emulated time pass, as `time.sleep` would in real time."""
        self.clock.sleep(seconds)

    def call_later(self, seconds: float, action: Callable[[], None]) -> Timer:
        """Run `action()` on a worker thread once `seconds` of emulated time from now have passed (at that
        real moment with `real_time`); returns a handle whose `cancel()` drops it. Timers still pending when
        the runner exits are dropped."""
        return self.clock.call_at(seconds, action)

    def run(self, workflow_input: dict[str, Any], name: str | None = None, timeout: float = 120.0) -> Execution:
        return self.wait(self.start(workflow_input, name), timeout)

    def stop(self, execution_arn: str) -> None:
        self._environment_of(execution_arn)
        self.sfn.stop_execution(executionArn=execution_arn, error="Stopped", cause="stopped by the local runner")

    def time_out(self, execution_arn: str) -> None:
        """The execution reaches the state machine's TimeoutSeconds now.

        The definition's TimeoutSeconds (hours) is left as deployed: the clock moves on to that moment
        (everything else running sees those hours pass too), and the execution ends TIMED_OUT, as on AWS
        without any Catch running.
        """
        self._environment_of(execution_arn)
        execution = next((e for e in moto_seam.running_executions() if e.arn == execution_arn), None)
        if execution is None:
            return
        timeout_at = self.clock.timeout_at(execution)
        if timeout_at is None:
            raise ValueError("the definition has no TimeoutSeconds")
        self.clock.advance(max(0.0, (timeout_at - self.clock.utcnow()).total_seconds()))

    def _environment_of(self, execution_arn: str, timeout: float = 30.0) -> Any:
        """The interpreter's environment of a started execution.

        moto's interpreter creates it in the execution's own thread, a moment after StartExecution has
        returned; a stop or a timeout set before then would be lost (moto's StopExecution fails on it and
        the execution runs on), so this waits for it.
        """
        deadline = time.monotonic() + timeout
        while True:
            env = moto_seam.environment(moto_seam.find_execution(execution_arn))
            if env is not None:
                return env
            if time.monotonic() > deadline:
                raise TimeoutError(f"execution {execution_arn} has not begun after {timeout} s")
            time.sleep(0.005)

    def status_change_event(self, execution_arn: str) -> dict[str, Any]:
        """The "Step Functions Execution Status Change" event EventBridge sends for the execution now."""
        described = self.sfn.describe_execution(executionArn=execution_arn)
        return {
            "version": "0", "id": str(uuid.uuid4()), "detail-type": "Step Functions Execution Status Change",
            "source": "aws.states", "account": execution_arn.split(":")[4], "region": self.region,
            "time": self.clock.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"), "resources": [execution_arn],
            "detail": {
                "executionArn": execution_arn, "stateMachineArn": self.state_machine_arn,
                "name": described["name"], "status": described["status"],
                "startDate": int(described["startDate"].timestamp() * 1000),
                "stopDate": int(described["stopDate"].timestamp() * 1000) if described.get("stopDate") else None,
                "input": described.get("input"), "output": described.get("output"),
                "inputDetails": {"included": True}, "error": described.get("error"), "cause": described.get("cause"),
            },
        }

    def deliver(self, folder: str, event: dict[str, Any]) -> Any:
        """Invoke a function as an EventBridge rule does (asynchronously on AWS; here, awaited). Returns its
        result; raises `FunctionError` when it raised."""
        answer = self._client("lambda").invoke(
            FunctionName=self.function_arns[folder], Payload=json.dumps(event).encode())
        payload = json.loads(answer["Payload"].read() or b"null")
        if answer.get("FunctionError"):
            raise FunctionError(payload.get("errorType", "Unknown"), payload.get("errorMessage", ""))
        return payload

    def _stop_running_executions(self) -> None:
        """Stop what still runs, and wait for the interpreter's threads to end.

        A thread left running would go on invoking the functions, and write into the next runner's
        emulated account (moto's backends are process-wide).
        """
        if not self.state_machine_arn:
            return
        # Every state machine of the account (tests deploy definitions of their own beside the workflow), rollouts
        # first: a rollout left running would start more updates.
        machines = [m["stateMachineArn"] for page in self.sfn.get_paginator("list_state_machines").paginate()
                    for m in page["stateMachines"]]
        machines.sort(key=lambda machine: machine != self.rollout_state_machine_arn)
        for machine in machines:
            pages = self.sfn.get_paginator("list_executions").paginate(
                stateMachineArn=machine, statusFilter="RUNNING")
            for execution in (e for page in pages for e in page["executions"]):
                self.stop(execution["executionArn"])
        for thread in moto_seam.interpreter_threads()[self._first_thread:]:
            thread.join(timeout=THREAD_JOIN_SECONDS)
            if thread.is_alive():
                raise RuntimeError(f"an interpreter thread ({thread.name}) still runs {THREAD_JOIN_SECONDS} s "
                                   "after its execution was stopped")

    # -- fault injection ---------------------------------------------------------------------------
    def crash(self, folder: str, exception: Exception | None = None, times: int = 1) -> None:
        """The next `times` invocations of that function raise instead of running its handler."""
        if folder not in {t.folder for t in ALL_FUNCTIONS}:
            raise ValueError(f"no task function {folder!r}")
        self._crashes[folder] = Crash(exception or RuntimeError(f"{folder} crashed (injected)"), times)

    def before_invoke(self, folder: str, action: Callable[[dict[str, Any]], None], skip: int = 0) -> None:
        """Run `action(event)` once, as that function's invocation number `skip` + 1 begins (before its
        handler runs). Tests use it to act at a precise moment: stop the execution while a step runs, or
        inject a fault meant for that step's own calls."""
        if folder not in {t.folder for t in ALL_FUNCTIONS}:
            raise ValueError(f"no function {folder!r}")
        self._hooks[folder] = Hook(action, skip)

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
                hook = self._hooks.get(task.folder)
                if hook is not None:
                    if hook.skip == 0:
                        del self._hooks[task.folder]
                        hook.action(event)
                    else:
                        hook.skip -= 1
                crash = self._crashes.get(task.folder)
                if crash is not None and crash.times > 0:
                    crash.times -= 1
                    raise crash.exception
                module = importlib.import_module(task.module)
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

    def _record_call(self, event_name: str) -> None:
        folder = getattr(self._current, "folder", None)
        if folder is not None:
            _, service, operation = event_name.split(".", 2)
            self.calls.append((folder, f"{service}:{operation}"))


class FunctionError(Exception):
    """A function invoked with `deliver` raised; `error_type` is its exception's class name."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(f"{error_type}: {message}")
        self.error_type = error_type


@functools.cache
def _botocore_session() -> botocore.session.Session:
    return botocore.session.get_session()


def _create_updates_table(region: str) -> None:
    """The updates table, with the key schema and TTL attribute the stack gives it."""
    store = importlib.import_module("endpoint_updater.core.store")
    dynamodb = boto3.client("dynamodb", region_name=region)
    dynamodb.create_table(
        TableName=UPDATES_TABLE_NAME, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": store.PARTITION_KEY, "KeyType": "HASH"},
                   {"AttributeName": store.SORT_KEY, "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": store.PARTITION_KEY, "AttributeType": "S"},
                              {"AttributeName": store.SORT_KEY, "AttributeType": "S"}])
    dynamodb.update_time_to_live(TableName=UPDATES_TABLE_NAME, TimeToLiveSpecification={
        "Enabled": True, "AttributeName": store.TTL_ATTRIBUTE})


@contextlib.contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
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


def _placeholder_zip() -> bytes:
    """The functions' code is dispatched in-process; the emulated Lambda service only needs a package."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README", "code runs in-process; see offline/runner.py")
    return buffer.getvalue()
