"""The endpoint's Application Auto Scaling configuration: capture it, deregister it, restore it exactly.

DeregisterScalableTarget deletes the target's scaling policies and scheduled actions (API reference,
DeregisterScalableTarget), and with the target its tags, which RegisterScalableTarget does not bring back
unless given `Tags` (API reference, RegisterScalableTarget, Tags). Deleting a step-scaling policy leaves its
CloudWatch alarm without the action that pointed at it (DeleteScalingPolicy). The snapshot holds everything
needed to put it all back.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from endpoint_updater.core import store
from endpoint_updater.core.aws import client, error_code, input_members, jsonable, paginate
from endpoint_updater.core.errors import AwsRequestFailed

NAMESPACE = "sagemaker"
SERVICE_LINKED_ROLE_PATH = ":role/aws-service-role/"
INSTANCE_COUNT = "sagemaker:variant:DesiredInstanceCount"
# Output-only fields of DescribeScalingPolicies and DescribeScheduledActions; everything else is copied,
# including fields added to the API later.
POLICY_OUTPUT_ONLY = frozenset({"PolicyARN", "Alarms", "CreationTime"})
SCHEDULED_ACTION_OUTPUT_ONLY = frozenset({"ScheduledActionARN", "CreationTime"})
TARGET_FIELDS = ("ServiceNamespace", "ResourceId", "ScalableDimension", "MinCapacity", "MaxCapacity", "RoleARN",
                 "SuspendedState")
# A target's tags (ListTagsForResource's TagMap), added to each captured target. A snapshot stored before
# tags were captured has no such key: its targets' tags are then neither restored nor compared.
TAGS = "Tags"
STEP_SCALING = "StepScaling"
_AUTOSCALING = "application-autoscaling"


def resource_id(endpoint: str, variant: str) -> str:
    return f"endpoint/{endpoint}/variant/{variant}"


def raised_count(count: int, increase: dict[str, int]) -> int:
    """An instance count after the precautionary raise (CapacityIncrease: Add instances or Percent more)."""
    if "Add" in increase:
        return count + increase["Add"]
    return math.ceil(count * (100 + increase["Percent"]) / 100)


def capture(endpoint: str, variant_names: Iterable[str]) -> dict[str, Any]:
    """Everything registered for the endpoint's variants, as JSON-ready data."""
    return _capture(endpoint, variant_names)[0]


def _capture(endpoint: str, variant_names: Iterable[str]) -> tuple[dict[str, Any], dict[tuple[str, str], str]]:
    """The snapshot, and each target's ScalableTargetARN (output-only: a re-registered target gets a new one)."""
    ids = [resource_id(endpoint, name) for name in variant_names]
    targets = paginate(_AUTOSCALING, "describe_scalable_targets", "ScalableTargets",
                       ServiceNamespace=NAMESPACE, ResourceIds=ids) if ids else []
    snapshot: dict[str, Any] = {"Targets": [], "Policies": [], "ScheduledActions": [], "Alarms": []}
    arns: dict[tuple[str, str], str] = {}
    alarm_names: set[str] = set()
    for target in sorted(targets, key=lambda t: (t["ResourceId"], t["ScalableDimension"])):
        arn = target.get("ScalableTargetARN")
        if not arn:
            # Without the ARN the tags cannot be read, and an update would lose them: refuse instead.
            raise AwsRequestFailed(f"DescribeScalableTargets gave no ScalableTargetARN for {target['ResourceId']}: "
                                   "the AWS SDK in use is too old to read scalable-target tags; nothing was changed")
        arns[_target_key(target)] = arn
        tags = client(_AUTOSCALING).list_tags_for_resource(ResourceARN=arn).get("Tags") or {}
        snapshot["Targets"].append({**{k: target[k] for k in TARGET_FIELDS if k in target},
                                    TAGS: dict(sorted(tags.items()))})
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
    return jsonable(snapshot), arns


def describe_alarms(names: list[str]) -> list[dict[str, Any]]:
    alarms: list[dict[str, Any]] = []
    for start in range(0, len(names), 100):
        alarms.extend(paginate("cloudwatch", "describe_alarms", "MetricAlarms",
                               AlarmNames=names[start:start + 100], AlarmTypes=["MetricAlarm"]))
    accepted = input_members("cloudwatch", "PutMetricAlarm")
    return [{k: v for k, v in alarm.items() if k in accepted}
            for alarm in sorted(alarms, key=lambda a: a["AlarmName"])]


def deregister(endpoint: str, execution_arn: str, targets: list[dict[str, Any]]) -> list[str]:
    """Step 2: deregister every captured target. A target already gone (a retried call) is fine.

    Before each call the execution must still hold the endpoint's lock: once it has lost it (the recovery
    took it back after a stop), nothing more is deregistered.
    """
    done: list[str] = []
    for target in targets:
        store.ensure_holder(endpoint, execution_arn, f"deregistered so far: {done}")
        try:
            client(_AUTOSCALING).deregister_scalable_target(
                ServiceNamespace=target["ServiceNamespace"], ResourceId=target["ResourceId"],
                ScalableDimension=target["ScalableDimension"])
        except ClientError as error:
            if error_code(error) != "ObjectNotFoundException":
                raise
        done.append(target["ResourceId"])
    store.progress(endpoint, execution_arn, "ScalingDeregistered")
    return done


def register_params(target: dict[str, Any], with_tags: bool = True) -> dict[str, Any]:
    """RegisterScalableTarget's parameters for a captured target. Its `Tags` apply only when the call creates
    the target (API reference, RegisterScalableTarget: "To tag an existing scalable target, use the
    TagResource operation"), so they are left out (`with_tags` False) for one that exists."""
    params = {k: v for k, v in target.items() if v is not None and k != TAGS}
    if with_tags and target.get(TAGS):
        params[TAGS] = target[TAGS]
    # A target registered without a RoleARN uses the service-linked role; passing it back is not needed.
    if SERVICE_LINKED_ROLE_PATH in params.get("RoleARN", ""):
        del params["RoleARN"]
    return params


def variant_names(snapshot: dict[str, Any]) -> list[str]:
    return sorted({t["ResourceId"].split("/variant/", 1)[1] for t in snapshot["Targets"]})


def _target_key(item: dict[str, Any]) -> tuple[str, str]:
    return item["ResourceId"], item["ScalableDimension"]


def _named_key(item: dict[str, Any], name: str) -> tuple[str, str, str]:
    return item["ResourceId"], item["ScalableDimension"], item[name]


@dataclass
class Restored:
    """What a restore did: the old → live policy ARNs, and each change it made (empty when none was needed)."""

    policy_arns: dict[str, str] = field(default_factory=dict)
    changes: list[str] = field(default_factory=list)
    live: dict[str, Any] | None = None
    """The configuration as read before the restore wrote anything; still current when nothing changed."""


def restore(endpoint: str, snapshot: dict[str, Any]) -> Restored:
    """Put back whatever of the snapshot is missing or different: targets, policies, scheduled actions and
    alarm actions. What is already as captured is left alone, so a repeated restore changes nothing."""
    if not snapshot["Targets"]:
        return Restored()
    live, arns = _capture(endpoint, variant_names(snapshot))
    autoscaling = client(_AUTOSCALING)
    result = Restored(live=live)
    live_targets = {_target_key(t): t for t in live["Targets"]}
    for target in snapshot["Targets"]:
        key = _target_key(target)
        current = live_targets.get(key)
        if current is None or _without_tags(current) != _without_tags(target):
            arn = autoscaling.register_scalable_target(**register_params(target, with_tags=current is None))\
                .get("ScalableTargetARN") or arns.get(key)
            result.changes.append(f"registered {target['ResourceId']} {target['ScalableDimension']}")
            if current is None:
                continue  # created with its tags
        else:
            arn = arns[key]
        missing = _missing_tags(target, current)
        if missing and arn:
            autoscaling.tag_resource(ResourceARN=arn, Tags=missing)
            result.changes.append(f"tagged {target['ResourceId']} {target['ScalableDimension']}: "
                                  + ", ".join(sorted(missing)))
    live_policies = {_named_key(p["Definition"], "PolicyName"): p for p in live["Policies"]}
    for policy in snapshot["Policies"]:
        current = live_policies.get(_named_key(policy["Definition"], "PolicyName"))
        if current is not None and current["Definition"] == policy["Definition"]:
            result.policy_arns[policy["PolicyARN"]] = current["PolicyARN"]
            continue
        result.policy_arns[policy["PolicyARN"]] = autoscaling.put_scaling_policy(**policy["Definition"])["PolicyARN"]
        result.changes.append(f"put scaling policy {policy['Definition']['PolicyName']}")
    live_actions = {_named_key(a, "ScheduledActionName"): a for a in live["ScheduledActions"]}
    for action in snapshot["ScheduledActions"]:
        if live_actions.get(_named_key(action, "ScheduledActionName")) != action:
            autoscaling.put_scheduled_action(**action)
            result.changes.append(f"put scheduled action {action['ScheduledActionName']}")
    current = {alarm["AlarmName"]: alarm for alarm in describe_alarms([a["AlarmName"] for a in snapshot["Alarms"]])}
    for alarm in expected_alarms(snapshot, result.policy_arns):
        if current.get(alarm["AlarmName"]) != alarm:
            client("cloudwatch").put_metric_alarm(**alarm)
            result.changes.append(f"put metric alarm {alarm['AlarmName']}")
    return result


def _without_tags(target: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in target.items() if k != TAGS}


def _missing_tags(target: dict[str, Any], live: dict[str, Any] | None) -> dict[str, str]:
    """The captured tags the live target lacks or holds with another value. Tags added to the target since
    the capture are left alone: removing them could undo someone's later change (their IAM conditions, cost
    allocation), while the update itself never adds any."""
    have = (live or {}).get(TAGS) or {}
    return {k: v for k, v in (target.get(TAGS) or {}).items() if have.get(k) != v}


def _comparable_targets(snapshot_targets: list[dict[str, Any]],
                        live_targets: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Both sides of a target comparison: the live tags reduced to the keys the snapshot holds (see
    `_missing_tags`), and no tags at all for a target captured before tags were (an old snapshot)."""
    captured = {_target_key(t): t for t in snapshot_targets}
    live = []
    for target in live_targets:
        mine = captured.get(_target_key(target))
        if mine is None or TAGS not in mine:
            live.append(_without_tags(target))
        else:
            live.append({**target, TAGS: {k: v for k, v in (target.get(TAGS) or {}).items() if k in mine[TAGS]}})
    return snapshot_targets, live


def expected_alarms(snapshot: dict[str, Any], new_arns: dict[str, str]) -> list[dict[str, Any]]:
    """The captured alarms with their actions pointing at the re-created policies."""
    return [{**alarm, **{key: [new_arns.get(arn, arn) for arn in alarm[key]]
                         for key in ("AlarmActions", "OKActions", "InsufficientDataActions") if key in alarm}}
            for alarm in snapshot["Alarms"]]


def differences(endpoint: str, snapshot: dict[str, Any], new_arns: dict[str, str],
                live: dict[str, Any] | None = None) -> list[str]:
    """What the live configuration lacks or has otherwise than the snapshot (empty when restored).

    The live state is read with the same `capture` (unless a `live` read since the last change is given),
    so both sides are ordered and normalised alike; the alarms it finds are those the live step policies
    list, so an alarm left unpointed is missed.
    """
    if not snapshot["Targets"]:
        return []
    if live is None:
        live = capture(endpoint, variant_names(snapshot))
    expected = {**snapshot, "Policies": [p["Definition"] for p in snapshot["Policies"]],
                "Alarms": expected_alarms(snapshot, new_arns)}
    actual = {**live, "Policies": [p["Definition"] for p in live["Policies"]]}
    expected["Targets"], actual["Targets"] = _comparable_targets(snapshot["Targets"], live["Targets"])
    return [f"{kind} are {actual[kind]}, expected {expected[kind]}"
            for kind in ("Targets", "Policies", "ScheduledActions", "Alarms") if actual[kind] != expected[kind]]


def pending_changes(endpoint: str, snapshot: dict[str, Any]) -> list[dict[str, Any]]:
    """What `restore` would change, read-only: one entry per difference it would write, with the live value
    and the snapshot's (None where one side has nothing). Kind is ScalableTarget (a field), Tag, ScalingPolicy,
    ScheduledAction or Alarm. What `restore` leaves alone (a policy, action or tag added since) is not listed."""
    if not snapshot["Targets"]:
        return []
    live, _ = _capture(endpoint, variant_names(snapshot))
    found: list[dict[str, Any]] = []

    def add(kind: str, name: str, field_name: str | None, live_value: Any, snapshot_value: Any) -> None:
        found.append({"Kind": kind, "Name": name, "Field": field_name, "Live": live_value, "Snapshot": snapshot_value})

    live_targets = {_target_key(t): t for t in live["Targets"]}
    for target in snapshot["Targets"]:
        name = f"{target['ResourceId']} {target['ScalableDimension']}"
        current = live_targets.get(_target_key(target))
        if current is None:
            add("ScalableTarget", name, None, None, target)
            continue
        for key in sorted(set(_without_tags(target)) | set(_without_tags(current))):
            if target.get(key) != current.get(key):
                add("ScalableTarget", name, key, current.get(key), target.get(key))
        for key, value in sorted(_missing_tags(target, current).items()):
            add("Tag", name, key, (current.get(TAGS) or {}).get(key), value)
    live_policies = {_named_key(p["Definition"], "PolicyName"): p for p in live["Policies"]}
    arns: dict[str, str] = {}
    for policy in snapshot["Policies"]:
        definition = policy["Definition"]
        current = live_policies.get(_named_key(definition, "PolicyName"))
        # PutScalingPolicy on an existing policy keeps its ARN; a re-created one gets a new one.
        arns[policy["PolicyARN"]] = current["PolicyARN"] if current is not None else \
            f"<the new ARN of scaling policy {definition['PolicyName']}>"
        if current is None or current["Definition"] != definition:
            add("ScalingPolicy", f"{definition['ResourceId']} {definition['PolicyName']}", None,
                None if current is None else current["Definition"], definition)
    live_actions = {_named_key(a, "ScheduledActionName"): a for a in live["ScheduledActions"]}
    for action in snapshot["ScheduledActions"]:
        current = live_actions.get(_named_key(action, "ScheduledActionName"))
        if current != action:
            add("ScheduledAction", f"{action['ResourceId']} {action['ScheduledActionName']}", None, current, action)
    alarms = {a["AlarmName"]: a for a in describe_alarms([a["AlarmName"] for a in snapshot["Alarms"]])}
    for alarm in expected_alarms(snapshot, arns):
        current = alarms.get(alarm["AlarmName"])
        if current is None:
            add("Alarm", alarm["AlarmName"], None, None, alarm)
            continue
        for key in sorted(set(alarm) | set(current)):
            if alarm.get(key) != current.get(key):
                add("Alarm", alarm["AlarmName"], key, current.get(key), alarm.get(key))
    return found


def manual_calls(snapshot: dict[str, Any]) -> list[str]:
    """The AWS CLI calls that restore the snapshot by hand, in order."""
    def call(service: str, command: str, params: dict[str, Any]) -> str:
        body = json.dumps(params, separators=(",", ":")).replace("'", "'\\''")
        return f"aws {service} {command} --cli-input-json '{body}'"

    calls = [call("application-autoscaling", "register-scalable-target", register_params(t))
             for t in snapshot["Targets"]]
    calls += [call("application-autoscaling", "put-scaling-policy", p["Definition"]) for p in snapshot["Policies"]]
    calls += [call("application-autoscaling", "put-scheduled-action", a) for a in snapshot["ScheduledActions"]]
    if snapshot["Alarms"]:
        names = {p["PolicyARN"]: p["Definition"]["PolicyName"] for p in snapshot["Policies"]}
        placeholders = {arn: f"<PolicyARN printed by put-scaling-policy {name}>" for arn, name in names.items()}
        calls += [call("cloudwatch", "put-metric-alarm", a) for a in expected_alarms(snapshot, placeholders)]
    return calls


def counts(snapshot: dict[str, Any]) -> dict[str, int]:
    return {key: len(snapshot[key]) for key in ("Targets", "Policies", "ScheduledActions", "Alarms")}
