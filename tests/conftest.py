"""Fixtures shared by the suites that run against the emulator."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from offline.runner import LocalRunner

logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)


@pytest.fixture
def runner() -> Iterator[LocalRunner]:
    """The workflow deployed into a fresh emulated account."""
    with LocalRunner() as local:
        yield local
