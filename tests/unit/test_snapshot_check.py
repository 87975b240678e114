"""The snapshot check on its own: what it accepts (unknown additive keys included) and what it refuses."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from endpoint_updater.core import snapshot_check
from endpoint_updater.core.errors import SnapshotRefused

ENDPOINT = "churn-prod"
RESOURCE = f"endpoint/{ENDPOINT}/variant/AllTraffic"
TARGET = {"ServiceNamespace": "sagemaker", "ResourceId": RESOURCE,
          "ScalableDimension": "sagemaker:variant:DesiredInstanceCount"}
STEP_ARN = ("arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:0b5c-11:resource/sagemaker/"
            f"{RESOURCE}:policyName/AllTraffic-burst-step")
PAGER = "arn:aws:sns:us-east-1:123456789012:churn-alerts"
ALARM = {"AlarmName": "churn-burst", "Namespace": "AWS/SageMaker", "MetricName": "Invocations", "Threshold": 1000.0,
         "AlarmActions": [STEP_ARN, PAGER]}
SNAPSHOT: dict[str, Any] = {
    "Targets": [{**TARGET, "MinCapacity": 1, "MaxCapacity": 4, "Tags": {"team": "churn"}}],
    "Policies": [{"PolicyARN": STEP_ARN, "Definition": {**TARGET, "PolicyName": "AllTraffic-burst-step",
                                                        "PolicyType": "StepScaling"}}],
    "ScheduledActions": [{**TARGET, "ScheduledActionName": "business-hours", "Schedule": "cron(0 8 * * ? *)"}],
    "Alarms": [ALARM],
    "CapturedWith": "a key a later version adds",
}
# What DeregisterScalableTarget leaves of the alarm: its step-scaling action is gone.
LIVE = {"churn-burst": {**ALARM, "AlarmActions": [PAGER]}}
PLANNED = {"Targets": [{**TARGET, "MinCapacity": 1, "MaxCapacity": 4}],
           "Policies": [{"ResourceId": RESOURCE, "PolicyName": "AllTraffic-burst-step", "PolicyType": "StepScaling"}],
           "ScheduledActions": [{"ResourceId": RESOURCE, "ScheduledActionName": "business-hours"}],
           "Alarms": ["churn-burst"]}


def test_the_endpoints_own_snapshot_passes_with_keys_the_check_does_not_know() -> None:
    assert snapshot_check.problems(ENDPOINT, SNAPSHOT, LIVE, PLANNED) == []
    assert snapshot_check.problems(ENDPOINT, SNAPSHOT, {}, None) == []


def altered(change: Any) -> dict[str, Any]:
    snapshot = copy.deepcopy(SNAPSHOT)
    change(snapshot)
    return snapshot


@pytest.mark.parametrize(("snapshot", "reason"), [
    (altered(lambda s: s["Targets"][0].update(ResourceId="endpoint/payments-prod/variant/AllTraffic")),
     "not a variant of endpoint churn-prod"),
    (altered(lambda s: s["Targets"][0].update(ResourceId=f"{RESOURCE}/../../payments-prod")),
     "not a variant of endpoint churn-prod"),
    (altered(lambda s: s["Targets"][0].update(ServiceNamespace="ecs")), "not sagemaker"),
    (altered(lambda s: s["ScheduledActions"][0].update(ScalableDimension="ecs:service:DesiredCount")),
     "not a SageMaker variant dimension"),
    (altered(lambda s: s["Policies"][0].update(PolicyARN=STEP_ARN.replace(ENDPOINT, "payments-prod"))),
     "not a policy of endpoint churn-prod"),
    (altered(lambda s: s["Alarms"].append({"AlarmName": "db-cpu", "AlarmActions": [PAGER]})),
     "alarm db-cpu invokes no step-scaling policy"),
    (altered(lambda s: s["Alarms"][0].update(AlarmActions=[STEP_ARN])), "differs from the live alarm in AlarmActions"),
    (altered(lambda s: s["Targets"][0].update(MinCapacity=300)), "not the scaling this execution's first step"),
    ({"Targets": "all"}, "lacks its Targets"),
], ids=["another-endpoint", "path-tricks", "namespace", "dimension", "policy-arn", "foreign-alarm", "pager-stripped",
        "capacities", "malformed"])
def test_a_snapshot_that_is_not_the_endpoints_is_refused_naming_why(snapshot: Any, reason: str) -> None:
    with pytest.raises(SnapshotRefused, match="nothing was written") as refused:
        snapshot_check.ensure_owned(ENDPOINT, "arn:aws:states:us-east-1:1:execution:m:e", snapshot, LIVE, PLANNED)
    assert reason in str(refused.value)
