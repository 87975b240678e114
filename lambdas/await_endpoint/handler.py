"""Steps 3 and 6 with Completion events: invoked by the callback waits (`.waitForTaskToken`). Stores the task
token with the update record, then looks at the endpoint once: an event sent before the token was stored is
covered by this look. The wait ends when this function, the resume function or its timeout (the safety net)
ends it; what this function returns is not the wait's result."""

from __future__ import annotations

from typing import Any

from endpoint_updater.core import completion
from endpoint_updater.core.observability import task_handler


def await_endpoint(event: dict[str, Any]) -> dict[str, Any]:
    return completion.await_endpoint(event["TaskToken"], event["Phase"], event["Check"], event["ExecutionId"])


handler = task_handler(await_endpoint)
