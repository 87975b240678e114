"""Recovery outside the workflow: an execution that ended without restoring the scaling it deregistered.

Invoked by the EventBridge rule on "Step Functions Execution Status Change" (ABORTED, TIMED_OUT, FAILED)
for this state machine: a stopped or timed-out execution runs no Catch, and a failed one may have failed in
its own restore. The restore is idempotent: when the scaling is already as captured, nothing is changed.
"""

from __future__ import annotations

import json
from typing import Any

from endpoint_updater.core import store
from endpoint_updater.core.aws import client
from endpoint_updater.core.observability import logger, task_handler
from endpoint_updater.core.recovery import restore_and_release
from endpoint_updater.names import RECOVERED_STATUSES


def recover_scaling(event: dict[str, Any]) -> dict[str, Any]:
    detail = event["detail"]
    execution_arn, status = detail["executionArn"], detail["status"]
    raw_input = detail.get("input")
    if raw_input is None:  # the event leaves out an input that is too large
        raw_input = client("stepfunctions").describe_execution(executionArn=execution_arn).get("input")
    endpoint = _endpoint_name(raw_input)
    if status not in RECOVERED_STATUSES or endpoint is None:
        return {"ExecutionArn": execution_arn, "Recovered": False, "Reason": "nothing of this execution to recover"}
    lock = store.read_lock(endpoint)
    if execution_arn not in (lock.holder, lock.unrestored):
        # Its own restore finished, or it never took the lock (refused, or another update held it).
        return {"ExecutionArn": execution_arn, "Recovered": False, "Reason": "the lock is not this execution's"}
    restored = restore_and_release(endpoint, execution_arn, f"Recovered after {status}",
                                   "the execution ended without restoring the scaling", fence=True)
    logger.info("recovered", extra={"execution": execution_arn, "status": status, "changes": restored.changes})
    return {"ExecutionArn": execution_arn, "Recovered": True, "Changes": restored.changes}


def _endpoint_name(raw_input: Any) -> str | None:
    try:
        parsed = json.loads(raw_input) if isinstance(raw_input, str) else raw_input
    except ValueError:
        return None
    name = parsed.get("EndpointName") if isinstance(parsed, dict) else None
    return name if isinstance(name, str) and name else None


handler = task_handler(recover_scaling)
