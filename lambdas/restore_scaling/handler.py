"""Step 7, on success and on failure alike: restore the scaling from the stored snapshot, verify it, record
the outcome and release the endpoint's lock."""

from __future__ import annotations

import json
from typing import Any

from endpoint_updater.core import store
from endpoint_updater.core.endpoint import describe_endpoint
from endpoint_updater.core.errors import LockLost, UpdaterError
from endpoint_updater.core.observability import task_handler, update_finished
from endpoint_updater.core.recovery import restore_and_release

_NOUNS = {"Targets": ("scalable target", "scalable targets"), "Policies": ("scaling policy", "scaling policies"),
          "ScheduledActions": ("scheduled action", "scheduled actions"), "Alarms": ("alarm", "alarms")}


def restore_scaling(event: dict[str, Any]) -> dict[str, Any]:
    name = event["Request"]["EndpointName"]
    failure = _failure_reason(event["Error"]) if "Error" in event else None
    outcome = "Succeeded" if failure is None else f"Failed: {event['Error'].get('Error') or 'UpdateFailed'}"
    restored = event["Scaling"]
    lock = store.read_lock(name)
    if event["ExecutionId"] in (lock.holder, lock.unrestored):
        restore_and_release(name, event["ExecutionId"], outcome, failure)
    else:
        refusal = _already_restored(name, event["ExecutionId"], outcome, lock)
        if refusal is not None:
            cause = refusal if failure is None else \
                f"{refusal}. The update itself had failed: {failure or event['Error'].get('Error')}"
            return {"Restored": restored, "Failure": {"Error": LockLost.__name__, "Cause": cause}}
    if failure is not None:
        return {"Restored": restored, "Failure": _failure(event, failure, restored)}
    return {"Restored": restored, "Summary": _summary(event, restored)}


def _already_restored(endpoint: str, execution_arn: str, outcome: str, lock: store.Lock) -> str | None:
    """Why this execution, which neither holds the endpoint's lock nor owes its restore any more, must
    change nothing; None when its snapshot was restored by this step itself, on an attempt whose answer was
    lost (the restore was verified then).

    Otherwise the recovery or the break-glass restore put it back after the execution was stopped or timed
    out: this is a late attempt, or a redriven execution, and the endpoint may belong to another update by
    now. Writing the old snapshot again would fight that update.
    """
    record = store.read_update(endpoint, execution_arn)
    if record.get("Outcome") == outcome and "ScalingRestoredAt" in record:
        return None
    now = f"execution {lock.holder} holds it now" if lock.holder else "no update holds it now"
    return (f"the scaling this execution captured was already restored ({record.get('Outcome', 'no outcome')}) "
            f"and the lock of endpoint {endpoint} released; {now}. Nothing was changed")


def _failure_reason(error: dict[str, Any]) -> str:
    """A Lambda error's cause is the runtime's JSON (errorMessage, errorType...); other causes are text."""
    cause = error.get("Cause") or ""
    try:
        parsed = json.loads(cause)
    except ValueError:
        return cause
    return parsed.get("errorMessage", cause) if isinstance(parsed, dict) else cause


def _failure(event: dict[str, Any], reason: str, restored: dict[str, int]) -> dict[str, str]:
    name = event["Request"]["EndpointName"]
    try:
        description = describe_endpoint(name)
        now = f"endpoint {name} is {description['EndpointStatus']} on {description.get('EndpointConfigName')}"
    except UpdaterError as error:
        now = f"endpoint {name} could not be described ({error})"
    counts = ", ".join(f"{count} {_NOUNS[kind][count != 1]}" for kind, count in restored.items())
    return {
        "Error": event["Error"].get("Error") or "UpdateFailed",
        "Cause": f"{reason}. Scaling restored as before the update ({counts}); {now}.",
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
