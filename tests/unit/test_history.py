"""The execution history limit: events per wait cycle read from the definition, the worst case of any request
validation accepts, and the refusal of one that could pass the limit."""

from __future__ import annotations

import json
from typing import Any

import pytest

from endpoint_updater.core import history
from endpoint_updater.core.errors import InvalidInput
from endpoint_updater.core.request import POLL_INTERVAL_RANGE, SAFETY_INTERVAL_RANGE, TIMEOUT_RANGE, parse_request
from endpoint_updater.core.shapes import variant_fields
from statemachine import all_states, read_definition
from statemachine import history as from_definition

LARGEST_TIMEOUT = TIMEOUT_RANGE[1]
SMALLEST_INTERVAL = {"polling": POLL_INTERVAL_RANGE[0], "events": SAFETY_INTERVAL_RANGE[0]}
INTERVAL_RANGE = {"polling": POLL_INTERVAL_RANGE, "events": SAFETY_INTERVAL_RANGE}


def states() -> dict[str, Any]:
    return all_states(json.loads(read_definition())["States"])


def test_the_figures_validation_uses_are_those_of_the_definition() -> None:
    # Given the definition as deployed
    figures = from_definition.figures()
    # Then the functions' copy of its figures is the same
    assert figures.events_per_cycle == history.EVENTS_PER_CYCLE
    assert figures.once == history.EVENTS_ONCE
    assert figures.per_raise == history.EVENTS_PER_RAISE


@pytest.mark.parametrize(("phase", "mode", "cycle", "events"), [
    ("Update", "polling", ("CheckUpdate", "IsUpdateComplete", "WaitForUpdate"), 9),
    ("Update", "events", ("WaitForUpdateEvent", "CheckUpdate", "IsUpdateComplete"), 13),
    ("Capacity", "polling", ("WaitForCapacity", "CheckCapacity", "IsCapacityReady"), 9),
    ("Capacity", "events", ("WaitForCapacityEvent", "CheckCapacity", "IsCapacityReady"), 13),
])
def test_each_loop_is_found_in_the_definition_with_its_events(phase: str, mode: str, cycle: tuple[str, ...],
                                                              events: int) -> None:
    # When the loop is followed while the endpoint stays busy (and, with events, every event is lost)
    found = from_definition.loop(states(), phase, mode)
    # Then its cycle is those states: a Lambda task writes 5 events, a callback task 6, a Wait or Choice 2
    assert found.cycle == cycle
    assert found.events_per_cycle == events


def test_a_callback_task_writes_one_more_event_than_a_lambda_task() -> None:
    # TaskSubmitted: the callback task's function has returned, the task waits for its token
    assert from_definition.events_of(states()["WaitForUpdateEvent"]) == 6
    assert from_definition.events_of(states()["CheckUpdate"]) == 5


@pytest.mark.parametrize("mode", ["polling", "events"])
def test_the_worst_case_of_every_accepted_request_stays_under_the_limit(mode: str) -> None:
    # Given the largest TimeoutSeconds, and the smallest interval validation accepts with it
    interval = max(SMALLEST_INTERVAL[mode], history.smallest_interval(LARGEST_TIMEOUT, mode))
    # Then its worst case is within the budget, under 25,000, and one second less is refused
    worst = history.worst_case(LARGEST_TIMEOUT, interval, mode)
    print(f"{mode}: TimeoutSeconds {LARGEST_TIMEOUT}, interval {interval} s: worst case {worst} events")
    assert worst <= history.BUDGET < history.HISTORY_LIMIT == 25_000
    if interval > SMALLEST_INTERVAL[mode]:
        assert history.worst_case(LARGEST_TIMEOUT, interval - 1, mode) > history.BUDGET
    # And with the smallest interval, the largest TimeoutSeconds accepted is within the budget too
    longest = min(LARGEST_TIMEOUT, history.largest_timeout(SMALLEST_INTERVAL[mode], mode))
    assert history.worst_case(longest, SMALLEST_INTERVAL[mode], mode) <= history.BUDGET
    if longest < LARGEST_TIMEOUT:
        assert history.worst_case(longest + 1, SMALLEST_INTERVAL[mode], mode) > history.BUDGET


def test_with_events_every_combination_of_the_fields_is_accepted() -> None:
    # The smallest safety interval and the largest TimeoutSeconds: 1,440 cycles of 13 events at most
    worst = history.worst_case(LARGEST_TIMEOUT, SAFETY_INTERVAL_RANGE[0], "events")
    assert worst == 19_226 <= history.BUDGET


def test_the_worst_case_counts_a_cycle_per_interval() -> None:
    assert history.worst_case(3600, 28, "polling") + 9 == history.worst_case(3600 + 28, 28, "polling")


def refused(raw: dict[str, Any]) -> str:
    with pytest.raises(InvalidInput) as caught:
        parse_request({"EndpointName": "e", **raw}, variant_fields())
    return str(caught.value)


def test_polling_every_second_for_a_day_is_refused_with_what_would_be_accepted() -> None:
    # Given a polling request that could write far more than 25,000 events
    message = refused({"Completion": "polling", "PollIntervalSeconds": 1, "TimeoutSeconds": 86400})
    # Then the error names both fields and what would be accepted instead
    assert "TimeoutSeconds, PollIntervalSeconds:" in message
    assert "TimeoutSeconds at most 2453 with this PollIntervalSeconds" in message
    assert "PollIntervalSeconds at least 36 with this TimeoutSeconds" in message
    assert "Completion events" in message
    # And what it offers is accepted
    parse_request({"EndpointName": "e", "Completion": "polling", "PollIntervalSeconds": 1, "TimeoutSeconds": 2453},
                  variant_fields())
    parse_request({"EndpointName": "e", "Completion": "polling", "PollIntervalSeconds": 36, "TimeoutSeconds": 86400},
                  variant_fields())


def test_the_default_poll_interval_for_a_day_is_refused() -> None:
    # The example: at 28 s an update of about 21 hours would kill its own execution
    message = refused({"Completion": "polling", "TimeoutSeconds": 86400})
    assert "PollIntervalSeconds 28" in message and "PollIntervalSeconds at least 36" in message


def test_an_interval_alone_is_checked_against_the_default_timeout() -> None:
    assert "TimeoutSeconds at most 12269" in refused({"Completion": "polling", "PollIntervalSeconds": 5})


def test_the_poll_interval_does_not_limit_an_events_request() -> None:
    # With events the polling loop never runs: the safety interval is the one that counts
    request = parse_request({"EndpointName": "e", "PollIntervalSeconds": 1, "TimeoutSeconds": 86400}, variant_fields())
    assert (request.Completion, request.SafetyIntervalSeconds) == ("events", 900)


def test_a_field_out_of_its_range_is_reported_on_its_own() -> None:
    message = refused({"Completion": "polling", "PollIntervalSeconds": 0, "TimeoutSeconds": 86400})
    assert "PollIntervalSeconds: 0 is not allowed" in message and "history" not in message


@pytest.mark.parametrize("value", ["Events", "poll", 1, None])
def test_an_unknown_completion_names_the_two_allowed(value: Any) -> None:
    message = refused({"Completion": value})
    assert "Completion:" in message and "give events" in message and "or polling" in message


@pytest.mark.parametrize("value", [59, 3601, "300", 300.5])
def test_a_safety_interval_out_of_range_says_the_range(value: Any) -> None:
    assert "SafetyIntervalSeconds:" in refused({"SafetyIntervalSeconds": value}) and "60 to 3600" in \
        refused({"SafetyIntervalSeconds": value})
