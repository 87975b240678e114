"""Rollout, first step: validate the request, resolve the target endpoints, plan each one as its update's first
step would (refusals listed, not started), skip those that already run the change, make the waves."""

from __future__ import annotations

from typing import Any

from endpoint_updater.core import rollout
from endpoint_updater.core.observability import task_handler


def rollout_plan(event: dict[str, Any]) -> dict[str, Any]:
    execution = event["Execution"]
    return rollout.plan(event.get("Input"), execution["Id"], execution["StartTime"], event["UpdateStateMachineArn"])


handler = task_handler(rollout_plan)
