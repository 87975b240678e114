"""The command line, run in-process against the embedded emulator.

`cli.local.session()` stays open for the whole test, so the commands of one test share one emulated
account, as they would share one AWS account.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from endpoint_updater.cli import local
from endpoint_updater.offline.runner import LocalRunner


@pytest.fixture
def emulator() -> Iterator[LocalRunner]:
    """The demo's endpoint in a fresh emulator, open across the commands of a test."""
    with local.session() as runner:
        yield runner
