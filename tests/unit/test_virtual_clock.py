"""The local runner's emulated clock, with stand-in executions (no moto, no AWS).

Real time only bounds how long a test may hang (`HANG`); nothing here depends on how fast it runs.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from endpoint_updater.offline.virtual_clock import VirtualClock

HANG = 30.0


@dataclass
class Stand:
    """An execution as the clock sees it: running until `end()`, timed out by `time_out()`."""

    arn: str
    started: dt.datetime
    timeout_seconds: float | None = None
    timed_out: threading.Event = field(default_factory=threading.Event)

    def time_out(self) -> None:
        self.timed_out.set()

    def running(self) -> bool:
        return not self.timed_out.is_set()


class World:
    def __init__(self, jumps: bool = True) -> None:
        self.executions: dict[str, Stand] = {}
        self.clock = VirtualClock(lambda: list(self.executions.values()), jumps=jumps)
        self.start = self.clock.monotonic()

    def elapsed(self) -> float:
        """Emulated seconds since the world began (real time included)."""
        return self.clock.monotonic() - self.start

    def add(self, arn: str, timeout_seconds: float | None = None) -> Stand:
        stand = self.executions[arn] = Stand(arn, self.clock.utcnow(), timeout_seconds)
        return stand

    def end(self, arn: str) -> None:
        del self.executions[arn]

    def in_thread(self, steps: Callable[[], None]) -> threading.Event:
        done = threading.Event()

        def run() -> None:
            steps()
            done.set()

        threading.Thread(target=run, daemon=True).start()
        return done

    def pause(self, stand: Stand, seconds: float) -> None:
        self.clock.pause(stand.arn, seconds, stand.running)

    def paused(self, arn: str) -> bool:
        return any(p.owner == arn for p in list(self.clock._pauses.values()))

    def parked(self, stand: Stand, seconds: float) -> threading.Event:
        """`stand` pauses for `seconds` in a thread of its own; returns once it is paused, with its end."""
        done = self.in_thread(lambda: self.pause(stand, seconds))
        assert self.clock.wait_for(lambda: self.paused(stand.arn), HANG)
        return done


def test_a_pause_ends_at_once_when_the_caller_waits_and_every_execution_is_paused() -> None:
    # Given one execution in an hour-long Wait state
    world = World()
    stand = world.add("a")
    done = world.in_thread(lambda: world.pause(stand, 3600))
    # When the caller waits for it, Then the hour passes on the clock
    assert world.clock.wait_for(done.is_set, HANG)
    assert 3600 <= world.elapsed() < 3600 + HANG


def test_time_does_not_jump_while_an_execution_is_busy() -> None:
    # Given one execution paused for an hour and another one working (never paused)
    world = World()
    paused = world.add("a")
    world.add("b")
    world.parked(paused, 3600)
    # When the caller waits, Then no time is skipped
    assert world.clock.wait_for(lambda: False, 0.3) is False
    assert world.clock.skipped == 0


def test_time_does_not_jump_while_nobody_waits() -> None:
    # Given an execution paused for an hour, and a caller busy with something else
    world = World()
    stand = world.add("a")
    done = world.parked(stand, 3600)
    # When the caller does not wait, Then the execution stays paused and no time is skipped
    assert done.wait(0.3) is False
    assert world.clock.skipped == 0


def test_a_jump_goes_to_the_earliest_moment_something_is_due() -> None:
    # Given two executions paused for 10 s and 30 s, the first ending once its pause is over
    world = World()
    first, second = world.add("first"), world.add("second")

    def first_steps() -> None:
        world.pause(first, 10)
        world.end("first")

    done = world.in_thread(first_steps)
    world.in_thread(lambda: world.pause(second, 30))
    # When the caller waits for the first, Then the clock stopped at its due moment, not the second's
    assert world.clock.wait_for(done.is_set, HANG)
    assert 10 <= world.elapsed() < 30


def test_a_caller_waiting_for_a_state_is_not_carried_past_it_by_another_caller() -> None:
    # Given an execution that pauses twice for 10 s, and a second caller that waits for its end
    world = World()
    stand = world.add("a")
    second_pause = threading.Event()

    def steps() -> None:
        world.pause(stand, 10)
        second_pause.set()
        world.pause(stand, 10)
        world.end("a")

    # When the first caller waits until the execution is in its second pause (the execution and the other
    # caller begin only once it waits: a caller not waiting yet holds nothing back, by design)
    seen: list[float] = []
    threads: dict[str, threading.Event] = {}

    def in_second_pause() -> bool:
        if not threads:
            threads["ended"] = world.in_thread(steps)
            threads["other"] = world.in_thread(lambda: world.clock.wait_for(threads["ended"].is_set, HANG))
        # A look at the workflow takes time (it calls AWS): the other caller must not move the clock meanwhile.
        time.sleep(0.02)
        if second_pause.is_set():
            seen.append(world.elapsed())
            return True
        return False

    assert world.clock.wait_for(in_second_pause, HANG)
    # Then it saw the execution there, 10 s in; once it stops looking, the other caller lets the rest pass
    assert 10 <= seen[0] < 20
    assert threads["other"].wait(HANG) and 20 <= world.elapsed() < 20 + HANG


def test_an_execution_times_out_when_the_clock_reaches_its_timeout_seconds() -> None:
    # Given an execution with TimeoutSeconds 50, paused for 100 s
    world = World()
    stand = world.add("a", timeout_seconds=50)
    done = world.in_thread(lambda: world.pause(stand, 100))
    # When the caller waits, Then the clock stops at the timeout, the execution times out and its pause ends
    assert world.clock.wait_for(done.is_set, HANG)
    assert stand.timed_out.is_set()
    assert 50 <= world.elapsed() < 100


def test_a_sleep_lets_exactly_that_time_pass_when_nothing_runs() -> None:
    world = World()
    before = world.clock.utcnow()
    world.clock.sleep(90)
    assert 90 <= (world.clock.utcnow() - before).total_seconds() < 90 + HANG
    assert 90 <= world.elapsed() < 90 + HANG


def test_advance_moves_every_reading_and_ends_the_pauses_it_covers() -> None:
    world = World()
    stand = world.add("a")
    monotonic, utc = world.clock.monotonic(), world.clock.utcnow()
    done = world.parked(stand, 60)
    world.clock.advance(60)
    assert done.wait(HANG)
    assert world.clock.monotonic() - monotonic >= 60
    assert (world.clock.utcnow() - utc).total_seconds() >= 60
    with pytest.raises(ValueError, match="seconds must be >= 0"):
        world.clock.advance(-1)


def test_a_clock_without_jumps_keeps_real_time() -> None:
    # Given the demo's clock and an execution paused for an hour
    world = World(jumps=False)
    stand = world.add("a")
    world.parked(stand, 3600)
    # When the caller waits, Then nothing is skipped
    assert world.clock.wait_for(lambda: False, 0.3) is False
    assert world.clock.skipped == 0


def test_a_pause_of_a_stopped_execution_ends_at_once() -> None:
    world = World()
    stand = world.add("a")
    done = world.parked(stand, 3600)
    stand.time_out()
    assert done.wait(HANG)
    assert world.clock.skipped == 0
