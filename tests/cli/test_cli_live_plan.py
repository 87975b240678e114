"""`make live-plan ENDPOINT=...`: `endpoint-updater plan` against a real account, read-only.

The target is never run by `make test`; here its plan path runs against the emulator through the same code
(the caller's credentials and region, no --local), and every AWS operation it makes is recorded.
"""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.client import BaseClient
from cli_support import ENDPOINT, invoke, world

from endpoint_updater.offline.runner import LocalRunner
from infra.settings import REPO_ROOT

READ_ONLY = ("Describe", "List", "Get")
NEW_MODEL = ("--endpoint", ENDPOINT, "--variant", "AllTraffic", "--model", "churn-v8")


@pytest.fixture
def operations(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every operation a boto3 client makes on this thread (the command's), as "service:Operation". The
    emulator's own deliveries (SageMaker's endpoint events, on the clock's timer threads) are not the plan's."""
    made: list[str] = []
    original = BaseClient._make_api_call
    caller = threading.get_ident()

    def record(client: Any, operation: str, params: Any) -> Any:
        if threading.get_ident() == caller:
            made.append(f"{client.meta.service_model.service_name}:{operation}")
        return original(client, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", record)
    yield made


@pytest.mark.parametrize("request_args", [
    NEW_MODEL,
    (*NEW_MODEL, "--instance-type", "ml.c5.2xlarge", "--capacity-add", "2"),
    ("--endpoint", ENDPOINT, "--input", "examples/two-variants.json"),
    ("--endpoint", ENDPOINT),
    ("--endpoint", "no-such-endpoint"),
], ids=["model", "instance-type-and-raise", "input-file", "nothing-to-change", "unknown-endpoint"])
def test_the_live_plan_makes_only_read_only_calls(emulator: LocalRunner, operations: list[str],
                                                  request_args: tuple[str, ...]) -> None:
    # Given the emulated account, reached as a real one is (credentials and region, no --local)
    before = world()
    operations.clear()

    # When the plan runs as `make live-plan` runs it
    run = invoke("plan", "--region", "us-east-1", "--json", *request_args)

    # Then it answered (a plan or a refusal), every call it made only reads, and nothing changed
    assert run.code in (0, 3), run.stderr
    assert operations, "the plan made no AWS call"
    assert [op for op in operations if not op.split(":")[1].startswith(READ_ONLY)] == []
    assert world() == before


def _make(*args: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items()
           if key not in {"ENDPOINT", "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "INPUT", "REGION", "PROFILE", "JSON"}}
    return subprocess.run(["make", "--no-print-directory", *args], cwd=REPO_ROOT, env=env, capture_output=True,
                          text=True, timeout=60, check=False)


def test_make_live_plan_without_an_endpoint_fails_before_anything_runs() -> None:
    # Given no ENDPOINT / When the target runs
    result = _make("-s", "live-plan")

    # Then it fails at once, saying what to give, and runs no command
    assert result.returncode != 0
    assert "ENDPOINT is required" in result.stderr and "make live-plan ENDPOINT=" in result.stderr
    assert "endpoint-updater plan" not in result.stdout + result.stderr


def test_make_live_plan_runs_the_plan_with_the_callers_account_never_the_emulator() -> None:
    # Given an endpoint, a region and a profile / When the target's commands are listed (not run)
    result = _make("-n", "live-plan", "ENDPOINT=churn-prod", "REGION=eu-west-1", "PROFILE=prod", "JSON=1")

    # Then it is the plan command, for that endpoint, region and profile, without --local
    command = " ".join(result.stdout.replace("\\\n", " ").split())
    assert result.returncode == 0, result.stderr
    assert 'endpoint-updater plan --endpoint "churn-prod" --region "eu-west-1" --profile "prod" --json' in command
    assert "--local" not in command
