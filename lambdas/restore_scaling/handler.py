"""Step 7, on success and on failure alike: restore the scaling exactly as captured, then verify it."""

from __future__ import annotations

import json
from typing import Any

from updater import scaling
from updater.aws import translated_errors
from updater.endpoint import describe_endpoint
from updater.errors import AwsRequestFailed, ScalingRestoreFailed, UpdaterError
from updater.observability import logger, task_handler, update_finished

_NOUNS = {"Targets": ("scalable target", "scalable targets"), "Policies": ("scaling policy", "scaling policies"),
          "ScheduledActions": ("scheduled action", "scheduled actions"), "Alarms": ("alarm", "alarms")}
CAUSE_LIMIT = 30000  # Step Functions keeps at most 32,768 characters of a cause.


def restore_scaling(event: dict[str, Any]) -> dict[str, Any]:
    snapshot = event["Snapshot"]
    name = event["Request"]["EndpointName"]
    try:
        with translated_errors():
            new_arns = scaling.restore(snapshot)
            problems = scaling.differences(name, snapshot, new_arns)
    except AwsRequestFailed as error:
        raise ScalingRestoreFailed(_by_hand(name, str(error), snapshot)) from error
    if problems:
        raise ScalingRestoreFailed(_by_hand(name, "; ".join(problems), snapshot))
    restored = scaling.counts(snapshot)
    logger.info("scaling restored", extra={"endpoint": name, "scaling": restored})
    if "Error" in event:
        return {"Restored": restored, "Failure": _failure(event, restored)}
    return {"Restored": restored, "Summary": _summary(event, restored)}


def _by_hand(endpoint: str, reason: str, snapshot: dict[str, Any]) -> str:
    text = (f"the scaling of endpoint {endpoint} could not be restored: {reason}. Restore it by hand from this "
            f"snapshot (RegisterScalableTarget for each target, then PutScalingPolicy, PutScheduledAction, and "
            f"PutMetricAlarm with each alarm's actions pointing at the new policy ARNs): {json.dumps(snapshot)}")
    return text[:CAUSE_LIMIT]


def _error_message(error: dict[str, Any]) -> str:
    """A Lambda error's cause is the runtime's JSON (errorMessage, errorType...); other causes are text."""
    cause = error.get("Cause") or ""
    try:
        parsed = json.loads(cause)
    except ValueError:
        return cause
    return parsed.get("errorMessage", cause) if isinstance(parsed, dict) else cause


def _failure(event: dict[str, Any], restored: dict[str, int]) -> dict[str, str]:
    name = event["Request"]["EndpointName"]
    try:
        description = describe_endpoint(name)
        now = f"endpoint {name} is {description['EndpointStatus']} on {description.get('EndpointConfigName')}"
    except UpdaterError as error:
        now = f"endpoint {name} could not be described ({error})"
    counts = ", ".join(f"{count} {_NOUNS[kind][count != 1]}" for kind, count in restored.items())
    return {
        "Error": event["Error"].get("Error") or "UpdateFailed",
        "Cause": f"{_error_message(event['Error'])}. Scaling restored as before the update ({counts}); {now}.",
    }


def _summary(event: dict[str, Any], restored: dict[str, int]) -> dict[str, Any]:
    outcome = event["Outcome"][0]  # a Parallel state's result is the list of its branches' results
    after = {v["VariantName"]: v for v in outcome["Endpoint"]["Variants"]}
    return {
        "EndpointName": event["Request"]["EndpointName"],
        "Outcome": "Succeeded",
        "PreviousConfigName": event["Endpoint"]["EndpointConfigName"],
        "NewConfigName": outcome["NewConfig"]["EndpointConfigName"],
        "Changes": outcome["NewConfig"]["Changes"],
        "Variants": [{"VariantName": v["VariantName"], "Before": v, "After": after.get(v["VariantName"])}
                     for v in event["Endpoint"]["Variants"]],
        "ScalingRestored": restored,
        "ExecutionId": event["ExecutionId"],
    }


handler = task_handler(restore_scaling, count=update_finished)
