"""The handlers publish the update metrics (CloudWatch embedded metric format on stdout, as in Lambda)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from endpoint_updater.core.observability import METRICS_NAMESPACE, update_age
from endpoint_updater.offline import emulation
from endpoint_updater.offline.runner import LocalRunner, environment
from endpoint_updater.offline.scenario import ScalingSpec, VariantSpec, attach_scaling, create_endpoint

ENDPOINT = "churn-prod"
CHANGE = {"EndpointName": ENDPOINT, "VariantChanges": [{"VariantName": "AllTraffic", "ModelName": "churn-v8"}],
          "PollIntervalSeconds": 1}


def emitted(text: str) -> list[dict[str, float]]:
    """Each EMF document printed: metric name -> value, for the workflow's namespace."""
    documents = []
    for line in text.splitlines():
        if not line.startswith("{"):
            continue
        document: dict[str, Any] = json.loads(line)
        directives = document.get("_aws", {}).get("CloudWatchMetrics", [])
        if not any(directive["Namespace"] == METRICS_NAMESPACE for directive in directives):
            continue
        if "CompletionDetectionDelay" in document:  # by Path; tests/workflow/test_completion_events.py reads it
            continue
        names = [metric["Name"] for directive in directives for metric in directive["Metrics"]]
        assert all(directive["Dimensions"] == [["service"]] for directive in directives)
        assert document["service"] == "endpoint-updater"
        documents.append({name: float(document[name][0] if isinstance(document[name], list) else document[name])
                          for name in names})
    return documents


@pytest.fixture
def endpoint(runner: LocalRunner) -> LocalRunner:
    create_endpoint(ENDPOINT, (VariantSpec(),))
    attach_scaling(ENDPOINT, "AllTraffic", ScalingSpec(max_capacity=6))
    return runner


def test_a_successful_update_counts_started_succeeded_restored_and_its_duration(
    endpoint: LocalRunner, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an autoscaled endpoint
    # When an update succeeds
    execution = endpoint.run(CHANGE)
    assert execution.status == "SUCCEEDED", execution.cause

    # Then validation counted one start and the restore step one success, one restore and the duration
    documents = emitted(capsys.readouterr().out)
    assert [sorted(document) for document in documents] == [
        ["UpdatesStarted"], ["ScalingRestored", "UpdateDuration", "UpdatesSucceeded"]]
    assert documents[0]["UpdatesStarted"] == 1
    assert documents[1]["UpdatesSucceeded"] == 1 and documents[1]["ScalingRestored"] == 1
    assert 0 < documents[1]["UpdateDuration"] < 120


def test_a_failed_update_counts_a_failure_and_still_a_restore(
    endpoint: LocalRunner, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an endpoint whose next update rolls back
    emulation.configure_update(ENDPOINT, seconds=0.2, outcome="rollback")

    # When the update runs
    execution = endpoint.run(CHANGE)
    assert execution.status == "FAILED", execution.cause

    # Then the restore step counted a failure (not a success) and the restore
    documents = emitted(capsys.readouterr().out)
    assert [sorted(document) for document in documents] == [
        ["UpdatesStarted"], ["ScalingRestored", "UpdateDuration", "UpdatesFailed"]]


def test_a_refused_request_starts_no_update(endpoint: LocalRunner, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a request that names a variant the endpoint does not have
    bad = {**CHANGE, "VariantChanges": [{"VariantName": "Nope", "ModelName": "churn-v8"}]}

    # When it is submitted
    execution = endpoint.run(bad)
    assert execution.status == "FAILED"

    # Then nothing is counted: the update never started
    assert emitted(capsys.readouterr().out) == []


def test_the_duration_is_measured_from_the_execution_start() -> None:
    # Given a state whose deadline is the start plus a one-hour timeout
    start = dt.datetime(2026, 11, 26, 23, 0, tzinfo=dt.UTC)
    state = {"Deadline": (start + dt.timedelta(hours=1)).isoformat(), "Request": {"TimeoutSeconds": 3600}}

    # When its age is read 95 seconds after the start
    # Then it is 95 seconds
    assert update_age(state, now=start + dt.timedelta(seconds=95)) == 95


def test_an_emulator_closed_with_metrics_disabled_leaves_none_for_the_next_flush(
        capsys: pytest.CaptureFixture[str]) -> None:
    # Given an update run with metrics disabled, as the command line's --local and the demo run them
    # (Powertools then neither prints nor clears what the functions add)
    with environment({"POWERTOOLS_METRICS_DISABLED": "true"}), LocalRunner() as runner:
        create_endpoint(ENDPOINT, (VariantSpec(),))
        attach_scaling(ENDPOINT, "AllTraffic", ScalingSpec(max_capacity=6))
        assert runner.run(CHANGE).status == "SUCCEEDED"
    capsys.readouterr()

    # When a later emulator in the same process runs an update with metrics on
    with LocalRunner() as runner:
        create_endpoint(ENDPOINT, (VariantSpec(),))
        attach_scaling(ENDPOINT, "AllTraffic", ScalingSpec(max_capacity=6))
        assert runner.run(CHANGE).status == "SUCCEEDED"

    # Then its metrics are its own: one start, then one success, restore and duration
    assert [sorted(document) for document in emitted(capsys.readouterr().out)] == [
        ["UpdatesStarted"], ["ScalingRestored", "UpdateDuration", "UpdatesSucceeded"]]
