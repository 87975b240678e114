"""Step 2: deregister the endpoint's scalable targets (their policies and scheduled actions go with them)."""

from __future__ import annotations

from typing import Any

from updater import scaling
from updater.observability import task_handler


def deregister_scaling(event: dict[str, Any]) -> list[str]:
    return scaling.deregister(event["Snapshot"])


handler = task_handler(deregister_scaling)
