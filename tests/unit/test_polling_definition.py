"""The ASL's polling: the first poll waits InitialPollDelaySeconds, each later cycle is at most 3 transitions."""

import json
from typing import Any

from statemachine import read_definition


def branch_states() -> dict[str, Any]:
    definition = json.loads(read_definition())
    return dict(definition["States"]["Update"]["Branches"][0]["States"])


def test_the_first_poll_waits_the_initial_delay() -> None:
    states = branch_states()
    first = states[states["UpdateEndpoint"]["Next"]]
    assert first["Type"] == "Wait"
    assert first["SecondsPath"] == "$.Request.InitialPollDelaySeconds"
    assert first["Next"] == "CheckUpdate"


def test_a_poll_cycle_is_at_most_three_transitions() -> None:
    # Given the loop from the check back to itself while the endpoint is still updating
    states = branch_states()
    cycle, name = [], states["CheckUpdate"]["Next"]
    while name != "CheckUpdate":
        cycle.append(name)
        state = states[name]
        name = state.get("Default") if state["Type"] == "Choice" else state["Next"]
    # Then the check, the choice and one wait are all it enters, and the wait is the interval
    assert len(cycle) + 1 <= 3
    assert [states[n]["SecondsPath"] for n in cycle if states[n]["Type"] == "Wait"] == [
        "$.Request.PollIntervalSeconds"]
