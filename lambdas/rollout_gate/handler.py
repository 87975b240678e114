"""Rollout, before each endpoint's update: may it start, or is the failure budget spent?"""

from __future__ import annotations

from typing import Any

from endpoint_updater.core import rollout
from endpoint_updater.core.observability import task_handler


def rollout_gate(event: dict[str, Any]) -> dict[str, Any]:
    return rollout.may_start(event["Gate"], event["Index"])


handler = task_handler(rollout_gate)
