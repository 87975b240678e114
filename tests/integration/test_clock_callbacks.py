"""Tasks that wait for a task token (`.waitForTaskToken`) keep time with the runner's clock.

Small definitions of their own (not the project's workflow): a Task sends its token to an SQS queue and
waits; a timer of the runner's clock answers it (or does not). Real time only bounds how long a test may
hang; every duration asserted is emulated time, read from the execution's history.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from endpoint_updater.offline.runner import LocalRunner

ROLE = "arn:aws:iam::123456789012:role/callback-tests"
# Real time that passes while something runs is emulated time too: what a busy machine adds to a duration.
SLACK = 5.0


def callback_definition(queue_url: str, **task: Any) -> str:
    """A Task that sends its token to the queue and waits for it; a Catch of States.Timeout and of the
    error `Refused` ends in a Pass state."""
    return json.dumps({
        "StartAt": "WaitForToken",
        "States": {
            "WaitForToken": {
                "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Parameters": {"QueueUrl": queue_url, "MessageBody": {"Token.$": "$$.Task.Token"}},
                "ResultPath": "$.Answer",
                "Catch": [{"ErrorEquals": ["States.Timeout", "Refused"], "ResultPath": "$.Error", "Next": "Caught"}],
                "End": True, **task},
            "Caught": {"Type": "Pass", "End": True},
        },
    })


class Callbacks:
    """One queue and one state machine of `callback_definition` in the runner's account."""

    def __init__(self, runner: LocalRunner, **task: Any) -> None:
        self.runner = runner
        sqs = runner._client("sqs")
        self.queue = sqs.create_queue(QueueName=f"tokens-{uuid.uuid4().hex[:8]}")["QueueUrl"]
        self.machine = runner.sfn.create_state_machine(
            name=f"callback-{uuid.uuid4().hex[:8]}", definition=callback_definition(self.queue, **task),
            roleArn=ROLE)["stateMachineArn"]

    def start(self, workflow_input: dict[str, Any] | None = None) -> str:
        return str(self.runner.sfn.start_execution(
            stateMachineArn=self.machine, input=json.dumps(workflow_input or {}))["executionArn"])

    def token(self) -> str:
        """The token the waiting Task sent (the Task sends it before it waits, as a step that runs)."""
        sqs = self.runner._client("sqs")
        messages = sqs.receive_message(QueueUrl=self.queue, MaxNumberOfMessages=1).get("Messages", [])
        assert messages, "the Task sent no token"
        sqs.delete_message(QueueUrl=self.queue, ReceiptHandle=messages[0]["ReceiptHandle"])
        return str(json.loads(messages[0]["Body"])["Token"])

    def waiting(self, arn: str) -> str:
        """Let time pass until the Task waits for its token; the token."""
        self.runner.wait_for_state(arn, "WaitForToken")
        assert self.runner.clock.wait_for(self._sent, 30.0), "the Task sent no token"
        return self.token()

    def _sent(self) -> bool:
        attributes = self.runner._client("sqs").get_queue_attributes(
            QueueUrl=self.queue, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) > 0


def task_seconds(runner: LocalRunner, arn: str) -> float:
    """Emulated seconds from entering WaitForToken to leaving it, from the history's timestamps."""
    events = runner.history(arn)
    entered = next(e["timestamp"] for e in events if e["type"] == "TaskStateEntered")
    exited = next(e["timestamp"] for e in events if e["type"] == "TaskStateExited")
    return float((exited - entered).total_seconds())


def refused(send: Callable[[], Any]) -> str:
    with pytest.raises(ClientError) as raised:
        send()
    return str(raised.value.response["Error"]["Code"])


def test_a_callback_answered_by_a_timer_at_40_seconds_ends_then_in_emulated_time(runner: LocalRunner) -> None:
    # Given a Task waiting for its token with a TimeoutSeconds of 300
    callbacks = Callbacks(runner, TimeoutSeconds=300)
    real_start = time.monotonic()
    arn = callbacks.start()
    token = callbacks.waiting(arn)
    # When a timer answers it 40 s (emulated) later
    runner.call_later(40, lambda: runner.sfn.send_task_success(taskToken=token, output='{"Done": true}'))
    ended = runner.wait(arn, recover=False)
    real_seconds = time.monotonic() - real_start
    # Then the execution succeeds with the answer, 40 s after the Task began, without waiting 40 s for it
    assert ended.status == "SUCCEEDED", (ended.error, ended.cause)
    assert ended.output == {"Answer": {"Done": True}}
    assert ended.states_entered == ["WaitForToken"]
    assert 40.0 <= task_seconds(runner, arn) < 40 + SLACK
    assert real_seconds < 20.0  # 40 s of emulated time did not take 40 real ones


@pytest.mark.parametrize(("task", "workflow_input"), [
    ({"TimeoutSeconds": 300}, {}),
    ({"TimeoutSecondsPath": "$.Wait"}, {"Wait": 300}),
], ids=["TimeoutSeconds", "TimeoutSecondsPath"])
def test_a_callback_never_answered_times_out_at_its_timeout_and_its_catch_runs(
        runner: LocalRunner, task: dict[str, Any], workflow_input: dict[str, Any]) -> None:
    # Given a Task waiting for its token with a timeout of 300 s, and nobody answering
    callbacks = Callbacks(runner, **task)
    arn = callbacks.start(workflow_input)
    # When the caller waits for the execution
    ended = runner.wait(arn, recover=False)
    # Then the Task times out 300 s (emulated) after it began, and the Catch of States.Timeout runs
    assert ended.status == "SUCCEEDED", (ended.error, ended.cause)
    assert ended.states_entered == ["WaitForToken", "Caught"]
    assert ended.output["Error"]["Error"] == "States.Timeout"
    assert [e["type"] for e in ended.events if e["type"] == "TaskTimedOut"] == ["TaskTimedOut"]
    assert 300.0 <= task_seconds(runner, arn) < 300 + SLACK


def test_a_token_answered_after_its_task_timed_out_is_refused(runner: LocalRunner) -> None:
    # Given a Task that timed out waiting for its token (the execution went on through the Catch)
    callbacks = Callbacks(runner, TimeoutSeconds=60)
    arn = callbacks.start()
    token = callbacks.waiting(arn)
    assert runner.wait(arn, recover=False).states_entered == ["WaitForToken", "Caught"]
    sfn = runner.sfn
    # When the token is answered, then each answer is refused: the task is closed
    assert refused(lambda: sfn.send_task_success(taskToken=token, output="{}")) == "TaskTimedOut"
    assert refused(lambda: sfn.send_task_failure(taskToken=token, error="Late")) == "TaskTimedOut"
    assert refused(lambda: sfn.send_task_heartbeat(taskToken=token)) == "TaskTimedOut"


def test_a_token_answered_while_its_task_times_out_is_refused_before_the_execution_ends(
        runner: LocalRunner) -> None:
    # Given a Task that timed out and an execution that goes on to a long Wait after its Catch
    callbacks = Callbacks(runner, TimeoutSeconds=60)
    definition = json.loads(runner.sfn.describe_state_machine(stateMachineArn=callbacks.machine)["definition"])
    definition["States"]["Caught"] = {"Type": "Wait", "Seconds": 3600, "End": True}
    runner.sfn.update_state_machine(stateMachineArn=callbacks.machine, definition=json.dumps(definition))
    arn = callbacks.start()
    token = callbacks.waiting(arn)
    runner.wait_for_state(arn, "Caught")
    # When the token is answered while the execution still runs, then it is refused
    assert runner.sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"
    assert refused(lambda: runner.sfn.send_task_success(taskToken=token, output="{}")) == "TaskTimedOut"


def test_a_token_is_answered_once(runner: LocalRunner) -> None:
    # Given a Task waiting for its token
    callbacks = Callbacks(runner, TimeoutSeconds=300)
    arn = callbacks.start()
    token = callbacks.waiting(arn)
    answers: list[str] = []

    def answer_twice() -> None:
        runner.sfn.send_task_success(taskToken=token, output='{"First": true}')
        answers.append("first")
        answers.append(refused(lambda: runner.sfn.send_task_success(taskToken=token, output='{"Second": true}')))

    # When it is answered twice at once
    runner.call_later(10, answer_twice)
    ended = runner.wait(arn, recover=False)
    # Then the first answer is the Task's result, and the second is refused
    assert answers == ["first", "TaskTimedOut"]
    assert ended.output == {"Answer": {"First": True}}


def test_an_unknown_token_is_invalid(runner: LocalRunner) -> None:
    assert refused(lambda: runner.sfn.send_task_success(taskToken="no-such-token", output="{}")) == "InvalidToken"


def test_a_task_failure_reaches_the_catch_with_its_error_and_cause(runner: LocalRunner) -> None:
    # Given a Task waiting for its token, whose Catch matches the error `Refused`
    callbacks = Callbacks(runner, TimeoutSeconds=300)
    arn = callbacks.start()
    token = callbacks.waiting(arn)
    cause = json.dumps({"errorType": "Refused", "errorMessage": "the endpoint rolled back"})
    # When SendTaskFailure answers it with an error and a cause
    runner.call_later(5, lambda: runner.sfn.send_task_failure(taskToken=token, error="Refused", cause=cause))
    ended = runner.wait(arn, recover=False)
    # Then the Catch runs with both
    assert ended.states_entered == ["WaitForToken", "Caught"]
    assert ended.output["Error"] == {"Error": "Refused", "Cause": cause}
    assert 5.0 <= task_seconds(runner, arn) < 5 + SLACK


def test_heartbeats_keep_a_task_waiting_and_a_missed_one_times_it_out(runner: LocalRunner) -> None:
    # Given a Task with HeartbeatSeconds 60 (TimeoutSeconds 600), sent heartbeats at 50 s and 100 s
    callbacks = Callbacks(runner, TimeoutSeconds=600, HeartbeatSeconds=60)
    arn = callbacks.start()
    token = callbacks.waiting(arn)
    for moment in (50, 100):
        runner.call_later(moment, lambda: runner.sfn.send_task_heartbeat(taskToken=token))
    # When no heartbeat comes after the one at 100 s
    ended = runner.wait(arn, recover=False)
    # Then it times out 60 s after the last heartbeat, and the Catch runs
    assert ended.states_entered == ["WaitForToken", "Caught"]
    assert ended.output["Error"]["Error"] == "States.Timeout"
    assert 160.0 <= task_seconds(runner, arn) < 160 + SLACK


def test_a_callback_with_no_timeout_waits_as_long_as_the_caller_lets_time_pass(runner: LocalRunner) -> None:
    # Given a Task waiting for its token with no TimeoutSeconds (the States Language's default: 99999999 s)
    callbacks = Callbacks(runner)
    arn = callbacks.start()
    token = callbacks.waiting(arn)
    # When the caller lets a day pass, then the Task still waits (it is idle, with nothing due)
    runner.sleep(86400)
    assert runner.sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"
    # And an answer then ends it
    runner.sfn.send_task_success(taskToken=token, output='{"Late": true}')
    ended = runner.wait(arn, recover=False)
    assert ended.output == {"Answer": {"Late": True}}
    assert 86400.0 <= task_seconds(runner, arn) < 86400 + SLACK


def test_a_stop_ends_a_callback_wait_and_closes_its_token(runner: LocalRunner) -> None:
    # Given a Task waiting for its token with no timeout
    callbacks = Callbacks(runner)
    arn = callbacks.start()
    token = callbacks.waiting(arn)
    # When the execution is stopped
    runner.stop(arn)
    # Then it ends ABORTED, and its token is refused
    assert runner.wait(arn, recover=False).status == "ABORTED"
    assert refused(lambda: runner.sfn.send_task_success(taskToken=token, output="{}")) == "TaskTimedOut"


def test_a_token_answered_as_soon_as_it_is_sent_is_its_result(runner: LocalRunner) -> None:
    # Given a Task whose token is answered as soon as it is sent (the Task may not wait for it yet)
    callbacks = Callbacks(runner, TimeoutSeconds=300)
    answered = threading.Event()

    def answer_on_sight() -> bool:
        if callbacks._sent():
            runner.sfn.send_task_success(taskToken=callbacks.token(), output='{"Early": true}')
            answered.set()
        return answered.is_set()

    arn = callbacks.start()
    assert runner.clock.wait_for(answer_on_sight, 30.0)
    # Then the Task ends with it, without waiting for its timeout
    ended = runner.wait(arn, recover=False)
    assert ended.output == {"Answer": {"Early": True}}
    assert task_seconds(runner, arn) < SLACK
