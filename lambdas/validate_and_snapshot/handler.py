"""Step 1: refuse a bad request, a busy endpoint or one that is not InService; capture the scaling; take the
endpoint's lock and store the snapshot, in one transaction (or, with `DryRun`, only plan)."""

from __future__ import annotations

from typing import Any

from endpoint_updater.core import validation
from endpoint_updater.core.observability import task_handler, update_started


def validate_and_snapshot(event: dict[str, Any]) -> dict[str, Any]:
    execution = event["Execution"]
    return validation.validate_and_snapshot(event.get("Input"), execution["Id"], execution["StartTime"])


handler = task_handler(validate_and_snapshot, count=update_started)
