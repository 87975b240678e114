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
  then moves straight to the earliest moment anything is due (a pause ends, a step's or an execution's
  TimeoutSeconds, a timer, the caller's own `sleep`). The order in which things happen is the order real
  time would give them, so poll counts, deadlines and rollbacks come out the same; only the idle seconds
  are gone.
* Outside those calls the caller is busy (it starts an execution, stops one, looks at the endpoint) and
  time runs at real speed only, as it would on AWS while a person or a program acts: a test that stops an
  execution "while it waits" still finds it waiting.

Several executions can be paused at once, and several states of one execution (Parallel branches, Map
iterations): an execution that says which of its threads are working (`working_threads()`: all but those
waiting for other threads of it to end) is idle only when each of them is paused; a Task waiting for a child
execution it started is paused while the child runs. Several threads can wait for the workflow. A jump
needs every waiting thread to have looked at the workflow since the last change (a pause, a jump, or a
timer's action ending): a thread waiting for an execution to enter a state is never carried past that state
by another thread's jump.

A Task that waits for a task token (`.waitForTaskToken`) is paused too: until its TimeoutSeconds or
HeartbeatSeconds, or with no due moment at all when it has neither (it is idle, yet nothing it waits for
is due: only SendTaskSuccess, SendTaskFailure, a stop, or the execution's own TimeoutSeconds ends it). A
step's TimeoutSeconds is a `deadline`: a due moment a jump may go to, while the step itself may be busy.

Timers (`call_at`) run an action on a worker thread once the clock reaches their moment (the emulator
delivers late events with them). A pending timer is a due moment; a timer whose moment has come is busy
until its action returns, like the caller: time does not jump then.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

# How often a paused execution checks whether it was stopped, and a waiting caller whether an execution
# ended (neither is announced to the clock).
POLL_SECONDS = 0.01
# How long closing the clock waits for a timer's action that is running to return.
ACTION_JOIN_SECONDS = 60.0

_log = logging.getLogger(__name__)


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
    owner: str | None
    """The execution this pause makes idle; None for a deadline (its thread may be busy)."""
    until: float | None
    """When it ends on this clock; None: no due moment (a callback wait with no timeout)."""
    running: Callable[[], bool]
    thread: threading.Thread | None = None
    """The thread that is paused."""


@dataclass
class _Timer:
    until: float
    action: Callable[[], None]
    cancelled: bool = False


class Timer:
    """A pending `call_at`: `cancel()` drops it if its action has not begun."""

    def __init__(self, clock: VirtualClock, timer: _Timer) -> None:
        self._clock = clock
        self._timer = timer

    def cancel(self) -> None:
        with self._clock._changed:
            self._timer.cancelled = True
            self._clock._changed.notify_all()


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
        self._timers: dict[int, _Timer] = {}
        self._timer_threads: list[threading.Thread] = []
        self._closed = False
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

    def pause(self, owner: str, seconds: float | None, running: Callable[[], bool]) -> None:
        """A Wait state, Retry interval or callback wait of execution `owner`: returns once `seconds` have
        passed on this clock, or as soon as `running()` is False (the execution was stopped or timed out, the
        task token was answered). `seconds` None: the execution is idle with no due moment; only
        `running()` ends the pause."""
        if seconds is not None and seconds <= 0:
            return
        key = next(self._ids)
        with self._changed:
            until = None if seconds is None else self.monotonic() + seconds
            self._pauses[key] = _Pause(owner, until, running, threading.current_thread())
            self._generation += 1
            self._changed.notify_all()
            try:
                while running():
                    left = POLL_SECONDS if until is None else until - self.monotonic()
                    if left <= 0:
                        return
                    self._changed.wait(min(left, POLL_SECONDS))
            finally:
                del self._pauses[key]

    def deadline(self, seconds: float, done: Callable[[float], bool]) -> bool:
        """Wait until the step ends (True) or `seconds` have passed on this clock (False): a step's
        TimeoutSeconds. `done(t)` waits at most `t` real seconds for the step's end and says whether it has
        ended (a `threading.Event`'s wait). It does not make anything idle (the step may be running a
        function), but its end is a due moment a jump may go to, so a step waiting for a callback times out
        at its TimeoutSeconds."""
        key = next(self._ids)
        with self._changed:
            until = self.monotonic() + seconds
            self._pauses[key] = _Pause(None, until, lambda: not done(0))
        try:
            while True:
                left = until - self.monotonic()
                if left <= 0:
                    return done(0)
                # On the step's own event, not the clock's lock: a step that ends is seen at once.
                if done(min(left, POLL_SECONDS)):
                    return True
        finally:
            with self._changed:
                del self._pauses[key]

    # -- timers ------------------------------------------------------------------------------------------
    def call_at(self, seconds: float, action: Callable[[], None]) -> Timer:
        """Run `action()` on a worker thread once `seconds` from now have passed on this clock. Time does
        not jump while it runs; an exception it raises is logged. Once the clock is closed, nothing more is
        scheduled."""
        if seconds < 0:
            raise ValueError("seconds must be >= 0")
        key = next(self._ids)
        with self._changed:
            timer = _Timer(self.monotonic() + seconds, action, cancelled=self._closed)
            if self._closed:
                return Timer(self, timer)
            self._timers[key] = timer
            thread = threading.Thread(target=self._run_timer, args=(key, timer), daemon=True,
                                      name=f"clock-timer-{key}")
            self._timer_threads = [t for t in self._timer_threads if t.is_alive()]
            self._timer_threads.append(thread)
            # A new due moment: a waiter must look again before a jump may go past it.
            self._generation += 1
            self._changed.notify_all()
        thread.start()
        return Timer(self, timer)

    def _run_timer(self, key: int, timer: _Timer) -> None:
        with self._changed:
            while not timer.cancelled:
                left = timer.until - self.monotonic()
                if left <= 0:
                    break
                # Every change of the skew notifies, so waiting out the real remainder is exact.
                self._changed.wait(left)
            if timer.cancelled:
                del self._timers[key]
                self._changed.notify_all()
                return
        try:
            timer.action()
        except Exception:
            _log.exception("a timer's action raised")
        finally:
            with self._changed:
                del self._timers[key]
                self._generation += 1
                self._changed.notify_all()

    def close(self) -> None:
        """Drop every pending timer, and wait for the actions that are running to return."""
        with self._changed:
            self._closed = True
            for timer in self._timers.values():
                timer.cancelled = True
            self._changed.notify_all()
            threads = list(self._timer_threads)
        for thread in threads:
            if thread is not threading.current_thread():
                thread.join(timeout=ACTION_JOIN_SECONDS)
                if thread.is_alive():
                    raise RuntimeError(f"a timer's action ({thread.name}) still runs {ACTION_JOIN_SECONDS} s "
                                       "after the clock was closed")

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
        """With the lock held: move to the earliest due moment, if every running execution is paused, no
        timer's action is due or running, and every waiter has seen the workflow as it is."""
        if not self._jumps or any(w.seen != self._generation for w in self._waiters.values()):
            return False
        now = self.monotonic()
        timers = [t.until for t in self._timers.values() if not t.cancelled]
        if any(until <= now for until in timers):
            return False
        # What runs is read before what is paused: a pause ends when something it waits for ends (a child
        # execution, a token's task), never the other way round, so an end that happens while this looks is
        # seen either as still running (not idle) or as a pause that has ended (not paused).
        running = self._running()
        working = [self._working(execution) for execution in running]
        waits = [p for p in self._pauses.values() if p.running()]
        # A pause or deadline that has ended, but whose thread has not yet gone on, is about to act.
        if any(p.until is not None and p.until <= now for p in waits):
            return False
        if not all(self._idle(execution, threads, waits)
                   for execution, threads in zip(running, working, strict=True)):
            return False
        owners = {execution.arn for execution in running}
        due = [p.until for p in waits if p.until is not None and (p.owner is None or p.owner in owners)]
        due += [now + (self._timeout_at(e) - self.utcnow()).total_seconds() for e in running
                if e.timeout_seconds is not None]
        due += [w.until for w in self._waiters.values() if w.until is not None]
        due += timers
        target = min(due, default=None)
        if target is None or target <= now:
            return False
        self._skew += target - now
        self._generation += 1
        self._changed.notify_all()
        return True

    @staticmethod
    def _working(execution: Running) -> Sequence[threading.Thread] | None:
        """The execution's threads that are not waiting for other threads of it; None if it does not say."""
        working: Callable[[], Sequence[threading.Thread]] | None = getattr(execution, "working_threads", None)
        return None if working is None else working()

    @staticmethod
    def _idle(execution: Running, working: Sequence[threading.Thread] | None, waits: list[_Pause]) -> bool:
        """Every working thread of the execution is paused (an execution that does not tell its threads: one
        of them is paused)."""
        if working is None:
            return any(p.owner == execution.arn for p in waits)
        paused = {p.thread for p in waits if p.owner == execution.arn}
        return bool(working) and all(thread in paused for thread in working)

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
