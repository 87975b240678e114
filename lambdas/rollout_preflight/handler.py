"""Rollout: one endpoint planned as its update's first step would plan it, read-only: to update, refused (with the
reason) or skipped (it already runs the change)."""

from __future__ import annotations

from typing import Any

from endpoint_updater.core import rollout
from endpoint_updater.core.observability import task_handler


def rollout_preflight(event: dict[str, Any]) -> dict[str, Any]:
    return rollout.preflight_one(event["EndpointName"], event["Rollout"])


handler = task_handler(rollout_preflight)
