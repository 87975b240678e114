"""Rollout: from every endpoint's preflight, the waves, the failure budget and the first wave (or the end of a dry
run)."""

from __future__ import annotations

from typing import Any

from endpoint_updater.core import rollout
from endpoint_updater.core.observability import task_handler


def rollout_waves(event: dict[str, Any]) -> dict[str, Any]:
    return rollout.make_plan(event)


handler = task_handler(rollout_waves)
