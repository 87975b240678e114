"""The functions' one reading of the current time (UTC).

On AWS this is the system clock. The local runner executes the workflow in emulated time, where a Wait
state or a Retry interval takes no real time, and points this at its clock for as long as it runs: the
Deadline the functions compute from the execution's StartTime and compare with now must agree with the
time the interpreter's Wait states measure.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator


def system_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


_source: Callable[[], dt.datetime] = system_now


def now() -> dt.datetime:
    return _source()


@contextlib.contextmanager
def reading(source: Callable[[], dt.datetime]) -> Iterator[None]:
    """`now()` answers `source()` until the block ends."""
    global _source
    previous, _source = _source, source
    try:
        yield
    finally:
        _source = previous
