"""Steps 3 and 6: one DescribeEndpoint. Done, still busy (with the seconds to wait before the next poll or
event), or an error that ends the wait. With Completion events, the safety net after a wait no event ended."""

from __future__ import annotations

from typing import Any

from endpoint_updater.core import completion
from endpoint_updater.core.observability import task_handler


def check_endpoint(event: dict[str, Any]) -> dict[str, Any]:
    return completion.poll(event)


handler = task_handler(check_endpoint)
