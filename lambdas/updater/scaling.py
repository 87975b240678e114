"""The endpoint's Application Auto Scaling configuration: capture it, deregister it, restore it exactly.

DeregisterScalableTarget deletes the target's scaling policies and scheduled actions (API reference,
DeregisterScalableTarget), and deleting a step-scaling policy leaves its CloudWatch alarm without the
action that pointed at it (DeleteScalingPolicy). The snapshot holds everything needed to put it all back.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from botocore.exceptions import ClientError

from updater.aws import client, error_code, input_members, jsonable, paginate

NAMESPACE = "sagemaker"
SERVICE_LINKED_ROLE_PATH = ":role/aws-service-role/"
INSTANCE_COUNT = "sagemaker:variant:DesiredInstanceCount"
# Output-only fields of DescribeScalingPolicies and DescribeScheduledActions; everything else is copied,
# including fields added to the API later.
POLICY_OUTPUT_ONLY = frozenset({"PolicyARN", "Alarms", "CreationTime"})
SCHEDULED_ACTION_OUTPUT_ONLY = frozenset({"ScheduledActionARN", "CreationTime"})
TARGET_FIELDS = ("ServiceNamespace", "ResourceId", "ScalableDimension", "MinCapacity", "MaxCapacity", "RoleARN",
                 "SuspendedState")
STEP_SCALING = "StepScaling"
_AUTOSCALING = "application-autoscaling"


def resource_id(endpoint: str, variant: str) -> str:
    return f"endpoint/{endpoint}/variant/{variant}"


def capture(endpoint: str, variant_names: Iterable[str]) -> dict[str, Any]:
    """Everything registered for the endpoint's variants, as JSON-ready data."""
    ids = [resource_id(endpoint, name) for name in variant_names]
    targets = paginate(_AUTOSCALING, "describe_scalable_targets", "ScalableTargets",
                       ServiceNamespace=NAMESPACE, ResourceIds=ids) if ids else []
    snapshot: dict[str, Any] = {"Targets": [], "Policies": [], "ScheduledActions": [], "Alarms": []}
    alarm_names: set[str] = set()
    for target in sorted(targets, key=lambda t: (t["ResourceId"], t["ScalableDimension"])):
        snapshot["Targets"].append({k: target[k] for k in TARGET_FIELDS if k in target})
        where = {"ServiceNamespace": NAMESPACE, "ResourceId": target["ResourceId"],
                 "ScalableDimension": target["ScalableDimension"]}
        policies = paginate(_AUTOSCALING, "describe_scaling_policies", "ScalingPolicies", **where)
        for policy in sorted(policies, key=lambda p: p["PolicyName"]):
            snapshot["Policies"].append({
                "PolicyARN": policy["PolicyARN"],
                "Definition": {k: v for k, v in policy.items() if k not in POLICY_OUTPUT_ONLY},
            })
            if policy.get("PolicyType") == STEP_SCALING:
                alarm_names.update(alarm["AlarmName"] for alarm in policy.get("Alarms") or [])
        actions = paginate(_AUTOSCALING, "describe_scheduled_actions", "ScheduledActions", **where)
        for action in sorted(actions, key=lambda a: a["ScheduledActionName"]):
            snapshot["ScheduledActions"].append(
                {k: v for k, v in action.items() if k not in SCHEDULED_ACTION_OUTPUT_ONLY})
    snapshot["Alarms"] = describe_alarms(sorted(alarm_names))
    return jsonable(snapshot)


def describe_alarms(names: list[str]) -> list[dict[str, Any]]:
    alarms: list[dict[str, Any]] = []
    for start in range(0, len(names), 100):
        alarms.extend(paginate("cloudwatch", "describe_alarms", "MetricAlarms",
                               AlarmNames=names[start:start + 100], AlarmTypes=["MetricAlarm"]))
    accepted = input_members("cloudwatch", "PutMetricAlarm")
    return [{k: v for k, v in alarm.items() if k in accepted}
            for alarm in sorted(alarms, key=lambda a: a["AlarmName"])]


def deregister(snapshot: dict[str, Any]) -> list[str]:
    """Deregister every captured target. A target already gone (a retried call) is fine."""
    done = []
    for target in snapshot["Targets"]:
        try:
            client(_AUTOSCALING).deregister_scalable_target(
                ServiceNamespace=target["ServiceNamespace"], ResourceId=target["ResourceId"],
                ScalableDimension=target["ScalableDimension"])
        except ClientError as error:
            if error_code(error) != "ObjectNotFoundException":
                raise
        done.append(target["ResourceId"])
    return done


def register_params(target: dict[str, Any]) -> dict[str, Any]:
    params = {k: v for k, v in target.items() if v is not None}
    # A target registered without a RoleARN uses the service-linked role; passing it back is not needed.
    if SERVICE_LINKED_ROLE_PATH in params.get("RoleARN", ""):
        del params["RoleARN"]
    return params


def restore(snapshot: dict[str, Any]) -> dict[str, str]:
    """Put back targets, policies, scheduled actions and alarm actions. Every call is an upsert, so a
    retried or repeated restore changes nothing more. Returns the old → new policy ARNs."""
    autoscaling = client(_AUTOSCALING)
    for target in snapshot["Targets"]:
        autoscaling.register_scalable_target(**register_params(target))
    new_arns = {}
    for policy in snapshot["Policies"]:
        response = autoscaling.put_scaling_policy(**policy["Definition"])
        new_arns[policy["PolicyARN"]] = response["PolicyARN"]
    for action in snapshot["ScheduledActions"]:
        autoscaling.put_scheduled_action(**action)
    current = {alarm["AlarmName"]: alarm for alarm in describe_alarms([a["AlarmName"] for a in snapshot["Alarms"]])}
    for alarm in expected_alarms(snapshot, new_arns):
        if current.get(alarm["AlarmName"]) != alarm:
            client("cloudwatch").put_metric_alarm(**alarm)
    return new_arns


def expected_alarms(snapshot: dict[str, Any], new_arns: dict[str, str]) -> list[dict[str, Any]]:
    """The captured alarms with their actions pointing at the re-created policies."""
    return [{**alarm, **{key: [new_arns.get(arn, arn) for arn in alarm[key]]
                         for key in ("AlarmActions", "OKActions", "InsufficientDataActions") if key in alarm}}
            for alarm in snapshot["Alarms"]]


def differences(endpoint: str, snapshot: dict[str, Any], new_arns: dict[str, str]) -> list[str]:
    """What the live configuration lacks or has otherwise than the snapshot (empty when restored).

    The live state is read with the same `capture`, so both sides are ordered and normalised alike;
    the alarms it finds are those the live step policies list, so an alarm left unpointed is missed.
    """
    if not snapshot["Targets"]:
        return []
    variants = [t["ResourceId"].split("/variant/", 1)[1] for t in snapshot["Targets"]]
    live = capture(endpoint, variants)
    expected = {**snapshot, "Policies": [p["Definition"] for p in snapshot["Policies"]],
                "Alarms": expected_alarms(snapshot, new_arns)}
    actual = {**live, "Policies": [p["Definition"] for p in live["Policies"]]}
    return [f"{kind} are {actual[kind]}, expected {expected[kind]}"
            for kind in ("Targets", "Policies", "ScheduledActions", "Alarms") if actual[kind] != expected[kind]]


def counts(snapshot: dict[str, Any]) -> dict[str, int]:
    return {key: len(snapshot[key]) for key in ("Targets", "Policies", "ScheduledActions", "Alarms")}
