"""SageMaker's endpoint events ("SageMaker Endpoint State Change", "SageMaker Endpoint Deployment State Change"),
delivered by the stack's EventBridge rule: confirm with DescribeEndpoint, and resume the execution that waits
for this endpoint when its update or capacity raise has ended. Duplicates, late events, stale tokens and events
for endpoints no execution waits on change nothing."""

from __future__ import annotations

from typing import Any

from endpoint_updater.core import completion
from endpoint_updater.core.observability import task_handler


def resume_update(event: dict[str, Any]) -> dict[str, Any]:
    return completion.resume(event)


handler = task_handler(resume_update)
