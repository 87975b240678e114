"""The emulator's time: how long an update or a capacity change keeps an endpoint Updating, and the dates
it writes (LastModifiedTime, PendingDeploymentSummary.StartTime).

Real time by default; the local runner's emulated time while it runs (:func:`time_source`, fed by
``offline.virtual_clock``), so that an update of N seconds ends after the same Wait states it would in real
time; or held still by a test (:func:`manual_clock`), to look at an endpoint in the middle of an update.
Statuses advance lazily: whenever an operation looks at the endpoint, what has ended by :func:`now` applies.
Where a timer service is given (:func:`timers`: the local runner's clock; a manual clock's own), the emulator
also schedules each change for the moment it ends (:func:`call_later`), so that what happens at that moment
(SageMaker's endpoint events) happens then, whoever looks.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import heapq
import itertools
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from endpoint_updater.offline import moto_seam
from endpoint_updater.offline.emulation.lock import LOCK

Timer = Callable[[float, Callable[[], None]], Any]
"""`call_at(seconds_from_now, action)`: run `action()` once that much emulated time has passed."""


class ManualClock:
    """A clock that moves only when told to, so a test can look at an endpoint in the middle of an update.

    Its timers run in `advance`, in the caller's thread, each at its own moment (the clock reads that moment
    while it runs), in the order they fall due."""

    def __init__(self, start: float) -> None:
        self._now = start
        self._timers: list[tuple[float, int, Callable[[], None]]] = []
        self._order = itertools.count()
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self._now

    def call_at(self, seconds: float, action: Callable[[], None]) -> None:
        with self._lock:
            heapq.heappush(self._timers, (self._now + max(0.0, seconds), next(self._order), action))

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("seconds must be >= 0")
        until = self._now + seconds
        while True:
            with self._lock:
                if not self._timers or self._timers[0][0] > until:
                    break
                due, _, action = heapq.heappop(self._timers)
                self._now = max(self._now, due)
            action()
        self._now = until


# Where durations are measured (monotonic seconds) and dates read (naive UTC, as moto keeps them).
_source: Callable[[], float] = time.monotonic
_dates: Callable[[], dt.datetime] = moto_seam.moto_utcnow
_clock: Callable[[], float] = time.monotonic
# Where the emulator schedules what falls due later; None: nothing is scheduled (statuses still advance lazily).
_timer: Timer | None = None


def now() -> float:
    return _clock()


def call_later(seconds: float, action: Callable[[], None]) -> bool:
    """Run `action()` after `seconds` of emulated time, if a timer service is set; False when none is."""
    timer = _timer
    if timer is None:
        return False
    timer(seconds, action)
    return True


@contextlib.contextmanager
def timers(call_at: Timer) -> Iterator[None]:
    """The emulator schedules with `call_at(seconds_from_now, action)` until the block ends."""
    global _timer
    with LOCK:
        saved = _timer
        _timer = call_at
    try:
        yield
    finally:
        with LOCK:
            _timer = saved


def utcnow() -> dt.datetime:
    return _dates()


@contextlib.contextmanager
def time_source(monotonic: Callable[[], float], utc: Callable[[], dt.datetime]) -> Iterator[None]:
    """The emulator measures durations with `monotonic` and dates what it changes with `utc` (aware or
    naive UTC) until the block ends."""
    global _source, _dates, _clock
    with LOCK:
        saved = _source, _dates, _clock
        _source, _clock = monotonic, monotonic
        _dates = lambda: utc().replace(tzinfo=None)  # noqa: E731
    try:
        yield
    finally:
        with LOCK:
            _source, _dates, _clock = saved


@contextlib.contextmanager
def manual_clock() -> Iterator[ManualClock]:
    """Hold the emulated time still until ``advance``; the time source's time comes back on exit. What the
    emulator schedules meanwhile runs in ``advance``; what is still pending on exit is dropped."""
    global _clock, _timer
    with LOCK:
        clock = ManualClock(_clock())
        saved = _timer
        _clock, _timer = clock, clock.call_at
    try:
        yield clock
    finally:
        with LOCK:
            _clock, _timer = _source, saved
