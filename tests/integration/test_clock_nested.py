"""Executions that start executions (`startExecution.sync:2`) and run several states at once (Map, Parallel)
keep time with the runner's clock.

Small definitions of their own (not the project's workflow). Real time only bounds how long a test may hang;
every duration asserted is emulated time, from the executions' own dates.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any

import pytest

from endpoint_updater.offline.runner import LocalRunner

ROLE = "arn:aws:iam::123456789012:role/nested-tests"
HANG = 60.0
# Real time that passes while something runs is emulated time too: what a busy machine adds to a duration.
SLACK = 5.0


def deploy(runner: LocalRunner, definition: dict[str, Any]) -> str:
    return str(runner.sfn.create_state_machine(
        name=f"nested-{uuid.uuid4().hex[:8]}", definition=json.dumps(definition), roleArn=ROLE)["stateMachineArn"])


def child_definition(wait_seconds: int) -> dict[str, Any]:
    return {"StartAt": "Bake", "States": {
        "Bake": {"Type": "Wait", "Seconds": wait_seconds, "Next": "Done"},
        "Done": {"Type": "Pass", "Parameters": {"Item.$": "$.Item"}, "End": True}}}


def fleet_definition(child: str, max_concurrency: int) -> dict[str, Any]:
    """A Map over `$.Items` that starts one child per item and waits for it (output: the child's output)."""
    return {"StartAt": "Each", "States": {"Each": {
        "Type": "Map", "ItemsPath": "$.Items", "MaxConcurrency": max_concurrency,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "Update", "States": {"Update": {
            "Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
            "Parameters": {"StateMachineArn": child, "Input": {"Item.$": "$"}},
            "OutputPath": "$.Output", "End": True}}},
        "End": True}}}


def children(runner: LocalRunner, machine: str) -> list[dict[str, Any]]:
    """Every execution of the machine, described, oldest first."""
    listed = runner.sfn.list_executions(stateMachineArn=machine)["executions"]
    described = [runner.sfn.describe_execution(executionArn=e["executionArn"]) for e in listed]
    return sorted(described, key=lambda e: e["startDate"])


def seconds(later: Any, earlier: Any) -> float:
    return float((later - earlier).total_seconds())


def most_at_once(executions: list[dict[str, Any]]) -> int:
    """The most executions that ran at the same moment."""
    moments = sorted([(e["startDate"], 1) for e in executions] + [(e["stopDate"], -1) for e in executions])
    running = peak = 0
    for _, change in moments:
        running += change
        peak = max(peak, running)
    return peak


def test_a_map_of_five_children_two_at_a_time_takes_three_child_durations(runner: LocalRunner) -> None:
    # Given a parent whose Map starts five children, at most two at a time, each waiting 600 s
    child = deploy(runner, child_definition(600))
    parent = deploy(runner, fleet_definition(child, max_concurrency=2))
    real_start = time.monotonic()
    arn = runner.sfn.start_execution(stateMachineArn=parent, input=json.dumps({"Items": list(range(5))}))[
        "executionArn"]
    # When the caller waits for the parent
    ended = runner.wait(arn, recover=False)
    real_seconds = time.monotonic() - real_start
    # Then it succeeded with each child's output, after three rounds of 600 s of emulated time
    assert ended.status == "SUCCEEDED", (ended.error, ended.cause)
    assert ended.output == [{"Item": item} for item in range(5)]
    described = runner.sfn.describe_execution(executionArn=arn)
    assert 1800.0 <= seconds(described["stopDate"], described["startDate"]) < 1800 + SLACK
    # And the children ran two at a time, each for 600 s, in three rounds
    started = children(runner, child)
    assert [e["status"] for e in started] == ["SUCCEEDED"] * 5
    assert most_at_once(started) == 2
    assert all(600.0 <= seconds(e["stopDate"], e["startDate"]) < 600 + SLACK for e in started)
    rounds = [round(seconds(e["startDate"], described["startDate"]) / 600) for e in started]
    assert rounds == [0, 0, 1, 1, 2]
    assert real_seconds < 120.0  # 1800 s of emulated time did not take them in real time


def test_a_child_that_fails_fails_its_task_with_the_child_described_in_the_cause(runner: LocalRunner) -> None:
    child = deploy(runner, {"StartAt": "Refuse", "States": {
        "Refuse": {"Type": "Fail", "Error": "Refused", "Cause": "not this one"}}})
    parent = deploy(runner, {"StartAt": "Update", "States": {"Update": {
        "Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
        "Parameters": {"StateMachineArn": child, "Input": {}},
        "Catch": [{"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.Error", "Next": "Caught"}],
        "End": True}, "Caught": {"Type": "Pass", "End": True}}})
    arn = runner.sfn.start_execution(stateMachineArn=parent, input="{}")["executionArn"]
    ended = runner.wait(arn, recover=False)
    assert ended.states_entered == ["Update", "Caught"]
    cause = json.loads(ended.output["Error"]["Cause"])
    assert (cause["Status"], cause["Error"], cause["Cause"]) == ("FAILED", "Refused", "not this one")


def test_a_parent_stopped_mid_map_stops_the_children_it_waits_for_and_starts_no_more(runner: LocalRunner) -> None:
    # Given a parent whose Map runs two of five children, each waiting 600 s
    child = deploy(runner, child_definition(600))
    parent = deploy(runner, fleet_definition(child, max_concurrency=2))
    arn = runner.sfn.start_execution(stateMachineArn=parent, input=json.dumps({"Items": list(range(5))}))[
        "executionArn"]

    def two_children_wait() -> bool:
        return [e["status"] for e in children(runner, child)] == ["RUNNING", "RUNNING"]

    assert runner.clock.wait_for(two_children_wait, HANG)
    # When the parent is stopped
    runner.stop(arn)
    # Then it ends ABORTED, and so do both children, and no other child starts
    assert runner.wait(arn, recover=False).status == "ABORTED"

    def children_ended() -> bool:
        return all(e["status"] != "RUNNING" for e in children(runner, child))

    assert runner.clock.wait_for(children_ended, HANG)
    runner.sleep(1800)
    assert [e["status"] for e in children(runner, child)] == ["ABORTED", "ABORTED"]


def test_time_does_not_jump_while_one_branch_of_a_parallel_is_busy(runner: LocalRunner) -> None:
    # Given a Parallel whose first branch waits 100 s and whose second branch runs a function that is held
    folder = "notify_update"
    started, release = threading.Event(), threading.Event()

    def hold(event: dict[str, Any]) -> None:
        started.set()
        release.wait(HANG)

    runner.before_invoke(folder, hold)
    runner.crash(folder)
    machine = deploy(runner, {"StartAt": "Both", "States": {"Both": {
        "Type": "Parallel", "End": True, "Branches": [
            {"StartAt": "Idle", "States": {"Idle": {"Type": "Wait", "Seconds": 100, "End": True}}},
            {"StartAt": "Busy", "States": {"Busy": {
                "Type": "Task", "Resource": runner.function_arns[folder], "End": True,
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}]},
                "Caught": {"Type": "Pass", "End": True}}}]}}})
    arn = runner.sfn.start_execution(stateMachineArn=machine, input="{}")["executionArn"]
    assert runner.clock.wait_for(started.is_set, HANG)
    looks = 0

    def looked_five_times() -> bool:
        nonlocal looks
        looks += 1
        return looks > 5

    # When the caller waits for the workflow while the function is held
    skipped = runner.clock.skipped
    assert runner.clock.wait_for(looked_five_times, HANG)
    # Then no time was skipped: the first branch still waits
    assert runner.clock.skipped == skipped
    assert "WaitStateExited" not in [e["type"] for e in runner.history(arn)]
    release.set()
    # And once the function has returned, the Wait's 100 s take no real time
    ended = runner.wait(arn, recover=False)
    assert ended.status == "SUCCEEDED", (ended.error, ended.cause)
    described = runner.sfn.describe_execution(executionArn=arn)
    assert 100.0 <= seconds(described["stopDate"], described["startDate"]) < 100 + SLACK


@pytest.mark.parametrize("waits", [(300, 100), (100, 300)])
def test_parallel_branches_that_wait_end_at_their_own_moments(runner: LocalRunner, waits: tuple[int, int]) -> None:
    machine = deploy(runner, {"StartAt": "Both", "States": {"Both": {
        "Type": "Parallel", "End": True, "Branches": [
            {"StartAt": f"Wait{seconds}", "States": {f"Wait{seconds}": {
                "Type": "Wait", "Seconds": seconds, "End": True}}} for seconds in waits]}}})
    arn = runner.sfn.start_execution(stateMachineArn=machine, input="{}")["executionArn"]
    ended = runner.wait(arn, recover=False)
    assert ended.status == "SUCCEEDED"
    exits = {e["stateExitedEventDetails"]["name"]: e["timestamp"] for e in ended.events
             if e["type"] == "WaitStateExited"}
    start = next(e["timestamp"] for e in ended.events if e["type"] == "ExecutionStarted")
    assert 100.0 <= seconds(exits["Wait100"], start) < 100 + SLACK
    assert 300.0 <= seconds(exits["Wait300"], start) < 300 + SLACK
