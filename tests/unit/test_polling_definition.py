"""The ASL's polling: the first poll waits InitialPollDelaySeconds, each later cycle is at most 3 transitions,
and every Wait reads seconds a function computed against the deadline, never a request field directly."""

import json
from typing import Any

from statemachine import read_definition


def branch_states() -> dict[str, Any]:
    definition = json.loads(read_definition())
    return dict(definition["States"]["Update"]["Branches"][0]["States"])


def polling_route(states: dict[str, Any], choice: str) -> str:
    """Where a HowToWait Choice sends an execution whose request says Completion polling."""
    rules = [r for r in states[choice]["Choices"] if r["Variable"] == "$.Request.Completion"]
    assert [r["StringEquals"] for r in rules] == ["polling"]
    return str(rules[0]["Next"])


def test_the_first_poll_waits_what_update_endpoint_computed() -> None:
    states = branch_states()
    assert states["UpdateEndpoint"]["Next"] == "HowToWaitForUpdate"
    first = states[polling_route(states, "HowToWaitForUpdate")]
    assert first["Type"] == "Wait"
    assert first["SecondsPath"] == states["UpdateEndpoint"]["ResultPath"] + ".WaitSeconds"
    assert first["Next"] == "CheckUpdate"


def test_a_poll_cycle_is_at_most_three_transitions() -> None:
    # Given the polling loop from the check back to itself while the endpoint is still updating
    states = branch_states()
    cycle, name = [], states["CheckUpdate"]["Next"]
    while name != "CheckUpdate":
        cycle.append(name)
        state = states[name]
        name = state.get("Default") if state["Type"] == "Choice" else state["Next"]
    assert "events" not in str(states["IsUpdateComplete"]["Default"])
    # Then the check, the choice and one wait are all it enters, and the wait is what the check computed
    assert len(cycle) + 1 <= 3
    assert [states[n]["SecondsPath"] for n in cycle if states[n]["Type"] == "Wait"] == [
        states["CheckUpdate"]["ResultPath"] + ".WaitSeconds"]


def test_every_wait_reads_seconds_cut_short_at_the_deadline() -> None:
    # Given every Wait state of the workflow
    waits = {name: state for name, state in branch_states().items() if state["Type"] == "Wait"}
    assert set(waits) == {"WaitForCapacity", "WaitBeforeFirstPoll", "WaitForUpdate"}
    # Then none waits a fixed time or a request field: each reads the WaitSeconds of a function's result
    for name, wait in waits.items():
        assert "Seconds" not in wait, name
        assert wait["SecondsPath"].endswith(".WaitSeconds") and not wait["SecondsPath"].startswith("$.Request"), name


def test_the_capacity_loop_raises_one_variant_and_checks_it_before_the_next() -> None:
    # Given the capacity states
    states = branch_states()
    # Then a raise is always followed by a wait and a check of that raise, and only a confirmed check leads on
    assert states["RaiseCapacity"]["Next"] == "HowToWaitForCapacity"
    assert polling_route(states, "HowToWaitForCapacity") == "WaitForCapacity"
    assert states["WaitForCapacity"]["Next"] == "CheckCapacity"
    check = states["CheckCapacity"]
    assert check["Parameters"]["Capacity.$"] == states["RaiseCapacity"]["ResultPath"]
    assert check["ResultPath"] == states["WaitForCapacity"]["SecondsPath"].removesuffix(".WaitSeconds")
    ready = states[check["Next"]]
    assert ready["Default"] == "WaitForCapacity"
    assert {choice["Next"] for choice in ready["Choices"]} == {"RaiseCapacity", "CreateEndpointConfig",
                                                               "WaitForCapacityEvent"}
