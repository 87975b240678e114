"""The seconds a Wait state waits: the poll interval, cut short at the request's deadline."""

from __future__ import annotations

import datetime as dt

import pytest

from endpoint_updater.core import clock
from endpoint_updater.core.endpoint import seconds_to_wait

NOW = dt.datetime(2026, 11, 29, 12, 0, 0, tzinfo=dt.UTC)


def wait(seconds_left: float, interval: int) -> int:
    deadline = (NOW + dt.timedelta(seconds=seconds_left)).isoformat()
    with clock.reading(lambda: NOW):
        return seconds_to_wait(deadline, interval)


@pytest.mark.parametrize(("seconds_left", "interval", "expected"), [
    (3600, 28, 28),       # far from the deadline: the interval
    (2, 12, 2),           # TimeoutSeconds 2, InitialPollDelaySeconds 12: wait until the deadline only
    (10, 3600, 10),       # the largest interval never overshoots
    (28, 28, 28),         # exactly one interval left
    (0.25, 28, 1),        # a fraction left: rounded up, so the poll after it is at or past the deadline
    (0, 28, 0),           # at the deadline: poll at once
    (-30, 28, 0),         # past it: poll at once (and the check raises EndpointUpdateTimedOut)
    (100, 0, 0),          # InitialPollDelaySeconds 0
])
def test_the_wait_is_the_interval_or_what_is_left_before_the_deadline(seconds_left: float, interval: int,
                                                                       expected: int) -> None:
    assert wait(seconds_left, interval) == expected


def test_no_wait_ends_past_the_deadline_by_a_second_or_more() -> None:
    # Given deadlines at every fraction of a second over the next few seconds
    for tenths in range(1, 60):
        left = tenths / 10
        # When the wait is computed / Then waiting it lands at the deadline, or less than a second after it
        assert left <= wait(left, 3600) < left + 1
