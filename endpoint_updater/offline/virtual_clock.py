"""Emulated time for the local runner: real time, plus every interval that nobody had to wait for.

On AWS an update spends nearly all of its time in Wait states and Retry intervals. Executed locally, moto's
interpreter would really sleep through them. Here they are skipped instead, without changing what happens:

* The clock reads real time plus a skew. Everything that looks at time in the workflow reads it: the
  interpreter's Wait states and Retry intervals, the dates it records (the execution's StartTime, history
  timestamps), the functions (`endpoint_updater.core.clock`, so a Deadline computed from StartTime agrees),
  the emulator's update and capacity-change durations, and the state machine's own TimeoutSeconds.
* A Wait state or a Retry interval *pauses* its execution until the clock reaches its end (`pause`).
* Time jumps only while the caller waits for the workflow (`wait_for`, `sleep`: the runner's `wait`,
  `wait_for_state` and `sleep` use them), and only when every running execution is paused: the clock
  then moves straight to the earliest moment anything is due (a pause ends, an execution's TimeoutSeconds,
  the caller's own `sleep`). The order in which things happen is the order real time would give them, so
  poll counts, deadlines and rollbacks come out the same; only the idle seconds are gone.
* Outside those calls the caller is busy (it starts an execution, stops one, looks at the endpoint) and
  time runs at real speed only, as it would on AWS while a person or a program acts: a test that stops an
  execution "while it waits" still finds it waiting.

Several executions can be paused at once (one per running execution: the definition's single-branch
Parallel runs one state at a time), and several threads can wait for them. A jump needs every waiting
thread to have looked at the workflow since the last change (a pause or a jump): a thread waiting for an
execution to enter a state is never carried past that state by another thread's jump.
"""

from __future__ import annotations

import datetime as dt
import itertools
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

# How often a paused execution checks whether it was stopped, and a waiting caller whether an execution
# ended (neither is announced to the clock).
POLL_SECONDS = 0.01


class Running(Protocol):
    """What the clock needs of an execution that has not ended."""

    @property
    def arn(self) -> str: ...

    @property
    def started(self) -> dt.datetime: ...

    @property
    def timeout_seconds(self) -> float | None: ...

    def time_out(self) -> None: ...


@dataclass
class _Pause:
    owner: str
    until: float
    running: Callable[[], bool]


@dataclass
class _Waiter:
    until: float | None
    seen: int = -1
    """The clock's generation when this waiter last looked at the workflow."""


class VirtualClock:
    def __init__(self, running: Callable[[], Sequence[Running]], jumps: bool = True) -> None:
        """`running()`: the executions that have not ended. Without `jumps`, time is real time (the demo
        keeps a pace a person can follow)."""
        self._running = running
        self._jumps = jumps
        self._skew = 0.0
        self._generation = 0
        self._ids = itertools.count()
        self._pauses: dict[int, _Pause] = {}
        self._waiters: dict[int, _Waiter] = {}
        self._changed = threading.Condition()

    # -- reading -----------------------------------------------------------------------------------------
    @property
    def skipped(self) -> float:
        """Seconds of emulated time nobody waited for."""
        return self._skew

    def monotonic(self) -> float:
        return time.monotonic() + self._skew

    def utcnow(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + dt.timedelta(seconds=self._skew)

    # -- moving ------------------------------------------------------------------------------------------
    def advance(self, seconds: float) -> None:
        """`seconds` pass at once, whoever is busy (what ends or times out in them does so)."""
        if seconds < 0:
            raise ValueError("seconds must be >= 0")
        with self._changed:
            self._skew += seconds
            self._generation += 1
            self._changed.notify_all()
        self._expire()

    def pause(self, owner: str, seconds: float, running: Callable[[], bool]) -> None:
        """A Wait state or Retry interval of execution `owner`: returns once `seconds` have passed on this
        clock, or as soon as `running()` is False (the execution was stopped or timed out)."""
        if seconds <= 0:
            return
        key = next(self._ids)
        with self._changed:
            entry = self._pauses[key] = _Pause(owner, self.monotonic() + seconds, running)
            self._generation += 1
            self._changed.notify_all()
            try:
                while running():
                    left = entry.until - self.monotonic()
                    if left <= 0:
                        return
                    self._changed.wait(min(left, POLL_SECONDS))
            finally:
                del self._pauses[key]

    def sleep(self, seconds: float, timeout: float = 600.0) -> None:
        """The caller lets `seconds` of emulated time pass (at most `timeout` real seconds)."""
        until = self.monotonic() + seconds
        if not self.wait_for(lambda: self.monotonic() >= until, timeout, until=until):
            raise TimeoutError(f"{seconds} s of emulated time did not pass within {timeout} real seconds")

    def wait_for(self, done: Callable[[], bool], timeout: float, until: float | None = None) -> bool:
        """Let time pass until `done()` (True), or for `timeout` real seconds (False).

        `done` looks at the workflow (it may call AWS); it runs in this thread, without the clock's lock.
        `until`: this waiter's own due moment on this clock, if any (a jump goes no further).
        """
        key = next(self._ids)
        waiter = _Waiter(until)
        deadline = time.monotonic() + timeout
        with self._changed:
            self._waiters[key] = waiter
        try:
            while True:
                with self._changed:
                    generation = self._generation
                if done():
                    return True
                if time.monotonic() > deadline:
                    return False
                self._expire()
                with self._changed:
                    waiter.seen = generation
                    if generation != self._generation:
                        continue
                    if not self._jump():
                        self._changed.wait(POLL_SECONDS)
        finally:
            with self._changed:
                del self._waiters[key]
                # Another waiter may have been held back only by this one.
                self._changed.notify_all()

    def _jump(self) -> bool:
        """With the lock held: move to the earliest due moment, if every running execution is paused and
        every waiter has seen the workflow as it is."""
        if not self._jumps or any(w.seen != self._generation for w in self._waiters.values()):
            return False
        now = self.monotonic()
        running = self._running()
        paused = {p.owner: p.until for p in self._pauses.values() if p.until > now and p.running()}
        if any(execution.arn not in paused for execution in running):
            return False
        due = [paused[execution.arn] for execution in running]
        due += [now + (self._timeout_at(e) - self.utcnow()).total_seconds() for e in running
                if e.timeout_seconds is not None]
        due += [w.until for w in self._waiters.values() if w.until is not None]
        target = min(due, default=None)
        if target is None or target <= now:
            return False
        self._skew += target - now
        self._generation += 1
        self._changed.notify_all()
        return True

    @staticmethod
    def _timeout_at(execution: Running) -> dt.datetime:
        return execution.started + dt.timedelta(seconds=execution.timeout_seconds or 0)

    def timeout_at(self, execution: Running) -> dt.datetime | None:
        return None if execution.timeout_seconds is None else self._timeout_at(execution)

    def _expire(self) -> None:
        """The executions whose TimeoutSeconds have passed on this clock time out (as moto's interpreter
        does once they have passed in real time)."""
        now = self.utcnow()
        for execution in self._running():
            if execution.timeout_seconds is not None and now >= self._timeout_at(execution):
                execution.time_out()
