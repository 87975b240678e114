"""Fixtures shared by the suites that run against the emulator."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from endpoint_updater.offline.runner import LocalRunner

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


# -- the fault matrix, printed once at the end of the run --------------------------------------------------
# Its cells run in separate tests (and xdist workers): each writes its result to a file, and the process
# that reports the run (the only one without "workerinput") prints them as one table.
MATRIX_DIR = Path(__file__).resolve().parent.parent / ".pytest_cache" / "fault-matrix"


class FaultMatrix:
    def record(self, row: int, step: str, column: int, fault: str, outcome: str) -> None:
        MATRIX_DIR.mkdir(parents=True, exist_ok=True)
        cell = {"row": row, "step": step, "column": column, "fault": fault, "outcome": outcome}
        (MATRIX_DIR / f"{row}-{column}.json").write_text(json.dumps(cell))


@pytest.fixture
def fault_matrix() -> FaultMatrix:
    return FaultMatrix()


def pytest_sessionstart(session: pytest.Session) -> None:
    if not hasattr(session.config, "workerinput"):
        for old in MATRIX_DIR.glob("*.json"):
            old.unlink()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    cells = [json.loads(path.read_text()) for path in sorted(MATRIX_DIR.glob("*.json"))]
    if not cells:
        return
    steps = {c["row"]: c["step"] for c in cells}
    faults = {c["column"]: c["fault"] for c in cells}
    outcome = {(c["row"], c["column"]): c["outcome"] for c in cells}
    width = max(len(o) for o in outcome.values())
    first = max(len(s) for s in steps.values())
    terminalreporter.section(f"fault matrix: {len(cells)} cells (status, scaling, lock, config the endpoint runs)")
    header = " | ".join([f"{'step':<{first}}"] + [f"{faults[c]:<{width}}" for c in sorted(faults)])
    terminalreporter.write_line(header)
    terminalreporter.write_line("-" * len(header))
    for row in sorted(steps):
        terminalreporter.write_line(" | ".join(
            [f"{steps[row]:<{first}}"] + [f"{outcome.get((row, c), '-'):<{width}}" for c in sorted(faults)]))
