"""Start one workflow execution for a triggering event; a duplicate delivery starts nothing."""

from __future__ import annotations

from typing import Any

from endpoint_updater.core import trigger
from endpoint_updater.core.observability import task_handler


def start_update(event: dict[str, Any]) -> dict[str, Any]:
    return trigger.start(event)


handler = task_handler(start_update)
