"""The restore checks what it restores: a snapshot altered in the updates table (another endpoint's resource,
an alarm not captured for the endpoint, other capacities) is refused before any write, counted by the
SnapshotsRefused metric, and the endpoint stays marked unrestored."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from endpoint_updater.core import store
from endpoint_updater.offline.runner import LocalRunner
from endpoint_updater.offline.scenario import VariantSpec, attach_scaling, create_endpoint, scaling_state

ENDPOINT = "churn-prod"
OTHER = "payments-prod"
FOREIGN_ALARM = "payments-latency-page"
REQUEST = {"EndpointName": ENDPOINT, "PollIntervalSeconds": 1,
           "VariantChanges": [{"VariantName": "AllTraffic", "ModelName": "churn-v8"}]}
WRITES = ("Register", "Put", "Deregister", "Delete")


def other_endpoint_and_foreign_alarm() -> dict[str, Any]:
    """An endpoint the update does not touch, and an alarm of another team that pages someone."""
    create_endpoint(OTHER, (VariantSpec(model="payments-v1"),))
    cloudwatch = boto3.client("cloudwatch")
    cloudwatch.put_metric_alarm(
        AlarmName=FOREIGN_ALARM, Namespace="AWS/SageMaker", MetricName="ModelLatency", Statistic="Average",
        Period=60, EvaluationPeriods=3, Threshold=500000.0, ComparisonOperator="GreaterThanThreshold",
        Dimensions=[{"Name": "EndpointName", "Value": OTHER}],
        AlarmActions=["arn:aws:sns:us-east-1:123456789012:payments-pager"])
    return cloudwatch.describe_alarms(AlarmNames=[FOREIGN_ALARM])["MetricAlarms"][0]


def tamper(change: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    """A hook that rewrites the stored snapshot of the execution about to restore, as a table writer could."""
    def action(event: dict[str, Any]) -> None:
        key = store.update_key(ENDPOINT, event["ExecutionId"])
        dynamodb = boto3.client("dynamodb")
        item = dynamodb.get_item(TableName=store.table_name(), Key=key)["Item"]
        snapshot = json.loads(item["Snapshot"]["S"])
        change(snapshot)
        dynamodb.update_item(TableName=store.table_name(), Key=key, UpdateExpression="SET #s = :s",
                             ExpressionAttributeNames={"#s": "Snapshot"},
                             ExpressionAttributeValues={":s": {"S": json.dumps(snapshot)}})
    return action


def another_endpoints_target(snapshot: dict[str, Any]) -> None:
    for item in [*snapshot["Targets"], *snapshot["ScheduledActions"], *(p["Definition"] for p in snapshot["Policies"])]:
        item["ResourceId"] = item["ResourceId"].replace(f"endpoint/{ENDPOINT}/", f"endpoint/{OTHER}/")


def an_alarm_not_captured_for_the_endpoint(snapshot: dict[str, Any]) -> None:
    # The foreign alarm, pointed at the endpoint's step policy and stripped of its pager: it would pass a check
    # on the actions alone
    step = next(p["PolicyARN"] for p in snapshot["Policies"] if p["Definition"]["PolicyType"] == "StepScaling")
    alarm = {k: v for k, v in boto3.client("cloudwatch").describe_alarms(
        AlarmNames=[FOREIGN_ALARM])["MetricAlarms"][0].items() if k in snapshot["Alarms"][0]}
    snapshot["Alarms"].append({**alarm, "AlarmActions": [step]})


def an_alarm_retuned(snapshot: dict[str, Any]) -> None:
    snapshot["Alarms"][0]["Threshold"] = 1e12


def a_larger_minimum(snapshot: dict[str, Any]) -> None:
    snapshot["Targets"][0]["MinCapacity"] = 400
    snapshot["Targets"][0]["MaxCapacity"] = 500


@pytest.mark.parametrize(("change", "reason"), [
    (another_endpoints_target, f"not a variant of endpoint {ENDPOINT}"),
    (an_alarm_not_captured_for_the_endpoint, f"alarm {FOREIGN_ALARM} differs from the live alarm in AlarmActions"),
    (an_alarm_retuned, "differs from the live alarm in Threshold"),
    (a_larger_minimum, "not the scaling this execution's first step captured"),
], ids=["another-endpoint", "foreign-alarm", "alarm-retuned", "capacities"])
def test_a_tampered_snapshot_is_refused_counted_and_nothing_is_written(
        runner: LocalRunner, capsys: pytest.CaptureFixture[str], change: Callable[[dict[str, Any]], None],
        reason: str) -> None:
    # Given an autoscaled endpoint, another endpoint and another team's alarm
    create_endpoint(ENDPOINT, (VariantSpec(),))
    attach_scaling(ENDPOINT, "AllTraffic")
    foreign = other_endpoint_and_foreign_alarm()
    other_before = scaling_state(OTHER)
    # When the stored snapshot is altered before the restore reads it
    runner.before_invoke("restore_scaling", tamper(change))
    execution = runner.run(REQUEST)
    assert store.read_update(ENDPOINT, execution.arn)["Snapshot"]["Targets"] != [], "the snapshot was not altered"
    # Then the restore refuses it: the execution fails, saying why
    assert execution.status == "FAILED"
    assert execution.error == "ScalingRestoreFailed"
    assert "was refused and nothing was written" in (execution.cause or "")
    assert reason in (execution.cause or "")
    # And neither the restore nor the recovery wrote any scaling or alarm
    assert not [call for folder, call in runner.calls if folder in ("restore_scaling", "recover_scaling")
                and call.split(":")[0] in ("application-auto-scaling", "cloudwatch")
                and call.split(":")[1].startswith(WRITES)]
    assert execution.recovery["Error"] == "SnapshotRefused"
    assert scaling_state(OTHER) == other_before
    assert boto3.client("cloudwatch").describe_alarms(AlarmNames=[FOREIGN_ALARM])["MetricAlarms"][0] == foreign
    # And the endpoint stays marked unrestored, so no update starts on it until someone looks
    assert store.read_lock(ENDPOINT).unrestored == execution.arn
    # And each refusal was counted for the SnapshotsRefused alarm
    refused = [line for line in capsys.readouterr().out.splitlines()
               if line.startswith("{") and '"SnapshotsRefused"' in line]
    assert all(json.loads(line)["SnapshotsRefused"] in (1, 1.0, [1.0], [1]) for line in refused)
    # once by the restore step (a refused snapshot is not retried: it would be refused again) and once by the
    # recovery
    assert len(refused) == 2


def test_a_genuine_snapshot_passes_the_check_and_is_restored(runner: LocalRunner) -> None:
    # Given an autoscaled endpoint whose step alarm also pages a topic
    create_endpoint(ENDPOINT, (VariantSpec(),))
    attach_scaling(ENDPOINT, "AllTraffic")
    before = scaling_state(ENDPOINT)
    # When an update runs untouched
    execution = runner.run(REQUEST)
    # Then the check lets the genuine snapshot through and the scaling is as before
    assert execution.status == "SUCCEEDED", execution.cause
    assert scaling_state(ENDPOINT) == before
