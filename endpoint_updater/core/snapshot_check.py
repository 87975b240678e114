"""Before a restore writes anything: is the stored snapshot really its endpoint's scaling?

The restore writes what the updates table holds, with scaling writes on every SageMaker variant and
PutMetricAlarm on every alarm (step-scaling alarms are named by their owners, so IAM cannot narrow it). A
snapshot altered in the table could otherwise register scaling on another endpoint or strip the actions of
any alarm in the account. So, before the first write:

- every target, policy and scheduled action must be a SageMaker variant of the update's endpoint
  (`endpoint/<endpoint>/variant/<variant>`, a variant dimension), and every policy and scheduled action one
  of the snapshot's targets;
- every alarm must be one the snapshot captured for that endpoint's step-scaling policies: one of its actions
  is such a policy, whose ARN names the endpoint; and where the alarm exists, the snapshot may differ from it
  only in the endpoint's own scaling-policy actions (what deregistering removed and the restore puts back),
  so a restore can never strip, add or retune anything else of an alarm;
- when the caller knows the summary the first step planned (the workflow's own restore does: it is in the
  execution's state, out of the table's reach), the snapshot must match it.

Keys it does not know are accepted (the snapshot may gain fields); a refusal raises SnapshotRefused and
nothing is written.
"""

from __future__ import annotations

import re
from typing import Any

from endpoint_updater.core.aws import jsonable
from endpoint_updater.core.errors import SnapshotRefused

NAMESPACE = "sagemaker"
VARIANT_DIMENSIONS = frozenset({"sagemaker:variant:DesiredInstanceCount",
                                "sagemaker:variant:DesiredProvisionedConcurrency"})
ACTION_LISTS = ("AlarmActions", "OKActions", "InsufficientDataActions")
STEP_SCALING = "StepScaling"


def _policy_arn(endpoint: str) -> re.Pattern[str]:
    """An Application Auto Scaling policy ARN on one of `endpoint`'s variants (PutScalingPolicy's PolicyARN:
    ...:scalingPolicy:<id>:resource/<namespace>/<resource id>:policyName/<name>)."""
    return re.compile(r"^arn:[^:]+:autoscaling:[^:]*:\d*:scalingPolicy:[^:]+:resource/sagemaker/endpoint/"
                      + re.escape(endpoint) + r"/variant/[^/:]+:policyName/.+$")


def _resource_problems(where: str, item: Any, endpoint: str) -> list[str]:
    if not isinstance(item, dict):
        return [f"{where} is not an object"]
    problems = []
    resource = item.get("ResourceId")
    if not isinstance(resource, str) or not re.fullmatch(
            r"endpoint/" + re.escape(endpoint) + r"/variant/[^/]+", resource):
        problems.append(f"{where} names resource {resource!r}, not a variant of endpoint {endpoint}")
    if item.get("ServiceNamespace") != NAMESPACE:
        problems.append(f"{where} is in namespace {item.get('ServiceNamespace')!r}, not {NAMESPACE}")
    if item.get("ScalableDimension") not in VARIANT_DIMENSIONS:
        problems.append(f"{where} scales {item.get('ScalableDimension')!r}, not a SageMaker variant dimension")
    return problems


def problems(endpoint: str, snapshot: Any, live_alarms: dict[str, dict[str, Any]],
             planned: dict[str, Any] | None = None) -> list[str]:
    """What makes `snapshot` not `endpoint`'s own scaling (empty when it is). `live_alarms`: the alarms the
    snapshot names, as DescribeAlarms shows them now (PutMetricAlarm's fields), by name."""
    if not isinstance(snapshot, dict) or not all(isinstance(snapshot.get(k), list) for k in
                                                 ("Targets", "Policies", "ScheduledActions", "Alarms")):
        return ["the snapshot lacks its Targets, Policies, ScheduledActions or Alarms lists"]
    found: list[str] = []
    targets = set()
    for index, target in enumerate(snapshot["Targets"]):
        found += _resource_problems(f"Targets[{index}]", target, endpoint)
        if isinstance(target, dict):
            targets.add((target.get("ResourceId"), target.get("ScalableDimension")))
    belongs = _policy_arn(endpoint)
    step_policies: set[str] = set()
    for index, policy in enumerate(snapshot["Policies"]):
        definition = policy.get("Definition") if isinstance(policy, dict) else None
        where = f"Policies[{index}]"
        found += _resource_problems(where, definition, endpoint)
        if not isinstance(definition, dict):
            continue
        if (definition.get("ResourceId"), definition.get("ScalableDimension")) not in targets:
            found.append(f"{where} ({definition.get('PolicyName')}) is on no target of the snapshot")
        if definition.get("PolicyType") == STEP_SCALING:
            arn = policy.get("PolicyARN")
            if not isinstance(arn, str) or not belongs.match(arn):
                found.append(f"{where} ({definition.get('PolicyName')}) has PolicyARN {arn!r}, not a policy of "
                             f"endpoint {endpoint}")
            else:
                step_policies.add(arn)
    for index, action in enumerate(snapshot["ScheduledActions"]):
        where = f"ScheduledActions[{index}]"
        found += _resource_problems(where, action, endpoint)
        if isinstance(action, dict) and (action.get("ResourceId"), action.get("ScalableDimension")) not in targets:
            found.append(f"{where} ({action.get('ScheduledActionName')}) is on no target of the snapshot")
    for index, alarm in enumerate(snapshot["Alarms"]):
        found += _alarm_problems(f"Alarms[{index}]", alarm, endpoint, step_policies, live_alarms)
    if planned is not None and _summary(snapshot) != _summary_of_plan(planned):
        found.append("the snapshot is not the scaling this execution's first step captured and planned to restore")
    return found


def _alarm_problems(where: str, alarm: Any, endpoint: str, step_policies: set[str],
                    live_alarms: dict[str, dict[str, Any]]) -> list[str]:
    if not isinstance(alarm, dict) or not isinstance(alarm.get("AlarmName"), str):
        return [f"{where} is not an alarm"]
    name = alarm["AlarmName"]
    actions = [arn for key in ACTION_LISTS for arn in alarm.get(key) or []]
    if not step_policies & set(actions):
        return [f"{where}: alarm {name} invokes no step-scaling policy of endpoint {endpoint} in the snapshot"]
    live = live_alarms.get(name)
    if live is None:
        # Deleted since the capture: re-creating it as captured touches no one else's alarm.
        return []
    ours = _policy_arn(endpoint)
    mine, theirs = _without(jsonable(alarm), ours), _without(jsonable(live), ours)
    if mine != theirs:
        fields = sorted(key for key in set(mine) | set(theirs) if mine.get(key) != theirs.get(key))
        return [f"{where}: alarm {name} differs from the live alarm in {', '.join(fields)}, beyond endpoint "
                f"{endpoint}'s scaling actions"]
    return []


def _without(alarm: dict[str, Any], ours: re.Pattern[str]) -> dict[str, Any]:
    """The alarm without the endpoint's scaling-policy actions (empty action lists dropped alike)."""
    kept = {key: value for key, value in alarm.items() if key not in ACTION_LISTS}
    for key in ACTION_LISTS:
        remaining = [arn for arn in alarm.get(key) or [] if not ours.match(arn)]
        if remaining:
            kept[key] = remaining
    return kept


def _summary(snapshot: dict[str, Any]) -> dict[str, Any]:
    return {
        "Targets": sorted((t.get("ResourceId"), t.get("ScalableDimension"), t.get("MinCapacity"),
                           t.get("MaxCapacity")) for t in snapshot["Targets"]),
        "Policies": sorted((p["Definition"].get("ResourceId"), p["Definition"].get("PolicyName"),
                            p["Definition"].get("PolicyType")) for p in snapshot["Policies"]),
        "ScheduledActions": sorted((a.get("ResourceId"), a.get("ScheduledActionName"))
                                   for a in snapshot["ScheduledActions"]),
        "Alarms": sorted(a["AlarmName"] for a in snapshot["Alarms"]),
    }


def _summary_of_plan(planned: dict[str, Any]) -> dict[str, Any]:
    """The same summary from the plan's ScalingToDeregisterAndRestore (endpoint_updater/core/plan.py)."""
    return {
        "Targets": sorted((t.get("ResourceId"), t.get("ScalableDimension"), t.get("MinCapacity"),
                           t.get("MaxCapacity")) for t in planned.get("Targets") or []),
        "Policies": sorted((p.get("ResourceId"), p.get("PolicyName"), p.get("PolicyType"))
                           for p in planned.get("Policies") or []),
        "ScheduledActions": sorted((a.get("ResourceId"), a.get("ScheduledActionName"))
                                   for a in planned.get("ScheduledActions") or []),
        "Alarms": sorted(planned.get("Alarms") or []),
    }


def ensure_owned(endpoint: str, execution_arn: str, snapshot: Any, live_alarms: dict[str, dict[str, Any]],
                 planned: dict[str, Any] | None = None) -> None:
    """Raise SnapshotRefused, naming every problem, unless the snapshot is the endpoint's own scaling."""
    found = problems(endpoint, snapshot, live_alarms, planned)
    if found:
        raise SnapshotRefused(
            f"the scaling snapshot stored for endpoint {endpoint} by execution {execution_arn} was refused and "
            f"nothing was written: {'; '.join(found)}. The updates table holds something this workflow did not "
            "capture: find out who changed it, then restore the endpoint's scaling by hand")
