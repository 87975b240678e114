"""Completion events, on the real ASL file: SageMaker's endpoint events end the callback waits, and a poll
every SafetyIntervalSeconds decides when none comes.

The events are delivered here by hand, as the stack's rule would invoke the resume function
(`runner.deliver("resume_update", event)`), at the emulated moment each test chooses: on time, never, twice,
late, for another endpoint, or announcing a rollback.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import boto3
import pytest

from endpoint_updater.core import history, store
from endpoint_updater.offline import emulation
from endpoint_updater.offline.runner import Execution, LocalRunner
from endpoint_updater.offline.scenario import (
    ScalingSpec,
    VariantSpec,
    attach_scaling,
    create_endpoint,
    endpoint_state,
    scaling_state,
)

ENDPOINT = "churn-prod"
NEW_MODEL = {"VariantChanges": [{"VariantName": "AllTraffic", "ModelName": "churn-v8"}]}
EVENTS = {"EndpointName": ENDPOINT, "Completion": "events", **NEW_MODEL}
# Steps take a little real (so emulated) time while their functions run.
SLACK = 5.0


@pytest.fixture
def runner(runner: LocalRunner) -> LocalRunner:
    """The workflow, with SageMaker's endpoint events delivered by the tests alone: where the emulator sends them
    itself as each endpoint changes status, its delivery is switched off."""
    sent_by_the_emulator = getattr(runner, "endpoint_events", None)
    if sent_by_the_emulator is not None:
        sent_by_the_emulator.configure(delivery=False)
    return runner


def autoscaled(max_capacity: int = 6) -> tuple[str, dict[str, Any]]:
    config = create_endpoint(ENDPOINT, (VariantSpec(count=2),))
    attach_scaling(ENDPOINT, "AllTraffic", ScalingSpec(max_capacity=max_capacity))
    return config, scaling_state(ENDPOINT)


def endpoint_event(name: str = ENDPOINT, status: str | None = None, runner: LocalRunner | None = None
                   ) -> dict[str, Any]:
    """A "SageMaker Endpoint State Change" event as EventBridge delivers it: the endpoint's status and config as
    DescribeEndpoint shows them now, unless `status` says otherwise (EndpointStatus in upper snake case)."""
    described = boto3.client("sagemaker").describe_endpoint(EndpointName=name)
    shown = status or "_".join(word.upper() for word in _words(described["EndpointStatus"]))
    now = runner.clock.utcnow() if runner else dt.datetime.now(dt.UTC)
    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": "SageMaker Endpoint State Change",
            "source": "aws.sagemaker", "account": "123456789012", "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": "us-east-1", "resources": [described["EndpointArn"]],
            "detail": {"EndpointName": name, "EndpointArn": described["EndpointArn"],
                       "EndpointConfigName": described["EndpointConfigName"], "EndpointStatus": shown}}


def _words(camel: str) -> list[str]:
    words, current = [], ""
    for char in camel:
        if char.isupper() and current:
            words.append(current)
            current = ""
        current += char
    return [*words, current]


def seconds_after(execution: Execution, start_state: str, event_type: str, state: str | None = None,
                  which: int = 0) -> float:
    """Emulated seconds from entering `start_state` (the first time) to the `which`-th event of `event_type`
    (of `state`, for a StateEntered/Exited event)."""
    events = execution.events
    origin = next(e["timestamp"] for e in events if e["type"].endswith("StateEntered")
                  and e["stateEnteredEventDetails"]["name"] == start_state)
    found = [e["timestamp"] for e in events if e["type"] == event_type and (
        state is None or next(v for k, v in e.items() if k.endswith("EventDetails"))["name"] == state)]
    return float((found[which] - origin).total_seconds())


def detection_delays(text: str) -> list[tuple[str, float]]:
    found = []
    for line in text.splitlines():
        if line.startswith("{") and "CompletionDetectionDelay" in line:
            document = json.loads(line)
            value = document["CompletionDetectionDelay"]
            found.append((document["Path"], float(value[0] if isinstance(value, list) else value)))
    return found


def start_and_wait_for_the_event(runner: LocalRunner, request: dict[str, Any], seconds: float,
                                 state: str = "WaitForUpdateEvent") -> str:
    """Start the update and let `seconds` of emulated time pass once it waits for SageMaker's event."""
    arn = runner.start(request)
    runner.wait_for_state(arn, state)
    runner.sleep(seconds)
    return arn


# -- events delivered -------------------------------------------------------------------------------------

def test_an_event_ends_the_wait_at_its_moment_in_few_transitions(runner: LocalRunner, capsys: Any) -> None:
    # Given a ten-minute update and a safety net of an hour
    _, before = autoscaled()
    emulation.configure_update(ENDPOINT, seconds=600)
    arn = start_and_wait_for_the_event(runner, {**EVENTS, "SafetyIntervalSeconds": 3600}, 600 + 1)
    # When SageMaker's event arrives as the update ends
    answer = runner.deliver("resume_update", endpoint_event(runner=runner))
    execution = runner.wait(arn)
    # Then the workflow went on at once: no poll, the scaling restored, the new config serving
    assert answer["Resumed"] is True and answer["Path"] == "event"
    assert execution.status == "SUCCEEDED", execution.cause
    assert "CheckUpdate" not in execution.states_entered
    assert 600 <= seconds_after(execution, "WaitForUpdateEvent", "TaskSucceeded") <= 600 + SLACK
    assert endpoint_state(ENDPOINT)["EndpointConfigName"] == execution.output["NewConfigName"]
    assert scaling_state(ENDPOINT) == before
    # And the whole update took 15 transitions, whatever its duration (the polling path: 3 more per poll)
    print(f"events delivered: {execution.transitions} transitions for a 600 s update")
    assert execution.transitions == 15
    assert [path for path, _ in detection_delays(capsys.readouterr().out)] == ["event"]


def test_polling_takes_three_transitions_per_poll_for_the_same_update(runner: LocalRunner) -> None:
    # The path events replace, for comparison: the same ten-minute update polled every 28 s
    autoscaled()
    emulation.configure_update(ENDPOINT, seconds=600)
    execution = runner.run({**EVENTS, "Completion": "polling", "InitialPollDelaySeconds": 180})
    assert execution.status == "SUCCEEDED", execution.cause
    assert "WaitForUpdateEvent" not in execution.states_entered
    polls = execution.states_entered.count("CheckUpdate")
    assert polls >= 1 + (600 - 180) // 28
    # 13 states outside the loop, then the check, the Choice and the Wait per poll (the last poll ends the loop)
    assert execution.transitions == 13 + 3 * polls
    print(f"polling: {execution.transitions} transitions, {polls} polls for a 600 s update")
    # And each poll cycle wrote the history events the worst case counts for it
    checks = [i for i, e in enumerate(execution.events) if e["type"] == "TaskStateEntered"
              and e["stateEnteredEventDetails"]["name"] == "CheckUpdate"]
    assert checks[1] - checks[0] == history.EVENTS_PER_CYCLE["polling"]


def test_an_update_that_ended_before_the_wait_began_is_found_by_the_wait_itself(runner: LocalRunner,
                                                                                capsys: Any) -> None:
    # Given an update SageMaker finishes at once: its event came before any token was stored, so it resumed
    # nothing (the rule delivers it; here it is simply never delivered)
    autoscaled()
    emulation.configure_update(ENDPOINT, seconds=0)
    # When the update runs with a safety net of an hour
    execution = runner.run({**EVENTS, "SafetyIntervalSeconds": 3600})
    # Then the await function's own look found it done: no poll, no hour waited
    assert execution.status == "SUCCEEDED", execution.cause
    assert "CheckUpdate" not in execution.states_entered
    assert seconds_after(execution, "WaitForUpdateEvent", "TaskSucceeded") <= SLACK
    assert [path for path, _ in detection_delays(capsys.readouterr().out)] == ["await"]


def test_the_capacity_raise_waits_for_events_too(runner: LocalRunner) -> None:
    # Given an autoscaled variant raised before the update, each change taking two minutes
    _, before = autoscaled()
    emulation.configure_capacity_change(ENDPOINT, seconds=120)
    emulation.configure_update(ENDPOINT, seconds=120)
    request = {**EVENTS, "CapacityIncrease": {"Add": 1}, "SafetyIntervalSeconds": 3600}
    # When each change's event arrives as it ends
    arn = start_and_wait_for_the_event(runner, request, 120 + 1, state="WaitForCapacityEvent")
    assert runner.deliver("resume_update", endpoint_event(runner=runner))["Resumed"] is True
    runner.wait_for_state(arn, "WaitForUpdateEvent")
    runner.sleep(120 + 1)
    assert runner.deliver("resume_update", endpoint_event(runner=runner))["Resumed"] is True
    execution = runner.wait(arn)
    # Then both waits ended on their event, the raise was confirmed and carried into the new config
    assert execution.status == "SUCCEEDED", execution.cause
    assert not {"CheckCapacity", "CheckUpdate"} & set(execution.states_entered)
    assert "CapacityRaised" in [e["Phase"] for e in store.read_update(ENDPOINT, arn)["History"]]
    config = boto3.client("sagemaker").describe_endpoint_config(EndpointConfigName=execution.output["NewConfigName"])
    assert config["ProductionVariants"][0]["InitialInstanceCount"] == 3
    assert scaling_state(ENDPOINT) == before


# -- events lost, late, repeated, or for something else ---------------------------------------------------

def test_with_every_event_lost_the_safety_net_finishes_the_update(runner: LocalRunner, capsys: Any) -> None:
    # Given an update of 500 s, a safety net of 300 s, and no event ever delivered
    _, before = autoscaled()
    emulation.configure_update(ENDPOINT, seconds=500)
    execution = runner.run({**EVENTS, "SafetyIntervalSeconds": 300})
    # Then the second safety-net poll (at 600 s) found it done: within one safety interval of its end
    assert execution.status == "SUCCEEDED", execution.cause
    assert execution.states_entered.count("WaitForUpdateEvent") == 2
    assert execution.states_entered.count("CheckUpdate") == 2
    assert 600 <= seconds_after(execution, "WaitForUpdateEvent", "TaskStateEntered", "CheckUpdate", which=1) \
        <= 600 + SLACK
    assert scaling_state(ENDPOINT) == before
    assert [path for path, _ in detection_delays(capsys.readouterr().out)] == ["safety-net"]
    # And each lost-event cycle wrote the history events the worst case counts for it
    types = [e["type"] for e in execution.events]
    entered = [i for i, e in enumerate(execution.events) if e["type"] == "TaskStateEntered"
               and e["stateEnteredEventDetails"]["name"] == "WaitForUpdateEvent"]
    cycle = types[entered[0]:entered[1]]
    print(f"one lost-event cycle: {len(cycle)} history events: {cycle}")
    assert len(cycle) == history.EVENTS_PER_CYCLE["events"]


def test_a_duplicate_event_and_a_late_one_change_nothing(runner: LocalRunner) -> None:
    # Given an update that ended on its event
    autoscaled()
    emulation.configure_update(ENDPOINT, seconds=60)
    arn = start_and_wait_for_the_event(runner, {**EVENTS, "SafetyIntervalSeconds": 3600}, 61)
    event = endpoint_event(runner=runner)
    runner.deliver("resume_update", event)
    first = runner.wait(arn)
    assert first.status == "SUCCEEDED", first.cause
    # When the same event is delivered again (EventBridge may deliver it more than once)
    assert runner.deliver("resume_update", event)["Resumed"] is False
    # And a second update waits while that first update's event arrives late
    emulation.configure_update(ENDPOINT, seconds=600)
    second = start_and_wait_for_the_event(
        runner, {**EVENTS, "VariantChanges": [{"VariantName": "AllTraffic", "ModelName": "churn-v9"}],
                 "SafetyIntervalSeconds": 3600}, 60)
    late = runner.deliver("resume_update", event)
    # Then DescribeEndpoint says Updating: the second update is not resumed, and still ends on its own event
    assert late["Resumed"] is False and "Updating" in late["Reason"]
    assert runner.describe(first.arn).events == first.events
    runner.sleep(600)
    assert runner.deliver("resume_update", endpoint_event(runner=runner))["Resumed"] is True
    ended = runner.wait(second)
    assert ended.status == "SUCCEEDED", ended.cause
    assert endpoint_state(ENDPOINT)["EndpointConfigName"] == ended.output["NewConfigName"]


def test_an_event_for_another_endpoint_changes_nothing(runner: LocalRunner) -> None:
    # Given an update of churn-prod waiting, and another endpoint that changes state
    autoscaled()
    create_endpoint("fraud-prod", (VariantSpec(model="fraud-v1"),))
    emulation.configure_update(ENDPOINT, seconds=60)
    arn = start_and_wait_for_the_event(runner, {**EVENTS, "SafetyIntervalSeconds": 3600}, 61)
    # When the other endpoint's event arrives
    other = runner.deliver("resume_update", endpoint_event("fraud-prod", runner=runner))
    # Then nothing is resumed; churn-prod's own event still is
    assert other["Resumed"] is False and "fraud-prod" in other["Reason"]
    assert store.read_waiting(ENDPOINT) is not None
    assert runner.deliver("resume_update", endpoint_event(runner=runner))["Resumed"] is True
    assert runner.wait(arn).status == "SUCCEEDED"


def test_a_stale_token_sent_after_its_wait_timed_out_is_ignored(runner: LocalRunner) -> None:
    # Given a wait that timed out (safety net 60 s) while its token was read by an event's function, which
    # sends it only after the next wait has begun
    _, before = autoscaled()
    emulation.configure_update(ENDPOINT, seconds=100)
    arn = start_and_wait_for_the_event(runner, {**EVENTS, "SafetyIntervalSeconds": 60}, 1)
    stale = store.read_waiting(ENDPOINT)
    assert stale is not None
    runner.sleep(89)  # the first wait timed out at 60 s; the next one, begun then, lasts until 120 s
    current = store.read_waiting(ENDPOINT)
    assert current is not None and current.task_token != stale.task_token
    store.store_waiting(stale)
    runner.sleep(20)  # the update ended at 100 s
    # When the event comes and its function sends the stale token
    answer = runner.deliver("resume_update", endpoint_event(runner=runner))
    # Then Step Functions refuses it, the function ignores that, and the safety net finishes the update
    assert answer["Resumed"] is False and "no longer waits" in answer["Reason"]
    execution = runner.wait(arn)
    assert execution.status == "SUCCEEDED", execution.cause
    assert scaling_state(ENDPOINT) == before


# -- failures ----------------------------------------------------------------------------------------------

def test_an_event_announcing_in_service_on_the_old_config_fails_the_update_as_polling_does(
        runner: LocalRunner) -> None:
    # Given an update that SageMaker rolls back silently (InService on the old config, no FailureReason),
    # once with polling and once with events
    old_config, before = autoscaled()
    emulation.configure_update(ENDPOINT, seconds=60, outcome="silent_rollback")
    polled = runner.run({**EVENTS, "Completion": "polling", "InitialPollDelaySeconds": 60})
    emulation.configure_update(ENDPOINT, seconds=60, outcome="silent_rollback")
    arn = start_and_wait_for_the_event(runner, {**EVENTS, "SafetyIntervalSeconds": 3600}, 61)
    # When the event announces InService (on the old config)
    event = endpoint_event(runner=runner)
    assert event["detail"]["EndpointStatus"] == "IN_SERVICE"
    assert event["detail"]["EndpointConfigName"] == old_config
    assert runner.deliver("resume_update", event)["Resumed"] is True
    execution = runner.wait(arn)
    # Then the update failed with the same error and cause as polling gives, and the scaling is restored
    assert (execution.status, execution.error) == ("FAILED", "EndpointUpdateRolledBack")
    assert "CheckUpdate" not in execution.states_entered
    assert execution.cause == (polled.cause or "").replace(
        store.read_update(ENDPOINT, polled.arn)["NewConfigName"], store.read_update(ENDPOINT, arn)["NewConfigName"])
    assert f"InService on {old_config}" in (execution.cause or "") and "no FailureReason given" in execution.cause
    assert "Scaling restored as before the update" in execution.cause
    assert scaling_state(ENDPOINT) == before
    assert endpoint_state(ENDPOINT)["EndpointConfigName"] == old_config


@pytest.mark.parametrize(("outcome", "status", "error"), [
    ("fail", "FAILED", "EndpointUpdateFailed"),
    ("rollback_failed", "UPDATE_ROLLBACK_FAILED", "EndpointUpdateRollbackFailed"),
])
def test_a_failed_update_announced_by_its_event_fails_and_restores(runner: LocalRunner, outcome: str, status: str,
                                                                   error: str) -> None:
    _, before = autoscaled()
    emulation.configure_update(ENDPOINT, seconds=60, outcome=outcome, failure_reason="model container crashed")
    arn = start_and_wait_for_the_event(runner, {**EVENTS, "SafetyIntervalSeconds": 3600}, 61)
    event = endpoint_event(runner=runner)
    assert event["detail"]["EndpointStatus"] == status
    runner.deliver("resume_update", event)
    execution = runner.wait(arn)
    assert (execution.status, execution.error) == ("FAILED", error)
    # The event carries no FailureReason: DescribeEndpoint's is in the cause
    assert "model container crashed" in (execution.cause or "")
    assert "Scaling restored as before the update" in (execution.cause or "")
    assert scaling_state(ENDPOINT) == before


def test_the_deadline_holds_within_seconds_not_a_safety_interval(runner: LocalRunner) -> None:
    # Given an update that never ends, TimeoutSeconds 1000 and a safety net of 300 s
    _, before = autoscaled()
    emulation.configure_update(ENDPOINT, outcome="stuck")
    execution = runner.run({**EVENTS, "TimeoutSeconds": 1000, "SafetyIntervalSeconds": 300})
    # Then the last wait was cut short at the deadline, and the poll after it timed the update out
    assert (execution.status, execution.error) == ("FAILED", "EndpointUpdateTimedOut")
    checks = [e for e in execution.events if e["type"] == "TaskStateEntered"
              and e["stateEnteredEventDetails"]["name"] == "CheckUpdate"]
    # Measured from the Deadline the workflow computed (the execution's StartTime + TimeoutSeconds): the first
    # history event can trail StartTime by seconds on a loaded machine.
    deadline = dt.datetime.fromisoformat(json.loads(checks[-1]["stateEnteredEventDetails"]["input"])["Deadline"])
    noticed = (checks[-1]["timestamp"] - deadline).total_seconds()
    print(f"deadline 1000 s: noticed {noticed:.1f} s after it")
    assert 0 <= noticed <= SLACK
    assert execution.states_entered.count("WaitForUpdateEvent") == 4  # 300 + 300 + 300 + about 100 s
    assert scaling_state(ENDPOINT) == before
