"""Restoring an endpoint's scaling from its stored snapshot: verified, retried, idempotent.

Used by the workflow's last step, by the recovery function (an execution stopped or timed out, where no
Catch runs) and by the break-glass command. Each ends the same way: the record says what happened, and
the lock is released. The last step also says how the update ended: its summary, or its failure's cause.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from endpoint_updater.core import scaling, snapshot_check, store
from endpoint_updater.core.aws import client, error_code, translated_errors
from endpoint_updater.core.endpoint import describe_endpoint
from endpoint_updater.core.errors import (
    AwsRequestFailed,
    LockLost,
    ScalingRestoreFailed,
    SnapshotRefused,
    UpdaterError,
    cause_message,
)
from endpoint_updater.core.observability import logger
from endpoint_updater.core.request import endpoint_named_in
from endpoint_updater.names import RECOVERED_STATUSES, RESTORE_BACKOFF_ENV

RESTORE_ATTEMPTS = 3
# Seconds before the second attempt, doubled before each later one (the local runner shortens it).
BACKOFF_ENV = RESTORE_BACKOFF_ENV
# Step Functions keeps at most 32,768 characters of a cause, and a function's cause is the runtime's JSON: the
# message escaped, plus errorType, requestId and the stack trace. The message, as JSON escapes it, stays under
# this so that the whole error is kept and the definition can read its message (IsFunctionError).
CAUSE_LIMIT = 26000
# The error an update failed with when its Catch gives no name.
UNNAMED_FAILURE = "UpdateFailed"
_NOUNS = {"Targets": ("scalable target", "scalable targets"), "Policies": ("scaling policy", "scaling policies"),
          "ScheduledActions": ("scheduled action", "scheduled actions"), "Alarms": ("alarm", "alarms")}


def restore_verified(endpoint: str, snapshot: dict[str, Any],
                     sleep: Callable[[float], None] = time.sleep) -> scaling.Restored:
    """Restore, read back, compare; again while the read-back differs or AWS refuses a call. Raises
    ScalingRestoreFailed with the snapshot and the AWS calls that restore it by hand when it still differs
    after the last attempt. Throttling and transient faults leave as AwsTransientError, for the caller's
    retry with backoff."""
    problems: list[str] = []
    changes: list[str] = []
    for attempt in range(RESTORE_ATTEMPTS):
        if attempt:
            sleep(float(os.environ.get(BACKOFF_ENV, "2")) * 2 ** (attempt - 1))
        try:
            with translated_errors():
                result = scaling.restore(endpoint, snapshot)
                changes += result.changes
                # A restore that changed nothing has just read the live state: no need to read it again.
                problems = scaling.differences(endpoint, snapshot, result.policy_arns,
                                               None if result.changes else result.live)
        except AwsRequestFailed as error:
            problems = [str(error)]
        if not problems:
            result.changes = changes
            return result
        logger.warning("scaling not restored yet", extra={"endpoint": endpoint, "attempt": attempt + 1,
                                                          "problems": problems})
    raise ScalingRestoreFailed(by_hand(endpoint, "; ".join(problems), snapshot))


def by_hand(endpoint: str, reason: str, snapshot: dict[str, Any]) -> str:
    calls = "\n".join(scaling.manual_calls(snapshot))
    text = (f"the scaling of endpoint {endpoint} could not be restored after {RESTORE_ATTEMPTS} attempts: {reason}. "
            f"Retry with: endpoint-updater restore --endpoint {endpoint}. Or restore it by hand with these AWS "
            f"calls, in order:\n{calls}\nSnapshot: {json.dumps(snapshot, separators=(',', ':'))}")
    cut = "... (cut; the whole snapshot is in this update's record in the table)"
    if len(json.dumps(text)) <= CAUSE_LIMIT:
        return text
    keep = CAUSE_LIMIT - len(cut)
    while len(json.dumps(text[:keep])) > CAUSE_LIMIT - len(cut):
        keep -= (len(json.dumps(text[:keep])) - (CAUSE_LIMIT - len(cut)) + 1) // 2 + 1
    return text[:keep] + cut


def restore_and_release(endpoint: str, execution_arn: str, outcome: str, detail: str | None = None, *,
                        fence: bool = False, planned: dict[str, Any] | None = None) -> scaling.Restored:
    """Restore the scaling `execution_arn` captured, record `outcome`, release the lock.

    With `fence` (the execution ended without its own restore: stopped or timed out), the lock's holder is
    cleared first, so a step of that execution still running stops before its next change. The unrestored
    mark is cleared only once the restore is verified.

    The snapshot is checked before anything is written (snapshot_check; `planned`: the scaling summary the
    first step planned, when the caller has it): a snapshot that is not the endpoint's own is refused with
    SnapshotRefused, and the endpoint stays marked unrestored.
    """
    if fence:
        store.release(endpoint, execution_arn, restored=False)
    snapshot = store.snapshot(endpoint, execution_arn)
    try:
        listed = snapshot.get("Alarms") if isinstance(snapshot, dict) else None
        alarm_names = sorted({a["AlarmName"] for a in listed if isinstance(a, dict)
                              and isinstance(a.get("AlarmName"), str)} if isinstance(listed, list) else ())
        live_alarms = {a["AlarmName"]: a for a in scaling.describe_alarms(alarm_names)} if alarm_names else {}
        snapshot_check.ensure_owned(endpoint, execution_arn, snapshot, live_alarms, planned)
    except SnapshotRefused as error:
        logger.error("snapshot refused", extra={"endpoint": endpoint, "execution": execution_arn,
                                                "reason": str(error)})
        store.finish(endpoint, execution_arn, "Snapshot refused", str(error)[:1000], restored=False)
        raise
    try:
        restored = restore_verified(endpoint, snapshot)
    except ScalingRestoreFailed as error:
        store.finish(endpoint, execution_arn, outcome, str(error)[:1000], restored=False)
        raise
    store.finish(endpoint, execution_arn, outcome, detail, restored=True)
    logger.info("scaling restored", extra={"endpoint": endpoint, "changes": restored.changes,
                                           "scaling": scaling.counts(snapshot)})
    return restored


def end_update(state: dict[str, Any]) -> dict[str, Any]:
    """Step 7, on success and on failure alike: restore the scaling from the stored snapshot, verify it,
    record the outcome and release the endpoint's lock.

    `state` is the workflow's state at RestoreScaling: it carries `Error` (the Catch's) when the update
    failed, else `Outcome`, the update's branch result. The answer has the execution's `Summary`, or the
    `Failure` the state machine fails with.
    """
    name, execution_arn = state["Request"]["EndpointName"], state["ExecutionId"]
    error = state.get("Error")
    failure = None if error is None else cause_message(error.get("Cause") or "")
    error_name = None if error is None else error.get("Error") or UNNAMED_FAILURE
    outcome = "Succeeded" if error_name is None else f"Failed: {error_name}"
    restored = state["Scaling"]
    lock = store.read_lock(name)
    if lock.restore_owed_by(execution_arn):
        restore_and_release(name, execution_arn, outcome, failure,
                            planned=(state.get("Plan") or {}).get("ScalingToDeregisterAndRestore"))
    else:
        refusal = _already_restored(name, execution_arn, outcome, lock)
        if refusal is not None:
            cause = refusal if error is None else \
                f"{refusal}. The update itself had failed: {failure or error.get('Error')}"
            return {"Restored": restored, "Failure": {"Error": LockLost.__name__, "Cause": cause}}
    if error_name is not None:
        return {"Restored": restored, "Failure": {"Error": error_name,
                                                  "Cause": _failure_cause(name, failure or "", restored)}}
    return {"Restored": restored, "Summary": _summary(state, restored)}


def planned_scaling(execution_arn: str) -> dict[str, Any] | None:
    """The scaling summary the execution's first step planned to restore, from its history (out of the
    updates table's reach), or None when the history no longer holds it (kept 90 days) or the step never
    ended. Only the first events are read: ValidateAndSnapshot is the first state."""
    stepfunctions = client("stepfunctions")
    try:
        events = stepfunctions.get_execution_history(executionArn=execution_arn, maxResults=20)["events"]
    except ClientError as error:
        if error_code(error) == "ExecutionDoesNotExist":
            return None
        raise
    for event in events:
        details = event.get("stateExitedEventDetails") or {}
        if event.get("type") == "TaskStateExited" and details.get("name") == "ValidateAndSnapshot":
            try:
                planned = (json.loads(details.get("output") or "{}").get("Plan") or {})
            except ValueError:
                return None
            summary = planned.get("ScalingToDeregisterAndRestore")
            return summary if isinstance(summary, dict) else None
    return None


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


def _failure_cause(endpoint: str, reason: str, restored: dict[str, int]) -> str:
    try:
        description = describe_endpoint(endpoint)
        now = f"endpoint {endpoint} is {description['EndpointStatus']} on {description.get('EndpointConfigName')}"
    except UpdaterError as error:
        now = f"endpoint {endpoint} could not be described ({error})"
    counts = ", ".join(f"{count} {_NOUNS[kind][count != 1]}" for kind, count in restored.items())
    return f"{reason}. Scaling restored as before the update ({counts}); {now}."


def _summary(state: dict[str, Any], restored: dict[str, int]) -> dict[str, Any]:
    outcome = state["Outcome"][0]  # a Parallel state's result is the list of its branches' results
    after = {v["VariantName"]: v for v in outcome["Endpoint"]["Variants"]}
    return {
        "EndpointName": state["Request"]["EndpointName"],
        "Outcome": "Succeeded",
        "PreviousConfigName": state["Endpoint"]["EndpointConfigName"],
        "NewConfigName": outcome["NewConfig"]["EndpointConfigName"],
        "Changes": outcome["NewConfig"]["Changes"],
        "Variants": [{"VariantName": v["VariantName"], "Before": v, "After": after.get(v["VariantName"])}
                     for v in state["Endpoint"]["Variants"]],
        "ScalingRestored": restored,
        "ExecutionId": state["ExecutionId"],
    }


def recover_execution(detail: dict[str, Any]) -> dict[str, Any]:
    """Restore the scaling of an execution that ended without restoring it, from the detail of its
    "Step Functions Execution Status Change" event (ABORTED, TIMED_OUT, FAILED).

    A stopped or timed-out execution runs no Catch, and a failed one may have failed in its own restore.
    Anything else, or an execution whose restore already ran, is left alone.
    """
    execution_arn, status = detail["executionArn"], detail["status"]
    raw_input = detail.get("input")
    if raw_input is None:  # the event leaves out an input that is too large
        raw_input = client("stepfunctions").describe_execution(executionArn=execution_arn).get("input")
    endpoint = endpoint_named_in(raw_input)
    if status not in RECOVERED_STATUSES or endpoint is None:
        return {"ExecutionArn": execution_arn, "Recovered": False, "Reason": "nothing of this execution to recover"}
    if not store.read_lock(endpoint).restore_owed_by(execution_arn):
        # Its own restore finished, or it never took the lock (refused, or another update held it).
        return {"ExecutionArn": execution_arn, "Recovered": False, "Reason": "the lock is not this execution's"}
    restored = restore_and_release(endpoint, execution_arn, f"Recovered after {status}",
                                   "the execution ended without restoring the scaling", fence=True,
                                   planned=planned_scaling(execution_arn))
    logger.info("recovered", extra={"execution": execution_arn, "status": status, "changes": restored.changes})
    return {"ExecutionArn": execution_arn, "Recovered": True, "Changes": restored.changes}
