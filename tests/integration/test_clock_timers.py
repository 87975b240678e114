"""Timers of the runner's clock: an action runs once the clock reaches its moment.

Real time only bounds how long a test may hang (`HANG`); every moment asserted is emulated time.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import pytest

from endpoint_updater.offline.runner import LocalRunner
from endpoint_updater.offline.virtual_clock import VirtualClock

HANG = 30.0
# Real time that passes while something runs is emulated time too: what a busy machine adds to a duration.
SLACK = 5.0


class Record:
    """When (emulated seconds since it was made) each named action ran."""

    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self.start = clock.monotonic()
        self.ran: list[tuple[str, float]] = []

    def action(self, name: str) -> Callable[[], None]:
        return lambda: self.ran.append((name, self.clock.monotonic() - self.start))

    def names(self) -> list[str]:
        return [name for name, _ in self.ran]


def test_timers_run_in_the_order_of_their_moments_at_those_moments(runner: LocalRunner) -> None:
    record = Record(runner.clock)
    runner.call_later(30, record.action("late"))
    runner.call_later(10, record.action("early"))
    # When the caller lets a minute pass, then each action ran at its moment, in that order
    runner.sleep(60)
    assert record.names() == ["early", "late"]
    (_, early), (_, late) = record.ran
    assert 10.0 <= early < 10 + SLACK
    assert 30.0 <= late < 30 + SLACK


def test_time_does_not_jump_while_an_action_runs(runner: LocalRunner) -> None:
    record = Record(runner.clock)
    started, release = threading.Event(), threading.Event()

    def blocking() -> None:
        started.set()
        release.wait(HANG)

    # Given an action at 10 s that has begun and does not return yet, and another timer due at 50 s
    runner.call_later(10, blocking)
    runner.call_later(50, record.action("next"))
    assert runner.clock.wait_for(started.is_set, HANG)
    # When the caller waits for the workflow for a while (it looks at it several times)
    looks = 0

    def looked_five_times() -> bool:
        nonlocal looks
        looks += 1
        return looks > 5

    assert runner.clock.wait_for(looked_five_times, HANG)
    # Then time has not jumped to the next timer: the action is busy, like a caller
    assert runner.clock.monotonic() - record.start < 10 + SLACK
    assert record.ran == []
    release.set()
    runner.sleep(60)
    assert record.names() == ["next"]


def test_an_action_can_schedule_the_next_one(runner: LocalRunner) -> None:
    record = Record(runner.clock)

    def first() -> None:
        record.action("first")()
        runner.call_later(20, record.action("second"))

    runner.call_later(10, first)
    runner.sleep(60)
    assert record.names() == ["first", "second"]
    assert 30.0 <= record.ran[1][1] < 30 + SLACK


def test_a_cancelled_timer_does_not_run(runner: LocalRunner) -> None:
    record = Record(runner.clock)
    timer = runner.call_later(10, record.action("cancelled"))
    runner.call_later(20, record.action("kept"))
    timer.cancel()
    runner.sleep(60)
    assert record.names() == ["kept"]


def test_an_action_that_raises_is_logged_and_later_timers_still_run(
        runner: LocalRunner, caplog: pytest.LogCaptureFixture) -> None:
    record = Record(runner.clock)

    def broken() -> None:
        raise RuntimeError("the action failed")

    runner.call_later(10, broken)
    runner.call_later(20, record.action("after"))
    with caplog.at_level(logging.ERROR, logger="endpoint_updater.offline.virtual_clock"):
        runner.sleep(60)
    assert record.names() == ["after"]
    assert any("the action failed" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)


def test_timers_left_when_the_runner_exits_are_dropped() -> None:
    with LocalRunner() as runner:
        record = Record(runner.clock)
        runner.call_later(100, record.action("pending"))
        threads = list(runner.clock._timer_threads)
    # When the runner has exited, then the pending action never runs and its thread has ended
    assert record.ran == []
    assert [t.name for t in threads if t.is_alive()] == []
    # And a timer set afterwards is dropped too
    runner.call_later(0, record.action("after exit"))
    assert record.ran == []


def test_without_jumps_an_action_runs_at_its_real_moment() -> None:
    clock = VirtualClock(lambda: [], jumps=False)
    ran = threading.Event()
    moments: list[float] = []
    due = clock.monotonic() + 0.01

    def action() -> None:
        moments.append(clock.monotonic())
        ran.set()

    clock.call_at(0.01, action)
    assert ran.wait(HANG)
    assert moments[0] >= due
    assert clock.skipped == 0.0
    clock.close()
