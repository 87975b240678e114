"""The end-of-update message: one readable notification per execution that ends, whatever its outcome.

Invoked by the EventBridge rule on "Step Functions Execution Status Change" (SUCCEEDED, FAILED, TIMED_OUT,
ABORTED) for this state machine.
"""

from __future__ import annotations

from typing import Any

from endpoint_updater.core import notification
from endpoint_updater.core.observability import task_handler


def notify_update(event: dict[str, Any]) -> dict[str, Any]:
    return notification.send(event["detail"], event.get("region"))


handler = task_handler(notify_update)
