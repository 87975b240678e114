"""`--local`: the embedded emulator, with the demo's autoscaled endpoint, for one command.

The emulator lives in this process. Commands run inside an open session (the tests keep one open
across several commands) reuse it; otherwise each command gets a fresh one, so a `status` or
`history` of an execution started by an earlier command finds nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from endpoint_updater.offline.demo import prepare_endpoint
from endpoint_updater.offline.runner import LocalRunner, environment

_active: list[LocalRunner] = []


def is_open() -> bool:
    """Whether a command before this one opened the emulator and keeps it (it then outlives this command)."""
    return bool(_active)


@contextlib.contextmanager
def session() -> Iterator[LocalRunner]:
    """The emulator open in this process, or a new one with the demo endpoint, closed on exit."""
    if _active:
        yield _active[-1]
        return
    # The functions' metrics are CloudWatch embedded-metric lines on stdout, where --json output goes.
    with environment({"POWERTOOLS_METRICS_DISABLED": "true"}), LocalRunner() as runner:
        prepare_endpoint()
        _active.append(runner)
        try:
            yield runner
        finally:
            _active.pop()
