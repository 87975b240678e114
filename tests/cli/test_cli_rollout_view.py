"""How `rollout start --wait` reads a rollout: from its history while it runs, from its output once it ended, and
the exit code its outcomes give. On histories and outputs written out here, in the shapes Step Functions gives."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cli_support import invoke, one_line_error
from rich.console import Console

from endpoint_updater.cli import errors, rollout, rollout_view

UPDATE_ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:EndpointUpdater-Workflow"


def _scheduled(event_id: int, previous: int, endpoint: str) -> dict[str, Any]:
    parameters = {"StateMachineArn": UPDATE_ARN, "Name": f"r-{endpoint}",
                  "Input": {"EndpointName": endpoint, "VariantChanges": []}}
    return {"id": event_id, "previousEventId": previous, "type": "TaskScheduled", "timestamp": 0,
            "taskScheduledEventDetails": {"resourceType": "states", "resource": "startExecution.sync:2",
                                          "parameters": json.dumps(parameters)}}


def _event(event_id: int, previous: int, kind: str, **details: Any) -> dict[str, Any]:
    key = kind[0].lower() + kind[1:] + "EventDetails"
    return {"id": event_id, "previousEventId": previous, "type": kind, "timestamp": 0, key: details}


def _child(endpoint: str, status: str, **more: Any) -> str:
    return json.dumps({"ExecutionArn": f"{UPDATE_ARN.replace('stateMachine', 'execution')}:r-{endpoint}",
                       "Status": status, **more})


def test_a_running_rollout_shows_planned_endpoints_pending_and_started_ones_with_their_outcome() -> None:
    # Given two updates of a wave running at once, their events interleaved, one failed and one still running
    events = [
        _scheduled(10, 9, "tenant-a"), _scheduled(11, 8, "tenant-b"),
        _event(12, 10, "TaskStarted", resourceType="states", resource="startExecution.sync:2"),
        _event(13, 11, "TaskStarted", resourceType="states", resource="startExecution.sync:2"),
        _event(14, 13, "TaskSubmitted", output=json.dumps({"ExecutionArn": "arn:b"})),
        _event(15, 12, "TaskSubmitted", output=json.dumps({"ExecutionArn": "arn:a"})),
        _event(16, 15, "TaskFailed", error="States.TaskFailed",
               cause=_child("tenant-a", "FAILED", Error="EndpointUpdateRolledBack",
                            Cause=json.dumps({"errorMessage": "ping health check failed"}))),
    ]
    planned = [{"EndpointName": "tenant-a", "Wave": 1}, {"EndpointName": "tenant-b", "Wave": 1},
               {"EndpointName": "tenant-c", "Wave": 2}]

    # When the view is read from the history
    view = rollout_view.from_history(events, planned)

    # Then each event went to its own endpoint, through the chain of previous events
    rows = {row.endpoint: row for row in view.rows}
    assert rows["tenant-a"].outcome == "FAILED"
    assert rows["tenant-a"].error == "EndpointUpdateRolledBack"
    assert rows["tenant-a"].cause == "ping health check failed"
    assert rows["tenant-a"].execution_arn.endswith(":r-tenant-a")
    assert (rows["tenant-b"].outcome, rows["tenant-b"].execution_arn) == ("RUNNING", "arn:b")
    assert (rows["tenant-c"].outcome, rows["tenant-c"].wave) == ("PENDING", 2)


def test_a_running_rollout_keeps_what_its_latest_tally_settled() -> None:
    # Given a rollout whose first wave was tallied (tenant-a refused at the plan, tenant-b failed in wave 1), and
    # whose second wave has started tenant-c
    report = {"Endpoints": [
        {"EndpointName": "tenant-a", "Wave": None, "Outcome": "REFUSED", "Error": "InvalidInput", "Cause": "no Shadow"},
        {"EndpointName": "tenant-b", "Wave": 1, "Outcome": "TIMED_OUT", "Error": None, "Cause": None},
        {"EndpointName": "tenant-c", "Wave": 2, "Outcome": "PENDING"}]}
    events = [_scheduled(3, 2, "tenant-b"), _event(4, 3, "TaskFailed", error="States.TaskFailed", cause="{}"),
              _event(5, 4, "TaskStateExited", name="Tally", output=json.dumps({"Report": report, "Next": "Wave"})),
              _scheduled(6, 5, "tenant-c")]

    # When the view is read from the history
    rows = {row.endpoint: row for row in rollout_view.from_history(events).rows}

    # Then the tally's outcomes stand over the history's, and the update the history shows started is RUNNING
    assert (rows["tenant-a"].outcome, rows["tenant-a"].error) == ("REFUSED", "InvalidInput")
    assert rows["tenant-b"].outcome == "TIMED_OUT"
    assert (rows["tenant-c"].outcome, rows["tenant-c"].wave) == ("RUNNING", 2)


def test_a_succeeded_child_gives_its_old_and_new_config() -> None:
    output = _child("tenant-a", "SUCCEEDED", Output=json.dumps({"PreviousConfigName": "c1", "NewConfigName": "c2"}))
    view = rollout_view.from_history([_scheduled(5, 4, "tenant-a"), _event(6, 5, "TaskSucceeded", output=output)])
    (row,) = view.rows
    assert (row.outcome, row.old_config, row.new_config) == ("SUCCEEDED", "c1", "c2")


def test_an_ended_rollout_is_read_from_its_output_with_totals_per_wave_and_why_it_stopped() -> None:
    # Given a rollout stopped by its failure budget after its canary failed
    output = {"Endpoints": [
        {"EndpointName": "tenant-a", "Wave": 1, "Outcome": "FAILED", "Error": "EndpointUpdateRolledBack",
         "Cause": "rolled back", "OldConfigName": "c1", "NewConfigName": None, "ExecutionArn": "arn:a"},
        {"EndpointName": "tenant-b", "Wave": 2, "Outcome": "NOT_STARTED"},
        {"EndpointName": "tenant-c", "Wave": 2, "Outcome": "NOT_STARTED"}],
        "StoppedBecause": {"Reason": "CanaryFailed", "Wave": 1,
                           "Message": "the canary wave failed (tenant-a): no other wave was started"}}

    # When it is shown
    view = rollout_view.from_output(output)
    console = Console(width=200, record=True)
    console.print(rollout_view.summary({"name": "r", "executionArn": "arn:r", "status": "SUCCEEDED",
                                        "output": output}))
    text = console.export_text()

    # Then every endpoint, the totals per wave and the reason are there
    assert rollout_view.totals(view) == ["wave 1: 1 failed", "wave 2: 2 not_started"]
    assert "EndpointUpdateRolledBack: rolled back" in text
    assert "Stopped: CanaryFailed in wave 1: the canary wave failed (tenant-a): no other wave was started" in text
    # And the exit code says a failure, as for `start`
    assert rollout.exit_code(output["Endpoints"]) == errors.FAILED


@pytest.mark.parametrize(("outcomes", "status", "code"), [
    (["SUCCEEDED", "SKIPPED"], "SUCCEEDED", errors.OK),
    (["SUCCEEDED", "FAILED"], "SUCCEEDED", errors.FAILED),
    (["SUCCEEDED", "NOT_STARTED"], "SUCCEEDED", errors.FAILED),
    (["SUCCEEDED", "ABORTED"], "SUCCEEDED", errors.FAILED),
    (["SUCCEEDED", ("REFUSED", "InvalidInput")], "SUCCEEDED", errors.REFUSED),
    ([("REFUSED", "EndpointNotInService")], "SUCCEEDED", errors.BUSY),
    ([("REFUSED", "EndpointNotInService"), ("REFUSED", "ChangeNotAllowed")], "SUCCEEDED", errors.REFUSED),
    ([("REFUSED", "InvalidInput"), "FAILED"], "SUCCEEDED", errors.FAILED),
    (["SUCCEEDED"], "ABORTED", errors.FAILED),
    ([], "FAILED", errors.FAILED),
])
def test_exit_codes_are_in_the_family_of_start(outcomes: list[Any], status: str, code: int) -> None:
    entries = [{"Outcome": o} if isinstance(o, str) else {"Outcome": o[0], "Error": o[1]} for o in outcomes]
    assert rollout.exit_code(entries, status) == code


@pytest.mark.parametrize(("args", "expected"), [
    (("rollout", "start", "--variant", "AllTraffic", "--model", "m"), "no endpoints: pass --endpoint NAME"),
    (("rollout", "plan", "--endpoint", "a", "--model", "m"), "name it with --variant"),
    (("rollout", "start", "--endpoint", "a", "--variant", "AllTraffic"), "say what to change"),
    (("rollout", "start", "--tag", "team", "--endpoint", "a"), "--tag 'team': give KEY=VALUE"),
    (("rollout", "start", "--endpoint", "a", "--tolerated-failures", "1", "--tolerated-failure-percent", "5"),
     "give one of them"),
    (("rollout", "start", "--endpoint", "a", "--batch-size", "two"), "'two' is not a valid integer"),
    (("rollout", "launch"), "No such command 'launch'"),
])
def test_bad_rollout_flags_give_one_line_and_exit_2(args: tuple[str, ...], expected: str) -> None:
    run = invoke(*args)
    assert run.code == errors.INVALID
    assert expected in one_line_error(run)


def test_flags_override_the_input_files_fields() -> None:
    # Given an input file's rollout
    raw = {"Endpoints": ["a"], "Change": {"VariantChanges": [{"VariantName": "AllTraffic", "ModelName": "m1"}]},
           "Waves": {"CanarySize": 1, "BatchSize": 5}, "ToleratedFailurePercentage": 10}
    options = {key: None for key in ("name_pattern", "variant", "model", "instance_type", "instance_count",
                                     "canary_size", "batch_size", "batch_percent", "max_concurrency", "bake_seconds",
                                     "tolerated_failures", "tolerated_failure_percent", "poll_interval")}
    options.update(endpoints=("a", "b"), tags=("team=ml",), variant="AllTraffic", model="m2", batch_size=2,
                   tolerated_failures=1)

    # When flags are given / Then they replace the fields they name, the others are kept
    assert rollout.from_flags(raw, options) == {
        "Endpoints": ["a", "b"], "Targets": {"Tags": {"team": "ml"}},
        "Change": {"VariantChanges": [{"VariantName": "AllTraffic", "ModelName": "m2"}]},
        "Waves": {"CanarySize": 1, "BatchSize": 2}, "ToleratedFailureCount": 1}


class _FakeStepFunctions:
    """DescribeExecution and GetExecutionHistory of one rollout that runs for two looks, then succeeds."""

    def __init__(self, events: list[dict[str, Any]], output: dict[str, Any]) -> None:
        self.looks = 0
        self.events, self.output = events, output

    def describe_execution(self, executionArn: str) -> dict[str, Any]:
        self.looks += 1
        ended = self.looks > 2
        return {"executionArn": executionArn, "name": "r", "stateMachineArn": "arn:sm",
                "status": "SUCCEEDED" if ended else "RUNNING", "startDate": "2026-01-01T00:00:00+00:00",
                **({"output": json.dumps(self.output), "stopDate": "2026-01-01T00:01:00+00:00"} if ended else {})}

    def get_paginator(self, _: str) -> Any:
        events = self.events

        class Pages:
            def paginate(self, **_: Any) -> list[dict[str, Any]]:
                return [{"events": events}]

        return Pages()


def test_on_a_terminal_wait_redraws_one_table_of_waves_and_endpoints_until_the_end() -> None:
    # Given a rollout whose canary is running, then ends with both endpoints updated
    output = {"Endpoints": [{"EndpointName": "tenant-a", "Wave": 1, "Outcome": "SUCCEEDED"},
                            {"EndpointName": "tenant-b", "Wave": 2, "Outcome": "SUCCEEDED"}]}
    sfn = _FakeStepFunctions([_scheduled(5, 4, "tenant-a")], output)
    console = Console(force_terminal=True, width=150, record=True)
    slept: list[float] = []

    # When it is followed on a terminal
    execution = rollout.follow(sfn, "arn:r", console, 0.5, slept.append)

    # Then it polled until the end, waiting between looks with the given sleep, and drew the live table: the canary
    # running first, both endpoints succeeded at the end
    assert execution["status"] == "SUCCEEDED" and slept == [0.5, 0.5]
    text = console.export_text()
    assert "Rollout r: RUNNING" in text and "RUNNING" in text
    assert "Rollout r: SUCCEEDED" in text and text.count("SUCCEEDED") >= 3


@pytest.mark.parametrize(("error", "code"), [("RolloutTargetsNotFound", errors.REFUSED),
                                              ("InvalidInput", errors.REFUSED), ("States.Runtime", errors.FAILED),
                                              (None, errors.FAILED)])
def test_a_rollout_that_failed_by_itself_exits_by_its_error_class(error: str | None, code: int) -> None:
    assert rollout.outcome_code({"status": "FAILED", "error": error, "output": None}) == code
