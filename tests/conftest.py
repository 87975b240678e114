"""Fixtures shared by the suites that run against the emulator."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

import pytest

from offline.runner import LocalRunner

# Node 20 makes jsii print an end-of-life banner; set before any test module imports aws_cdk.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
# The handlers' Tracer sends nothing in tests; their metrics are still flushed to stdout, where tests read them.
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)


@pytest.fixture
def runner() -> Iterator[LocalRunner]:
    """The workflow deployed into a fresh emulated account."""
    with LocalRunner() as local:
        yield local
