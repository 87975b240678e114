"""The one place where the offline runner and the emulator reach into moto's private internals.

moto's public face (``mock_aws`` and the boto3 calls it answers) is not enough to run the workflow locally:
the runner dispatches Lambda invocations to our handlers, the emulator adds what moto's SageMaker and
Application Auto Scaling lack, and the virtual clock replaces the interpreter's sleeping. All of that
touches names moto does not promise to keep, so every such name is spelled here only (``REQUIRED``, the
emulator's ``PATCH_POINTS``, ``ADDED_POINTS`` and accessors), and :func:`check` verifies each of them, and
the version, before anything is patched.

The names were read in moto 5.2.5 (``MOTO_VERSION``, pinned exactly in pyproject.toml). Upgrading moto
means reading each function here against the new version's source, then changing ``MOTO_VERSION``.
Attributes of moto's model objects that hold their data (a backend's ``endpoints`` or ``policies``, an
endpoint's ``endpoint_status``) are read where they are used, as any extension of a backend must.
"""

from __future__ import annotations

import contextlib
import datetime as _datetime
import functools
import importlib
import importlib.metadata
import inspect
import json
import threading
import time as _time
import types
import uuid
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import botocore
import botocore.session

MOTO_VERSION = "5.2.5"

# Where moto's Step Functions interpreter lives (a port of LocalStack's).
_PARSER = "moto.stepfunctions.parser"
_WAIT = f"{_PARSER}.asl.component.state.wait.wait_function.wait_function"
_RETRIER = f"{_PARSER}.asl.component.common.retry.retrier_decl"
_ENVIRONMENT = f"{_PARSER}.asl.eval.environment"
# A step's TimeoutSeconds (`ExecutionState._evaluate_with_timeout` waits on a `threading.Event` for it), and
# the waits of a Task for its task token.
_EXECUTE_STATE = f"{_PARSER}.asl.component.state.exec.execute_state"
_TIMEOUT = f"{_PARSER}.asl.component.common.timeouts.timeout"
_CALLBACK_TASK = f"{_PARSER}.asl.component.state.exec.state_task.service.state_task_service_callback"
_CALLBACK = f"{_PARSER}.asl.eval.callback.callback"
_API = f"{_PARSER}.api"
# Where the interpreter starts threads: an execution's own, its program's, a step's (execute_state), a Parallel
# branch's and a Map iteration's.
_EXECUTION_WORKER = f"{_PARSER}.backend.execution_worker"
_PROGRAM = f"{_PARSER}.asl.component.program.program"
_BRANCH_WORKER = f"{_PARSER}.asl.component.state.exec.state_parallel.branch_worker"
_MAP_ITERATION = f"{_PARSER}.asl.component.state.exec.state_map.iteration.inline_iteration_component"
_SFN_TASK = f"{_PARSER}.asl.component.state.exec.state_task.service.state_task_service_sfn"
# Where the interpreter waits for those threads: a Parallel for its branches, a Map for its iterations.
_BRANCHES = f"{_PARSER}.asl.component.state.exec.state_parallel.branches_decl"
_MAP_JOBS = f"{_PARSER}.asl.component.state.exec.state_map.iteration.job"
_PROGRAM_STATE = f"{_PARSER}.asl.eval.program_state"
# The interpreter's modules that read the system clock with `datetime.datetime.now`: the execution's start
# and stop dates, history event timestamps, the context object's EnteredTime, Wait's Timestamp, and the
# stop dates of Parallel branches and Map runs.
_DATED_MODULES = (
    f"{_PARSER}.models",
    f"{_PARSER}.backend.execution",
    f"{_PARSER}.asl.eval.event.event_manager",
    f"{_PARSER}.asl.component.state.state",
    f"{_PARSER}.asl.component.state.wait.wait_function.timestamp",
    f"{_PARSER}.asl.component.state.exec.state_parallel.branches_decl",
    f"{_PARSER}.asl.component.state.exec.state_map.iteration.itemprocessor.map_run_record",
)
# StopExecution's stop date (moto's own Step Functions models, which the parser's backend extends).
_SFN_MODELS = "moto.stepfunctions.models"

# Every private name used, as (module, attribute path). check() resolves each one; the emulator's are
# added below, with its patch points.
REQUIRED: tuple[tuple[str, str], ...] = (
    (_WAIT, "WaitFunction._wait_interval"),
    (_RETRIER, "RetrierDecl._eval_body"),
    (_RETRIER, "time"),
    *((module, "datetime") for module in _DATED_MODULES),
    (_SFN_MODELS, "utcnow"),
    (f"{_PARSER}.models", "stepfunctions_parser_backends"),
    (f"{_PARSER}.models", "StepFunctionsParserBackend._get_executions"),
    (f"{_PARSER}.backend.execution", "Execution.exec_worker"),
    (f"{_PARSER}.backend.execution", "Execution.exec_status"),
    (_ENVIRONMENT, "Environment.set_error"),
    (_ENVIRONMENT, "Environment.set_timed_out"),
    (_ENVIRONMENT, "Environment.is_running"),
    (_ENVIRONMENT, "Environment.program_state"),
    (_ENVIRONMENT, "Environment._program_state"),
    (_ENVIRONMENT, "Environment._state_mutex"),
    (_PROGRAM_STATE, "ProgramStopped"),
    (_PROGRAM_STATE, "ProgramTimedOut"),
    (f"{_PARSER}.utils", "TMP_THREADS"),
    (_EXECUTE_STATE, "threading"),
    (_TIMEOUT, "TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS"),
    (_CALLBACK_TASK, "StateTaskServiceCallback._eval_wait_for_task_token"),
    (_CALLBACK_TASK, "StateTaskServiceCallback._eval_sync"),
    (_SFN_TASK, "StateTaskServiceSfn._build_sync_resolver"),
    (_SFN_TASK, "StateTaskServiceSfn._build_sync2_resolver"),
    (_SFN_TASK, "StateTaskServiceSfn._normalise_parameters"),
    (_SFN_TASK, "StateTaskServiceSfn._get_boto_service_action"),
    (_SFN_TASK, "StateTaskServiceSfn._to_boto_request"),
    (_SFN_TASK, "StateTaskServiceSfn._from_boto_response"),
    (_EXECUTE_STATE, "Thread"),
    (_EXECUTION_WORKER, "Thread"),
    (_EXECUTION_WORKER, "ExecutionWorker._execution_logic"),
    (_EXECUTION_WORKER, "ExecutionWorker._evaluation_details"),
    (_PROGRAM, "threading"),
    (_BRANCH_WORKER, "threading"),
    (_MAP_ITERATION, "threading"),
    (_BRANCHES, "threading"),
    (_MAP_JOBS, "threading"),
    (_CALLBACK, "CallbackEndpoint.get_outcome"),
    (_CALLBACK, "CallbackEndpoint.notify"),
    (_CALLBACK, "CallbackEndpoint.notify_heartbeat"),
    (_CALLBACK, "CallbackEndpoint.report"),
    (_CALLBACK, "CallbackEndpoint.consumer_error"),
    (_CALLBACK, "CallbackEndpoint.callback_id"),
    (_CALLBACK, "HeartbeatEndpoint._mutex"),
    (_CALLBACK, "HeartbeatEndpoint._next_heartbeat_event"),
    (_CALLBACK, "HeartbeatEndpoint._heartbeat_seconds"),
    (_CALLBACK, "CallbackOutcomeSuccess"),
    (_CALLBACK, "CallbackOutcomeFailure"),
    (_CALLBACK, "CallbackOutcomeTimedOut"),
    (_CALLBACK, "CallbackConsumerTimeout"),
    (_CALLBACK, "HeartbeatTimedOut"),
    (_CALLBACK, "CallbackPoolManager.get"),
    (_ENVIRONMENT, "Environment.callback_pool_manager"),
    (f"{_PARSER}.models", "StepFunctionsParserBackend.start_execution"),
    (f"{_PARSER}.models", "StepFunctionsParserBackend.send_task_success"),
    (f"{_PARSER}.models", "StepFunctionsParserBackend.send_task_failure"),
    (f"{_PARSER}.models", "StepFunctionsParserBackend.send_task_heartbeat"),
    (_API, "TaskTimedOut"),
    ("moto.stepfunctions.exceptions", "InvalidToken"),
    ("moto.stepfunctions.responses", "StepFunctionResponse.send_task_failure"),
    ("moto.core.responses", "EmptyResult"),
    ("moto.awslambda.models", "LambdaBackend.invoke"),
    ("moto.awslambda_simple.models", "LambdaSimpleBackend.invoke"),
    ("moto.core.botocore_stubber", "BotocoreStubber.__call__"),
)


class MotoChanged(RuntimeError):
    """The installed moto is not the one the offline runner and emulator were written against."""


def installed_version() -> str:
    try:
        return importlib.metadata.version("moto")
    except importlib.metadata.PackageNotFoundError:
        return "none"


def _resolve(module: str, path: str, installed: str | None = None) -> Any:
    """`module.path`, or MotoChanged naming what is missing, the expected and the installed version."""
    try:
        value: Any = importlib.import_module(module)
        for part in path.split("."):
            value = getattr(value, part) if not isinstance(value, type) else _class_attribute(value, part)
    except (ImportError, AttributeError) as error:
        raise MotoChanged(
            f"{module}.{path} is not in the installed moto {installed or installed_version()}; the offline "
            f"runner and emulator use it and were written against moto {MOTO_VERSION} (pinned in "
            "pyproject.toml): install that version, or port endpoint_updater/offline/moto_seam.py") from error
    return value


def _class_attribute(cls: type, name: str) -> Any:
    # Instance attributes that the class only annotates (exec_status, exec_worker) count as present.
    for klass in cls.__mro__:
        if name in klass.__dict__ or name in inspect.get_annotations(klass):
            return klass.__dict__.get(name)
    raise AttributeError(name)


def check(installed: str | None = None, required: Sequence[tuple[str, str]] | None = None) -> None:
    """Fail (MotoChanged) unless every private name resolves and the installed moto is MOTO_VERSION."""
    installed = installed or installed_version()
    for module, path in REQUIRED if required is None else required:
        _resolve(module, path, installed)
    if installed != MOTO_VERSION:
        raise MotoChanged(
            f"moto {installed} is installed; the offline runner and emulator were written against moto "
            f"{MOTO_VERSION} (pinned in pyproject.toml). Every private name they use is still there, but "
            "not necessarily with the same behaviour: install the pinned version, or port "
            "endpoint_updater/offline/moto_seam.py and change its MOTO_VERSION")


@functools.cache
def checked() -> None:
    """check(), once per process."""
    check()


@contextlib.contextmanager
def patched(owner: Any, name: str, value: Any) -> Iterator[None]:
    """`owner.name = value` until the block ends."""
    original = owner.__dict__[name]
    setattr(owner, name, value)
    try:
        yield
    finally:
        setattr(owner, name, original)


# -- time in the interpreter --------------------------------------------------------------------------------

Pause = Callable[[str, float | None, Callable[[], bool]], None]
"""pause(execution ARN, seconds, still_running): return once `seconds` of emulated time have passed, or
as soon as still_running() is False (the execution stopped or timed out); `seconds` None: no due moment."""


Deadline = Callable[[float, Callable[[float], bool]], bool]
"""deadline(seconds, done): wait until the step ends (True) or `seconds` of emulated time have passed (False),
without making the execution idle; `done(t)` waits at most `t` real seconds for the step's end."""


def execution_arn(env: Any) -> str:
    return str(env.states.context_object.context_object_data["Execution"]["Id"])


# The task tokens a Task is waiting for, with the interpreter's environment of that wait: once it has ended
# (the step timed out, the execution stopped), the token is closed even before the waiting thread has seen it.
_token_waits: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
# Answering a token and closing it happen under this lock, so that a token is answered at most once.
_token_lock = threading.Lock()


# The interpreter's threads, so that the clock knows which of an execution's threads are doing something. A
# thread blocked until other threads of the interpreter end (a step's thread for its Task's thread, a Parallel
# for its branches, a Map for its iterations, a program for its states) is not: the execution is idle when each
# of its other threads is paused. A thread blocked anywhere else counts as working (time does not jump).
_threads_lock = threading.Lock()
_live: set[threading.Thread] = set()
# A blocked thread, with what says it still waits (read with the lock held): once the thread it waits for has
# ended or signalled, it is working again, even before it has woken up.
_blocked: dict[threading.Thread, Callable[[], bool]] = {}
_parents: weakref.WeakKeyDictionary[threading.Thread, threading.Thread] = weakref.WeakKeyDictionary()
_roots: weakref.WeakKeyDictionary[threading.Thread, str] = weakref.WeakKeyDictionary()


@contextlib.contextmanager
def _waiting_for_threads(still_waiting: Callable[[], bool]) -> Iterator[None]:
    thread = threading.current_thread()
    with _threads_lock:
        _blocked[thread] = still_waiting
    try:
        yield
    finally:
        with _threads_lock:
            _blocked.pop(thread, None)


class _TrackedThread(threading.Thread):
    """A thread of the interpreter, known to the clock from `start()` until its target returns."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        with _threads_lock:
            _parents[self] = threading.current_thread()

    def start(self) -> None:
        with _threads_lock:
            _live.add(self)
        try:
            super().start()
        except BaseException:
            with _threads_lock:
                _live.discard(self)
            raise

    def run(self) -> None:
        try:
            super().run()
        finally:
            with _threads_lock:
                _live.discard(self)

    def join(self, timeout: float | None = None) -> None:
        with _waiting_for_threads(lambda: self in _live):
            super().join(timeout)


class _ThreadsEnded(threading.Event):
    """The event a Parallel waits on for its branches, and a Map for its iterations."""

    def wait(self, timeout: float | None = None) -> bool:
        with _waiting_for_threads(lambda: not self.is_set()):
            return super().wait(timeout)


def working_threads(execution_arn: str) -> list[threading.Thread]:
    """The threads of the execution that are not blocked until other threads of the interpreter end."""
    with _threads_lock:
        working = []
        for thread in _live:
            still_waiting = _blocked.get(thread)
            if still_waiting is not None and still_waiting():
                continue
            ancestor: threading.Thread | None = thread
            while ancestor is not None and ancestor not in _roots:
                ancestor = _parents.get(ancestor)
            if ancestor is not None and _roots[ancestor] == execution_arn:
                working.append(thread)
    return working


def _no_timeout(seconds: float) -> bool:
    """A step with no TimeoutSeconds: the interpreter gives it 99999999 s, the States Language's default.
    Taken as no due moment at all: the execution's own TimeoutSeconds, far sooner, is what ends it."""
    default: int = _resolve(_TIMEOUT, "TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS")
    return seconds >= default


@contextlib.contextmanager
def interpreter_time(pause: Pause, skew: Callable[[], float], deadline: Deadline) -> Iterator[None]:
    """While the block runs, moto's interpreter keeps time with an emulated clock.

    Wait states (Seconds, SecondsPath, Timestamp) and Retry intervals call `pause` instead of sleeping, and
    every date the interpreter records (the execution's start and stop dates, hence the context object's
    Execution.StartTime; history event timestamps; EnteredTime) is `skew()` seconds ahead of the system clock.

    A Task waiting for its task token (`.waitForTaskToken`) is a `pause` too, that ends when the token is
    answered (SendTaskSuccess, SendTaskFailure), at HeartbeatSeconds without a SendTaskHeartbeat, or when the
    execution stops; a step's TimeoutSeconds (or TimeoutSecondsPath) is a `deadline` on the same clock.

    A Task that starts an execution and waits for it (`states:startExecution.sync` and `.sync:2`) is a `pause`
    with no due moment that ends as soon as the child execution ends (moto polls it every half second of real
    time). If the parent stops waiting first (it was stopped, timed out, or the Task's TimeoutSeconds passed),
    the child is stopped: Step Functions' policy for the pattern gives the parent's role `states:StopExecution`
    on the child executions for that ("IAM policies for AWS Step Functions", Synchronous:
    https://docs.aws.amazon.com/step-functions/latest/dg/stepfunctions-iam.html), as it stops the job of any
    `.sync` Task whose execution is stopped. The docs leave the moment unstated; a child that runs on after the
    parent stopped would go on changing endpoints nobody watches, so this is the safer reading.

    Every thread the interpreter starts is tracked (`working_threads`), so that an execution running several
    states at once (Parallel branches, Map iterations) is idle only when each of them is paused.
    """
    checked()
    execute_state = importlib.import_module(_EXECUTE_STATE)
    callback_task = _resolve(_CALLBACK_TASK, "StateTaskServiceCallback")
    timed_out = _resolve(_CALLBACK, "CallbackOutcomeTimedOut")
    heartbeat_timed_out = _resolve(_CALLBACK, "HeartbeatTimedOut")
    consumer_timed_out = _resolve(_CALLBACK, "CallbackConsumerTimeout")

    class StepTimeout(threading.Event):
        """The event `_evaluate_with_timeout` waits on for the step's end, for TimeoutSeconds."""

        def wait(self, timeout: float | None = None) -> bool:
            with _waiting_for_threads(lambda: not self.is_set()):
                if timeout is None or _no_timeout(timeout):
                    return super().wait()
                return deadline(float(timeout), super().wait)

    def wait_for_task_token(self: Any, env: Any, timeout_seconds: float, callback_endpoint: Any,
                            heartbeat_endpoint: Any) -> Any:
        # moto waits on threading events in real time (CallbackEndpoint.wait, HeartbeatEndpoint.clear_and_wait);
        # this is the same wait on the emulated clock. The step's own TimeoutSeconds is also the deadline the
        # main interpreter thread waits for, which ends this wait (the frame stops running) a moment later.
        owner = execution_arn(env)
        with _token_lock:
            _token_waits[callback_endpoint] = env

        def open_() -> bool:
            return bool(env.is_running()) and callback_endpoint.get_outcome() is None

        outcome: Any = None
        if heartbeat_endpoint is None:
            pause(owner, None if _no_timeout(timeout_seconds) else float(timeout_seconds), open_)
        else:
            beat: threading.Event = heartbeat_endpoint._next_heartbeat_event
            while open_():
                pause(owner, float(heartbeat_endpoint._heartbeat_seconds), lambda: open_() and not beat.is_set())
                with heartbeat_endpoint._mutex:
                    received = beat.is_set()
                    beat.clear()
                if not received and open_():
                    outcome = heartbeat_timed_out()
                    break
        with _token_lock:
            answer = callback_endpoint.get_outcome()
            if answer is None:
                # The task is closed: a token sent now is refused (SendTaskSuccess: TaskTimedOut).
                callback_endpoint.report(consumer_timed_out())
        if answer is not None:
            return answer
        return outcome or timed_out(callback_id=callback_endpoint.callback_id)

    eval_sync_polling = callback_task.__dict__["_eval_sync"]

    def eval_sync(self: Any, env: Any, sync_resolver: Any, timeout_seconds: float, callback_endpoint: Any,
                  heartbeat_endpoint: Any) -> Any:
        child_arn = getattr(sync_resolver, "child_execution_arn", None)
        if child_arn is None:
            return eval_sync_polling(self, env, sync_resolver, timeout_seconds, callback_endpoint,
                                     heartbeat_endpoint)
        child = find_execution(child_arn)

        def child_running() -> bool:
            status = child.exec_status
            return status is None or getattr(status, "value", status) == "RUNNING"

        def answered() -> bool:
            # A .sync Task may also be ended with its own task token (SendTaskSuccess: "optionally Task states
            # using the job run pattern").
            return callback_endpoint is not None and callback_endpoint.get_outcome() is not None

        result: Any = None
        try:
            while env.is_running() and not answered():
                # DescribeExecution, output as the pattern returns it (moto's resolver).
                result = sync_resolver()
                if result:
                    break
                pause(execution_arn(env), None, lambda: env.is_running() and child_running() and not answered())
        finally:
            if callback_endpoint is not None:
                with _token_lock:
                    if callback_endpoint.get_outcome() is None:
                        callback_endpoint.report(consumer_timed_out())
            if not env.is_running() and child_running():
                _stop_child(child)
        return callback_endpoint.get_outcome() if answered() else result

    def child_resolver(build: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(self: Any, env: Any, *args: Any, **kwargs: Any) -> Any:
            # The StartExecution response is on the stack; the resolver takes it from there.
            child_arn = str(env.stack[-1]["ExecutionArn"])
            return _ChildResolver(build(self, env, *args, **kwargs), child_arn)

        return wrapped

    sfn_task = _resolve(_SFN_TASK, "StateTaskServiceSfn")
    execution_worker = _resolve(_EXECUTION_WORKER, "ExecutionWorker")
    execution_logic = execution_worker.__dict__["_execution_logic"]

    def execution_logic_tracked(self: Any) -> None:
        with _threads_lock:
            _roots[threading.current_thread()] = str(self._evaluation_details.execution_details.arn)
        execution_logic(self)
    wait_function = _resolve(_WAIT, "WaitFunction")
    retrier = _resolve(_RETRIER, "RetrierDecl")
    retrier_module = importlib.import_module(_RETRIER)
    sfn_models = importlib.import_module(_SFN_MODELS)
    retrying = threading.local()

    def wait_interval(self: Any, env: Any, wait_seconds: float) -> None:
        # moto waits on env.program_state_event, which a stop or a timeout sets; `is_running` says the same.
        pause(execution_arn(env), wait_seconds, env.is_running)

    eval_retrier = retrier.__dict__["_eval_body"]

    def eval_retrier_body(self: Any, env: Any) -> None:
        previous = getattr(retrying, "env", None)
        retrying.env = env
        try:
            eval_retrier(self, env)
        finally:
            retrying.env = previous

    def retry_sleep(seconds: float) -> None:
        env = getattr(retrying, "env", None)
        if env is None:
            _time.sleep(seconds)
        else:
            pause(execution_arn(env), seconds, env.is_running)

    moto_utcnow = sfn_models.utcnow

    with contextlib.ExitStack() as stack:
        stack.enter_context(patched(execute_state, "threading", _module_copy(threading, Event=StepTimeout)))
        stack.enter_context(patched(execute_state, "Thread", _TrackedThread))
        stack.enter_context(patched(importlib.import_module(_EXECUTION_WORKER), "Thread", _TrackedThread))
        for name in (_PROGRAM, _BRANCH_WORKER, _MAP_ITERATION):
            stack.enter_context(patched(importlib.import_module(name), "threading",
                                        _module_copy(threading, Thread=_TrackedThread)))
        for name in (_BRANCHES, _MAP_JOBS):
            stack.enter_context(patched(importlib.import_module(name), "threading",
                                        _module_copy(threading, Event=_ThreadsEnded)))
        stack.enter_context(patched(execution_worker, "_execution_logic", execution_logic_tracked))
        stack.enter_context(patched(callback_task, "_eval_wait_for_task_token", wait_for_task_token))
        stack.enter_context(patched(callback_task, "_eval_sync", eval_sync))
        for name in ("_build_sync_resolver", "_build_sync2_resolver"):
            stack.enter_context(patched(sfn_task, name, child_resolver(sfn_task.__dict__[name])))
        stack.enter_context(patched(wait_function, "_wait_interval", wait_interval))
        stack.enter_context(patched(retrier, "_eval_body", eval_retrier_body))
        stack.enter_context(patched(retrier_module, "time", _module_copy(_time, sleep=retry_sleep)))
        dated = _module_copy(_datetime, datetime=_skewed_datetime(skew))
        for name in _DATED_MODULES:
            stack.enter_context(patched(importlib.import_module(name), "datetime", dated))
        stack.enter_context(patched(sfn_models, "utcnow",
                                    lambda: moto_utcnow() + _datetime.timedelta(seconds=skew())))
        yield


@contextlib.contextmanager
def step_functions_tasks() -> Iterator[None]:
    """Task states that call Step Functions itself (`arn:aws:states:::states:startExecution` and its `.sync`,
    `.sync:2` forms) send and answer what Step Functions does.

    Their parameters are written in PascalCase (`StateMachineArn`, `Input`, `Name`) and their results come back
    in PascalCase (`ExecutionArn`, `StartDate`; with `.sync:2`, DescribeExecution's fields with `Input` and
    `Output` as JSON): "Start a new AWS Step Functions state machine from a running execution"
    (https://docs.aws.amazon.com/step-functions/latest/dg/connect-stepfunctions.html) and "Start workflow
    executions from a task state" (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-nested-workflows.html);
    the SDK's names are camelCase (botocore model stepfunctions 2016-11-23, StartExecutionInput,
    DescribeExecutionOutput). moto 5.2.5 maps neither way (its `StateTaskService._normalise_parameters` and
    `_normalise_response` do nothing), so botocore refuses `StateMachineArn` and no such Task can run; this
    maps both ways with moto's own helpers and botocore's model of the operation.

    StartExecution without a name names the execution with a UUID ("If you don't provide a name for the
    execution, Step Functions automatically generates a universally unique identifier (UUID) as the execution
    name": StartExecution, request parameter `name`,
    https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html); moto names it
    "None", so a second one fails with ExecutionAlreadyExists.
    """
    sfn_task = _resolve(_SFN_TASK, "StateTaskServiceSfn")
    sfn_normalise_parameters = sfn_task.__dict__["_normalise_parameters"]
    backend = _resolve(f"{_PARSER}.models", "StepFunctionsParserBackend")
    start_execution = backend.__dict__["start_execution"]

    def start_named_execution(self: Any, state_machine_arn: str, name: Any = None, execution_input: Any = None,
                              trace_header: Any = None) -> Any:
        return start_execution(self, state_machine_arn, name or str(uuid.uuid4()), execution_input, trace_header)

    def normalise_parameters(self: Any, parameters: dict[str, Any], boto_service_name: str | None = None,
                             service_action_name: str | None = None) -> None:
        # moto's own step first: the Input becomes a JSON string.
        sfn_normalise_parameters(self, parameters, boto_service_name, service_action_name)
        self._to_boto_request(parameters, _sfn_operation(self._get_boto_service_action(service_action_name))
                              .input_shape)

    def normalise_response(self: Any, response: Any, boto_service_name: str | None = None,
                           service_action_name: str | None = None) -> None:
        self._from_boto_response(response, _sfn_operation(self._get_boto_service_action(service_action_name))
                                 .output_shape)

    with contextlib.ExitStack() as stack:
        stack.enter_context(patched(backend, "start_execution", start_named_execution))
        stack.enter_context(patched(sfn_task, "_normalise_parameters", normalise_parameters))
        stack.enter_context(added(sfn_task, "_normalise_response", normalise_response))
        yield


@functools.cache
def _sfn_operations() -> dict[str, Any]:
    model = botocore.session.get_session().get_service_model("stepfunctions")
    return {botocore.xform_name(name): model.operation_model(name) for name in model.operation_names}


def _sfn_operation(snake_name: str) -> Any:
    return _sfn_operations()[snake_name]


@contextlib.contextmanager
def added(owner: Any, name: str, value: Any) -> Iterator[None]:
    """`owner.name = value` until the block ends, where `owner` only inherits `name`."""
    if name in owner.__dict__:
        raise MotoChanged(f"{owner.__name__}.{name} is defined by the installed moto; "
                          "port endpoint_updater/offline/moto_seam.py")
    setattr(owner, name, value)
    try:
        yield
    finally:
        delattr(owner, name)


class _ChildResolver:
    """moto's resolver of a Task waiting for an execution it started, with that execution's ARN."""

    def __init__(self, resolve: Callable[[], Any], child_execution_arn: str) -> None:
        self._resolve = resolve
        self.child_execution_arn = child_execution_arn

    def __call__(self) -> Any:
        return self._resolve()


def _stop_child(child: Any, timeout: float = 30.0) -> None:
    """Stop an execution started by a Task that no longer waits for it (as StopExecution does)."""
    deadline = _time.monotonic() + timeout
    # Its environment exists a moment after it started; a stop set before then would be lost.
    while environment(child) is None and _time.monotonic() < deadline:
        _time.sleep(0.005)
    env = environment(child)
    if env is not None:
        with env._state_mutex:
            if env.is_running():
                # The stop date as moto's StopExecution dates it (on the emulated clock while the runner runs).
                child.stop(stop_date=importlib.import_module(_SFN_MODELS).utcnow(), error=None, cause=None)


def _module_copy(module: types.ModuleType, **replaced: Any) -> types.ModuleType:
    copy = types.ModuleType(module.__name__)
    copy.__dict__.update(module.__dict__)
    copy.__dict__.update(replaced)
    return copy


def _skewed_datetime(skew: Callable[[], float]) -> type[_datetime.datetime]:
    class EmulatedDateTime(_datetime.datetime):
        @classmethod
        def now(cls, tz: _datetime.tzinfo | None = None) -> _datetime.datetime:  # type: ignore[override]
            return _datetime.datetime.now(tz) + _datetime.timedelta(seconds=skew())

    return EmulatedDateTime


# -- executions -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunningExecution:
    """An execution that has not ended (it may not have begun yet)."""

    arn: str
    started: _datetime.datetime
    timeout_seconds: float | None
    """The definition's TimeoutSeconds."""
    _execution: Any

    def working_threads(self) -> list[threading.Thread]:
        """Its threads that are not waiting for other threads of it: it is idle when each of them is paused."""
        return working_threads(self.arn)

    def time_out(self) -> None:
        """What the interpreter does once TimeoutSeconds have passed: the execution ends TIMED_OUT."""
        env = environment(self._execution)
        if env is None:
            return
        with env._state_mutex:
            if env.is_running():
                env.set_timed_out()


def _executions() -> Iterator[Any]:
    backends = _resolve(f"{_PARSER}.models", "stepfunctions_parser_backends")
    for account in list(dict.values(backends)):
        for backend in list(dict.values(account)):
            yield from backend._get_executions()


def running_executions() -> list[RunningExecution]:
    running = []
    for execution in _executions():
        status = execution.exec_status
        if status is not None and getattr(status, "value", status) != "RUNNING":
            continue
        running.append(RunningExecution(execution.exec_arn, execution.start_date,
                                        _timeout_seconds(execution.state_machine.definition), execution))
    return running


@functools.lru_cache(maxsize=16)
def _timeout_seconds(definition: str) -> float | None:
    value = json.loads(definition).get("TimeoutSeconds")
    return None if value is None else float(value)


def find_execution(execution_arn: str) -> Any:
    """moto's execution object (LookupError when there is none)."""
    execution = next((e for e in _executions() if e.exec_arn == execution_arn), None)
    if execution is None:
        raise LookupError(f"no execution {execution_arn}")
    return execution


def environment(execution: Any) -> Any:
    """The interpreter's environment of a moto execution; None until its thread has created it and begun
    the program in it. Until then a stop or a timeout would be lost: `Environment.set_stop` acts on a
    running program only, and the thread creates the environment a moment before it starts the program."""
    worker = execution.exec_worker
    env = None if worker is None else worker.env
    if env is None or env._program_state is None:
        return None
    return env


def interpreter_threads() -> list[threading.Thread]:
    """Every thread moto's interpreter has started in this process, oldest first (the list only grows)."""
    threads: list[threading.Thread] = _resolve(f"{_PARSER}.utils", "TMP_THREADS")
    return threads


@contextlib.contextmanager
def final_stop_and_timeout() -> Iterator[None]:
    """An execution stopped (StopExecution) or timed out keeps that status.

    On AWS an execution ends ABORTED once StopExecution has stopped it, and TIMED_OUT once it reached its
    TimeoutSeconds; neither changes afterwards (StopExecution, DescribeExecution `status`:
    https://docs.aws.amazon.com/step-functions/latest/apireference/API_StopExecution.html,
    https://docs.aws.amazon.com/step-functions/latest/apireference/API_DescribeExecution.html). moto's
    interpreter lets an error raised afterwards by the step that was running (for example a stop landing
    while a Task state is being set up) turn it into FAILED.
    """
    env_class = _resolve(_ENVIRONMENT, "Environment")
    final = (_resolve(_PROGRAM_STATE, "ProgramStopped"), _resolve(_PROGRAM_STATE, "ProgramTimedOut"))
    set_error = env_class.__dict__["set_error"]

    def guarded(env: Any, error: Any) -> None:
        with env._state_mutex:
            if isinstance(env.program_state(), final):
                return
            set_error(env, error)

    with patched(env_class, "set_error", guarded):
        yield


@contextlib.contextmanager
def task_tokens() -> Iterator[None]:
    """A task token is answered once, while its Task waits for it, as Step Functions does.

    SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat refuse a token whose task has been closed (answered
    already, timed out, or its execution ended) with TaskTimedOut: "The task token has either expired or the
    task associated with the token has already been closed" (SendTaskSuccess, Errors:
    https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskSuccess.html; botocore model
    stepfunctions 2016-11-23, shape TaskTimedOut), and a token no task has issued with InvalidToken ("The
    provided token is not valid"). moto 5.2.5 accepts every answer to a token it knows, any number of times,
    also after its task timed out (the answer is then lost), looks at running executions only, and answers
    its own errors here without their code (its error classes are named by `exception_type`).
    SendTaskHeartbeat for an open task with no HeartbeatSeconds is accepted and changes nothing. SendTaskFailure
    keeps its `cause`, which moto's request handler drops (SendTaskFailure request parameters: error, cause,
    taskToken).
    """
    backend = _resolve(f"{_PARSER}.models", "StepFunctionsParserBackend")
    response = _resolve("moto.stepfunctions.responses", "StepFunctionResponse")
    success = _resolve(_CALLBACK, "CallbackOutcomeSuccess")
    failure = _resolve(_CALLBACK, "CallbackOutcomeFailure")
    task_timed_out = _resolve(_API, "TaskTimedOut")
    invalid_token = _resolve("moto.stepfunctions.exceptions", "InvalidToken")

    def answer(self: Any, token: str, outcome: Any) -> None:
        for execution in self._get_executions():
            worker = execution.exec_worker
            env = None if worker is None else worker.env
            endpoint = None if env is None else env.callback_pool_manager.get(token)
            if env is None or endpoint is None:
                continue
            with _token_lock:
                waiting = _token_waits.get(endpoint)
                if (endpoint.get_outcome() is not None or endpoint.consumer_error is not None
                        or not env.is_running() or (waiting is not None and not waiting.is_running())):
                    raise task_timed_out("Task Timed Out: the task token has expired or its task is closed",
                                         "TaskTimedOut")
                if outcome is None:
                    endpoint.notify_heartbeat()
                else:
                    endpoint.notify(outcome)
            return
        raise invalid_token("no task has issued this token")

    def send_task_success(self: Any, task_token: str, outcome: str) -> None:
        answer(self, task_token, success(callback_id=task_token, output=outcome))

    def send_task_failure(self: Any, task_token: str, error: Any = None, cause: Any = None) -> None:
        answer(self, task_token, failure(callback_id=task_token, error=error, cause=cause))

    def send_task_heartbeat(self: Any, task_token: str) -> None:
        answer(self, task_token, None)

    def send_task_failure_request(handler: Any) -> Any:
        handler.stepfunction_backend.send_task_failure(
            handler._get_param("taskToken"), error=handler._get_param("error"), cause=handler._get_param("cause"))
        return _resolve("moto.core.responses", "EmptyResult")()

    with contextlib.ExitStack() as stack:
        stack.enter_context(patched(backend, "send_task_success", send_task_success))
        stack.enter_context(patched(backend, "send_task_failure", send_task_failure))
        stack.enter_context(patched(backend, "send_task_heartbeat", send_task_heartbeat))
        stack.enter_context(patched(response, "send_task_failure", send_task_failure_request))
        yield


# -- Lambda invocations and AWS calls ---------------------------------------------------------------------

Invoke = Callable[[Any, str, str | None, Any, Any, dict[str, str]], bytes]
"""invoke(backend, function_name, qualifier, body, headers, response_headers) -> payload, as moto's Lambda
backends define it; response_headers takes `x-amz-function-error` for an unhandled error."""


@contextlib.contextmanager
def lambda_invocations(invoke: Invoke) -> Iterator[None]:
    """Every Lambda invocation (the interpreter's Task states, boto3's Invoke) is answered by `invoke`.

    moto runs function code only in Docker; both of its Lambda backends are replaced."""
    with contextlib.ExitStack() as stack:
        for module, name in (("moto.awslambda.models", "LambdaBackend"),
                             ("moto.awslambda_simple.models", "LambdaSimpleBackend")):
            stack.enter_context(patched(_resolve(module, name), "invoke", _as_method(invoke)))
        yield


def _as_method(function: Callable[..., Any]) -> Callable[..., Any]:
    def method(backend: Any, *args: Any, **kwargs: Any) -> Any:
        return function(backend, *args, **kwargs)

    return method


@contextlib.contextmanager
def aws_calls_observed(observe: Callable[[str], None]) -> Iterator[None]:
    """`observe(event_name)` ("before-send.<service>.<Operation>") for every request boto3 sends to moto."""
    stubber = _resolve("moto.core.botocore_stubber", "BotocoreStubber")
    original = stubber.__dict__["__call__"]

    def call(self: Any, event_name: str, request: Any, **kwargs: Any) -> Any:
        observe(event_name)
        return original(self, event_name, request, **kwargs)

    with patched(stubber, "__call__", call):
        yield


# -- the services the emulator extends ------------------------------------------------------------------

_SM_MODELS = "moto.sagemaker.models"
_SM_RESPONSES = "moto.sagemaker.responses"
_AAS_MODELS = "moto.applicationautoscaling.models"
_AAS_RESPONSES = "moto.applicationautoscaling.responses"

# What the emulator replaces in moto, by the emulator's name for it: (module, attribute path). Each one is
# replaced once per process, by `replace`, with a function of moto's original.
PATCH_POINTS: dict[str, tuple[str, str]] = {
    "sagemaker.DescribeEndpoint": (_SM_MODELS, "SageMakerModelBackend.describe_endpoint"),
    "sagemaker.CreateEndpoint": (_SM_MODELS, "SageMakerModelBackend.create_endpoint"),
    "sagemaker.UpdateEndpointWeightsAndCapacities": (
        _SM_MODELS, "SageMakerModelBackend.update_endpoint_weights_and_capacities"),
    "sagemaker.ListEndpoints": (_SM_MODELS, "SageMakerModelBackend.list_endpoints"),
    "sagemaker.DescribeEndpointConfig": (_SM_MODELS, "SageMakerModelBackend.describe_endpoint_config"),
    "sagemaker.CreateEndpointConfig request": (_SM_RESPONSES, "SageMakerResponse.create_endpoint_config"),
    "autoscaling.RegisterScalableTarget": (_AAS_MODELS, "ApplicationAutoscalingBackend.register_scalable_target"),
    "autoscaling.DeregisterScalableTarget": (
        _AAS_MODELS, "ApplicationAutoscalingBackend.deregister_scalable_target"),
    "autoscaling.PutScalingPolicy": (_AAS_MODELS, "ApplicationAutoscalingBackend.put_scaling_policy"),
    "autoscaling.DeleteScalingPolicy": (_AAS_MODELS, "ApplicationAutoscalingBackend.delete_scaling_policy"),
    "autoscaling.PutScheduledAction": (_AAS_MODELS, "ApplicationAutoscalingBackend.put_scheduled_action"),
    "autoscaling.DeleteScheduledAction": (_AAS_MODELS, "ApplicationAutoscalingBackend.delete_scheduled_action"),
    "autoscaling.target parameters check": (_AAS_MODELS, "_target_params_are_valid"),
    "autoscaling.DescribeScalingPolicies request": (
        _AAS_RESPONSES, "ApplicationAutoScalingResponse.describe_scaling_policies"),
    "autoscaling.request parameters check": (_AAS_RESPONSES, "ApplicationAutoScalingResponse._validate_params"),
    "autoscaling.RegisterScalableTarget request": (
        _AAS_RESPONSES, "ApplicationAutoScalingResponse.register_scalable_target"),
    "sagemaker.production variants check": (_SM_MODELS, "SageMakerModelBackend.validate_production_variants"),
    "autoscaling.policy alarms created": (_AAS_MODELS, "FakeApplicationAutoscalingPolicy.create_alarms"),
    "autoscaling.policy Alarms listed": (_AAS_RESPONSES, "_build_alarms"),
    "every service.request handling": ("moto.core.responses", "BaseResponse.call_action"),
}

# What the emulator adds to moto: the owner must exist, the attribute need not (moto lacks the API).
ADDED_POINTS: dict[str, tuple[str, str]] = {
    "sagemaker.UpdateEndpoint": (_SM_MODELS, "SageMakerModelBackend.update_endpoint"),
    "sagemaker.UpdateEndpoint request": (_SM_RESPONSES, "SageMakerResponse.update_endpoint"),
    "sagemaker.CreateInferenceComponent request": (_SM_RESPONSES, "SageMakerResponse.create_inference_component"),
    "sagemaker.ListInferenceComponents request": (_SM_RESPONSES, "SageMakerResponse.list_inference_components"),
    "autoscaling.ListTagsForResource request": (
        _AAS_RESPONSES, "ApplicationAutoScalingResponse.list_tags_for_resource"),
    "autoscaling.TagResource request": (_AAS_RESPONSES, "ApplicationAutoScalingResponse.tag_resource"),
    "autoscaling.UntagResource request": (_AAS_RESPONSES, "ApplicationAutoScalingResponse.untag_resource"),
}

_NAMES: dict[str, tuple[str, str]] = {
    "sagemaker backends": (_SM_MODELS, "sagemaker_backends"),
    "sagemaker endpoint": (_SM_MODELS, "FakeEndpoint"),
    "sagemaker endpoint config": (_SM_MODELS, "FakeEndpointConfig"),
    "sagemaker ValidationError": ("moto.sagemaker.exceptions", "ValidationError"),
    "autoscaling backends": (_AAS_MODELS, "applicationautoscaling_backends"),
    "autoscaling policy key": (_AAS_MODELS, "FakeApplicationAutoscalingPolicy.formulate_key"),
    "autoscaling resource type": (_AAS_MODELS, "_get_resource_type_from_resource_id"),
    "autoscaling policy description": (_AAS_RESPONSES, "_build_policy"),
    "autoscaling ValidationException": ("moto.applicationautoscaling.exceptions", "AWSValidationException"),
    "cloudwatch backends": ("moto.cloudwatch.models", "cloudwatch_backends"),
    "sns backends": ("moto.sns.models", "sns_backends"),
    "json error": ("moto.core.exceptions", "JsonRESTError"),
    "service error": ("moto.core.exceptions", "ServiceException"),
    "action result": ("moto.core.responses", "ActionResult"),
    "common error codes": ("moto.core.errors", "COMMON_ERROR_CODES"),
    "utcnow": ("moto.core.utils", "utcnow"),
    "response serialized": ("moto.core.responses", "BaseResponse.serialized"),
    "response enriched": ("moto.core.responses", "BaseResponse._enrich_response"),
    "response action": ("moto.core.responses", "BaseResponse._get_action"),
    "response parameter": ("moto.core.responses", "BaseResponse._get_param"),
}

REQUIRED = (*REQUIRED, *PATCH_POINTS.values(), *_NAMES.values(),
            *((module, path.rpartition(".")[0]) for module, path in ADDED_POINTS.values()))
_replaced: set[str] = set()
_replace_lock = threading.Lock()


def _name(key: str) -> Any:
    return _resolve(*_NAMES[key])


def replace(point: str, make: Callable[[Any], Any]) -> None:
    """moto's `point` (a PATCH_POINTS or ADDED_POINTS key) becomes `make(original)` for the rest of the
    process (`original` is None for an added point); a point already replaced is left as it is (the
    emulator's install is idempotent)."""
    checked()
    module, path = PATCH_POINTS.get(point) or ADDED_POINTS[point]
    with _replace_lock:
        if point in _replaced:
            return
        owner_path, _, name = path.rpartition(".")
        owner = _resolve(module, owner_path) if owner_path else importlib.import_module(module)
        original = _resolve(module, path) if point in PATCH_POINTS else None
        setattr(owner, name, make(original))
        _replaced.add(point)


def sagemaker_backends() -> Iterator[Any]:
    """Every SageMaker backend moto has made (each account, each region)."""
    for account in list(dict.values(_name("sagemaker backends"))):
        yield from list(dict.values(account))


def sagemaker_backend(account_id: str, region: str) -> Any:
    return _name("sagemaker backends")[account_id][region]


def autoscaling_backend(account_id: str, region: str) -> Any:
    return _name("autoscaling backends")[account_id][region]


def cloudwatch_backend(account_id: str, region: str) -> Any:
    return _name("cloudwatch backends")[account_id][region]


def endpoint_class() -> Any:
    return _name("sagemaker endpoint")


def endpoint_config_arn(name: str, account_id: str, region: str) -> str:
    return str(_name("sagemaker endpoint config").arn_formatter(name, account_id, region))


def sagemaker_validation_error(message: str) -> Exception:
    error: Exception = _name("sagemaker ValidationError")(message=message)
    return error


def autoscaling_validation_error(message: str) -> Exception:
    error: Exception = _name("autoscaling ValidationException")(message)
    return error


def scaling_policy_key(namespace: str, resource_id: str, dimension: str, policy_name: str) -> str:
    return str(_name("autoscaling policy key")(namespace, resource_id, dimension, policy_name))


def resource_type(resource_id: str) -> str:
    return str(_name("autoscaling resource type")(resource_id))


def policy_description(policy: Any) -> dict[str, Any]:
    """A scaling policy as DescribeScalingPolicies lists it."""
    description: dict[str, Any] = _name("autoscaling policy description")(policy)
    return description


def json_error_class() -> type[Exception]:
    """The base of the errors the emulator raises with a code of its own (moto serializes them)."""
    error_class: type[Exception] = _name("json error")
    return error_class


def service_error_class() -> type[Exception]:
    error_class: type[Exception] = _name("service error")
    return error_class


def action_result(value: Any) -> Any:
    """What a replaced request handler returns for moto to serialize."""
    return _name("action result")(value)


def allow_error_code(code: str) -> None:
    """Let moto's serializer answer `code` for every service without a warning (AWS "Common Errors" such as
    ThrottlingException are valid for every service but absent from some service models)."""
    codes: list[str] = _name("common error codes")
    if code not in codes:
        codes.append(code)


def moto_utcnow() -> _datetime.datetime:
    """Now, as moto dates what it creates (naive UTC)."""
    now: _datetime.datetime = _name("utcnow")()
    return now


def request_operation(response: Any) -> str:
    """The API operation of the request a moto response object is handling."""
    return str(response._get_action())


def request_service(response: Any) -> str:
    """The boto3 client name of the service a moto response object answers for."""
    return str(response.boto3_service_name)


def error_answer(response: Any, error: Exception) -> Any:
    """What moto's request handling returns for `error`: (status, headers, body)."""
    status, headers, body = response.serialized(action_result(error))
    headers, body = response._enrich_response(headers, body)
    return status, headers, body


def published(topic_arn: str, region: str) -> list[tuple[str, str | None]]:
    """(message, subject) for every message moto's SNS accepted on the topic, in order."""
    topic = _name("sns backends")[topic_arn.split(":")[4]][region].topics[topic_arn]
    return [(message, subject) for _, message, subject, *_ in topic.sent_notifications]


def request_param(response: Any, name: str, default: Any = None) -> Any:
    """A parameter of the request a moto response object is handling."""
    return response._get_param(name, default)


def validate_autoscaling_request(response: Any) -> None:
    """Application Auto Scaling's own check of a request's namespace, resource and dimension."""
    response._validate_params()


def keep_policy_identity(policy: Any, old: Any) -> None:
    """The updated scaling policy `policy` keeps the identity (id, ARN, creation time) of `old`."""
    policy._guid = old._guid
    policy.policy_arn = old.policy_arn
    policy.creation_time = old.creation_time
