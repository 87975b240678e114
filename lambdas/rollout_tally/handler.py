"""Rollout, after each wave: record the outcomes, count the failures against the budget, decide what is next."""

from __future__ import annotations

from typing import Any

from endpoint_updater.core import rollout
from endpoint_updater.core.observability import task_handler


def rollout_tally(event: dict[str, Any]) -> dict[str, Any]:
    return rollout.tally(event)


handler = task_handler(rollout_tally)
