"""The emulator's time: how long an update or a capacity change keeps an endpoint Updating, and the dates
it writes (LastModifiedTime, PendingDeploymentSummary.StartTime).

Real time by default; the local runner's emulated time while it runs (:func:`time_source`, fed by
``offline.virtual_clock``), so that an update of N seconds ends after the same Wait states it would in real
time; or held still by a test (:func:`manual_clock`), to look at an endpoint in the middle of an update.
Statuses advance lazily: whenever an operation looks at the endpoint, what has ended by :func:`now` applies.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Callable, Iterator

from endpoint_updater.offline import moto_seam
from endpoint_updater.offline.emulation.lock import LOCK


class ManualClock:
    """A clock that moves only when told to, so a test can look at an endpoint in the middle of an update."""

    def __init__(self, start: float) -> None:
        self._now = start

    def __call__(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("seconds must be >= 0")
        self._now += seconds


# Where durations are measured (monotonic seconds) and dates read (naive UTC, as moto keeps them).
_source: Callable[[], float] = time.monotonic
_dates: Callable[[], dt.datetime] = moto_seam.moto_utcnow
_clock: Callable[[], float] = time.monotonic


def now() -> float:
    return _clock()


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
    """Hold the emulated time still until ``advance``; the time source's time comes back on exit."""
    global _clock
    with LOCK:
        clock = ManualClock(_clock())
        _clock = clock
    try:
        yield clock
    finally:
        with LOCK:
            _clock = _source
