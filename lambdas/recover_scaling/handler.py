"""Recovery outside the workflow: an execution that ended without restoring the scaling it deregistered.

Invoked by the EventBridge rule on "Step Functions Execution Status Change" (ABORTED, TIMED_OUT, FAILED)
for this state machine: a stopped or timed-out execution runs no Catch, and a failed one may have failed in
its own restore. The restore is idempotent: when the scaling is already as captured, nothing is changed.
"""

from __future__ import annotations

from typing import Any

from endpoint_updater.core import recovery
from endpoint_updater.core.observability import task_handler


def recover_scaling(event: dict[str, Any]) -> dict[str, Any]:
    return recovery.recover_execution(event["detail"])


handler = task_handler(recover_scaling)
