"""Step 7, on success and on failure alike: restore the scaling from the stored snapshot, verify it, record
the outcome and release the endpoint's lock."""

from __future__ import annotations

from typing import Any

from endpoint_updater.core import recovery
from endpoint_updater.core.observability import task_handler, update_finished


def restore_scaling(event: dict[str, Any]) -> dict[str, Any]:
    return recovery.end_update(event)


handler = task_handler(restore_scaling, count=update_finished)
