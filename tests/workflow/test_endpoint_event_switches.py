"""The real definition waiting for SageMaker's endpoint events, under each switch of their delivery.

The emulator sends the events as the endpoint changes status; the runner delivers them through the stack's rule
to the resume function (offline/emulation/events.py, offline/runner.py). Whatever the delivery does (nothing
delivered, everything lost, twice, late, out of order), the update ends as it really ended, the scaling comes
back, and the workflow learns of the end no later than one safety interval after it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from endpoint_updater.core import store
from endpoint_updater.offline import emulation
from endpoint_updater.offline.emulation import events
from endpoint_updater.offline.runner import Execution, LocalRunner
from endpoint_updater.offline.scenario import attach_scaling, create_endpoint, scaling_state

ENDPOINT = "churn-prod"
UPDATE_SECONDS = 600
SAFETY_SECONDS = 120
REQUEST = {"EndpointName": ENDPOINT, "SafetyIntervalSeconds": SAFETY_SECONDS,
           "VariantChanges": [{"VariantName": "AllTraffic", "ModelName": "churn-v8"}]}
WAIT_STATES = frozenset({"HowToWaitForUpdate", "WaitForUpdateEvent", "CheckUpdate", "IsUpdateComplete"})
REAL = 2.0
"""Seconds of real time the steps around a wait may add to an emulated moment."""

SWITCHES: dict[str, dict[str, Any]] = {
    "delivered": {},
    "delivery off": {"delivery": False},
    "all lost": {"loss": 1.0},
    "all duplicated": {"duplication": 1.0},
    "late (90 s)": {"delay": 90.0},
    "later than the safety interval": {"delay": SAFETY_SECONDS * 1.5},
    "all reordered": {"reordering": 1.0, "reorder_window": 30.0},
    "10% lost, 10% duplicated, 10% reordered": {"loss": 0.1, "duplication": 0.1, "reordering": 0.1},
}
# The latest the workflow may learn of the end, after it: the event's own delay when one arrives, and one
# safety interval (plus the check's own run) when none does.
LATEST: dict[str, float] = {
    "delivered": events.DEFAULT_DELAY_SECONDS[1], "delivery off": SAFETY_SECONDS, "all lost": SAFETY_SECONDS,
    "all duplicated": events.DEFAULT_DELAY_SECONDS[1], "late (90 s)": 90.0,
    "later than the safety interval": SAFETY_SECONDS, "all reordered": SAFETY_SECONDS,
    "10% lost, 10% duplicated, 10% reordered": SAFETY_SECONDS,
}
OUTCOMES = {"succeed": ("SUCCEEDED", None, "new"),
            "silent_rollback": ("FAILED", "EndpointUpdateRolledBack", "old"),
            "fail": ("FAILED", "EndpointUpdateFailed", "old")}


def learned_after_end(execution: Execution) -> float:
    """Seconds from the endpoint's final status to the first state after the update's wait."""
    (final,) = [s for s in emulation.ENDPOINT_EVENTS.sent_for(ENDPOINT)
                if s.event["detail-type"] == events.STATE_CHANGE and s.event["detail"]["EndpointStatus"] not in (
                    "CREATING", "UPDATING")][-1:]
    ended = final.event["detail"]["LastModifiedTime"] / 1000
    entered = [e for e in execution.events if e["type"].endswith("StateEntered")]
    names = [e["stateEnteredEventDetails"]["name"] for e in entered]
    after = names.index("UpdateEndpoint") + 1
    first = next(e for e, n in zip(entered[after:], names[after:], strict=True) if n not in WAIT_STATES)
    moment: dt.datetime = first["timestamp"]
    return moment.timestamp() - ended


@pytest.mark.parametrize("outcome", OUTCOMES)
@pytest.mark.parametrize("switch", SWITCHES)
def test_each_switch_of_the_delivery_still_gives_the_update_s_real_outcome(runner: LocalRunner, switch: str,
                                                                           outcome: str) -> None:
    # Given an autoscaled endpoint whose update takes 600 s and ends as `outcome`, and the events' delivery set
    old = create_endpoint(ENDPOINT)
    attach_scaling(ENDPOINT, "AllTraffic")
    before = scaling_state(ENDPOINT)
    emulation.configure_update(ENDPOINT, seconds=UPDATE_SECONDS, outcome=outcome)
    runner.endpoint_events.configure(seed=1, **SWITCHES[switch])

    # When the update runs waiting for SageMaker's events (the default)
    execution = runner.run(REQUEST)

    # Then it ends as the endpoint did, the scaling is back, the lock released
    status, error, config = OUTCOMES[outcome]
    assert (execution.status, execution.error) == (status, error), execution.cause
    assert scaling_state(ENDPOINT) == before
    lock = store.read_lock(ENDPOINT)
    assert (lock.holder, lock.unrestored) == (None, None)
    last = emulation.ENDPOINT_EVENTS.sent_for(ENDPOINT)[-1].event["detail"]["EndpointConfigName"]
    assert ("old" if last == old else "new") == config
    # And it learned of the end no later than the event's delay, or one safety interval, allows
    assert 0 <= learned_after_end(execution) <= LATEST[switch] + REAL
    # And an event that came to nothing (a duplicate, one for a finished wait) made the function fail nowhere
    assert all(d.error is None for d in runner.endpoint_event_deliveries)


def test_with_events_delivered_the_wait_is_one_callback_whatever_the_update_s_length(runner: LocalRunner) -> None:
    # Given an update of 50 minutes, with a safety interval longer than that
    create_endpoint(ENDPOINT)
    attach_scaling(ENDPOINT, "AllTraffic")
    emulation.configure_update(ENDPOINT, seconds=3000)

    execution = runner.run({**REQUEST, "SafetyIntervalSeconds": 3600})

    # Then the event ended the one wait: no safety-net poll, no second wait
    assert execution.status == "SUCCEEDED"
    waits = [n for n in execution.states_entered if n in WAIT_STATES]
    assert waits == ["HowToWaitForUpdate", "WaitForUpdateEvent", "IsUpdateComplete"]
    assert learned_after_end(execution) <= events.DEFAULT_DELAY_SECONDS[1] + REAL


def test_with_every_event_lost_the_safety_net_polls_once_per_interval(runner: LocalRunner) -> None:
    create_endpoint(ENDPOINT)
    attach_scaling(ENDPOINT, "AllTraffic")
    emulation.configure_update(ENDPOINT, seconds=UPDATE_SECONDS)
    runner.endpoint_events.configure(loss=1.0)

    execution = runner.run(REQUEST)

    # 600 s at one poll per 120 s: the polls at 120, 240, 360, 480 find it Updating, the one at 600 done
    assert execution.status == "SUCCEEDED"
    assert execution.states_entered.count("CheckUpdate") == UPDATE_SECONDS // SAFETY_SECONDS
    assert execution.states_entered.count("WaitForUpdateEvent") == UPDATE_SECONDS // SAFETY_SECONDS
