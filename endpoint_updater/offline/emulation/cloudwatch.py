"""CloudWatch as Application Auto Scaling uses it for SageMaker, on moto's CloudWatch backend.

* Target tracking policies on SageMaker create their AlarmHigh/AlarmLow alarms ("Target tracking scaling
  policies for Application Auto Scaling": Application Auto Scaling creates and manages the alarms).
* Deleting a target tracking policy deletes the alarms it created ("Delete a target tracking scaling policy
  for Application Auto Scaling using the AWS CLI"); deleting a step scaling policy removes it from its alarms'
  actions and keeps the alarms ("DeleteScalingPolicy" API reference: "Deleting a step scaling policy deletes
  the underlying alarm action, but it does not delete the CloudWatch alarm").
* DescribeScalingPolicies lists, in a policy's ``Alarms``, the alarms it created and the alarms whose actions
  invoke it ("DescribeScalingPolicies" API reference).

Nothing to patch in CloudWatch itself: PutMetricAlarm/DescribeAlarms round-trip in moto 5.2.5 although the
installed botocore speaks smithy-rpc-v2-cbor to CloudWatch (checked by tests/integration/test_emulation.py).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from typing import Any

from endpoint_updater.offline import moto_seam
from endpoint_updater.offline.emulation.lock import LOCK
from endpoint_updater.offline.emulation.sagemaker import SAGEMAKER_NAMESPACE


def forget_policy(policy: Any) -> None:
    """What deleting a policy does to CloudWatch: the alarms it created go, other alarms lose the action."""
    cloudwatch = moto_seam.cloudwatch_backend(policy.account_id, policy.region_name)
    created = {a.name for a in policy.alarms}
    cloudwatch.delete_alarms(list(created))
    policy.alarms = []
    for alarm in cloudwatch.alarms.values():
        for attribute in ("alarm_actions", "ok_actions", "insufficient_data_actions"):
            actions = getattr(alarm, attribute, None) or []
            if policy.policy_arn in actions:
                setattr(alarm, attribute, [a for a in actions if a != policy.policy_arn])


def delete_created_alarms(policy: Any) -> None:
    cloudwatch = moto_seam.cloudwatch_backend(policy.account_id, policy.region_name)
    cloudwatch.delete_alarms([a.name for a in policy.alarms])
    policy.alarms = []


def _create_alarms_wrapper(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def create_alarms(self: Any) -> None:
        original(self)
        if self.policy_type == "TargetTrackingScaling" and self.service_namespace == SAGEMAKER_NAMESPACE:
            self.alarms.extend(_sagemaker_target_tracking_alarms(self))

    return create_alarms


# PredefinedMetricType -> (CloudWatch metric name, statistic) for SageMaker target tracking.
_PREDEFINED_METRICS = {
    "SageMakerVariantInvocationsPerInstance": ("InvocationsPerInstance", "Sum"),
    "SageMakerVariantProvisionedConcurrencyUtilization": ("ServerlessProvisionedConcurrencyUtilization", "Average"),
    "SageMakerInferenceComponentInvocationsPerCopy": ("InvocationsPerCopy", "Sum"),
    "SageMakerVariantConcurrentRequestsPerModelHighResolution": ("ConcurrentRequestsPerModel", "Maximum"),
}


def _sagemaker_target_tracking_alarms(policy: Any) -> list[Any]:
    """The AlarmHigh/AlarmLow alarms Application Auto Scaling creates for a target tracking policy."""
    cloudwatch = moto_seam.cloudwatch_backend(policy.account_id, policy.region_name)
    config = policy.target_tracking_scaling_policy_configuration or {}
    parts = policy.resource_id.split("/")
    if parts[0] == "endpoint" and len(parts) == 4:
        dimensions = [{"Name": "EndpointName", "Value": parts[1]}, {"Name": "VariantName", "Value": parts[3]}]
    else:
        dimensions = [{"Name": "InferenceComponentName", "Value": parts[-1]}]
    predefined = config.get("PredefinedMetricSpecification")
    if predefined:
        metric_type = predefined.get("PredefinedMetricType", "")
        metric_name, statistic = _PREDEFINED_METRICS.get(metric_type, (metric_type, "Average"))
        namespace = "AWS/SageMaker"
    else:
        custom = config.get("CustomizedMetricSpecification") or {}
        metric_name = custom.get("MetricName", "CustomMetric")
        namespace = custom.get("Namespace", "Custom")
        statistic = custom.get("Statistic", "Average")
        dimensions = custom.get("Dimensions") or dimensions
    target_value = float(config.get("TargetValue", 0.0))
    action = f"{policy.policy_arn}:createdBy/{uuid.uuid4()}"
    description = f"DO NOT EDIT OR DELETE. For TargetTrackingScaling policy {action}."
    def alarm(kind: str, comparison: str, periods: int, threshold: float) -> Any:
        return cloudwatch.put_metric_alarm(
            name=f"TargetTracking-{policy.resource_id}-{kind}-{uuid.uuid4()}",
            namespace=namespace,
            metric_name=metric_name,
            comparison_operator=comparison,
            evaluation_periods=periods,
            period=60,
            threshold=threshold,
            statistic=statistic,
            description=description,
            dimensions=dimensions,
            alarm_actions=[action],
        )

    alarms = [alarm("AlarmHigh", "GreaterThanThreshold", 3, target_value)]
    if not config.get("DisableScaleIn"):
        alarms.append(alarm("AlarmLow", "LessThanThreshold", 15, round(target_value * 0.9, 6)))
    return alarms


def _build_alarms(policy: Any) -> list[dict[str, str]]:
    """A policy's ``Alarms``: the alarms it created plus the alarms whose actions invoke it."""
    with LOCK:
        cloudwatch = moto_seam.cloudwatch_backend(policy.account_id, policy.region_name)
        alarms: dict[str, str] = {}
        for alarm in policy.alarms:
            if alarm.name in cloudwatch.alarms:
                alarms[alarm.name] = alarm.alarm_arn
        for alarm in cloudwatch.alarms.values():
            if policy.policy_arn in (alarm.alarm_actions or []):
                alarms[alarm.name] = alarm.alarm_arn
        return [{"AlarmName": name, "AlarmARN": arn} for name, arn in sorted(alarms.items())]



def install() -> None:
    moto_seam.replace("autoscaling.policy alarms created", _create_alarms_wrapper)
    moto_seam.replace("autoscaling.policy Alarms listed", lambda _: _build_alarms)
