"""Rollout, first step: validate the request and resolve the target endpoints (an explicit list, a name pattern,
tags), before anything starts."""

from __future__ import annotations

from typing import Any

from endpoint_updater.core import rollout
from endpoint_updater.core.observability import task_handler


def rollout_plan(event: dict[str, Any]) -> dict[str, Any]:
    execution = event["Execution"]
    return rollout.resolve(event.get("Input"), execution["Id"], execution["StartTime"], event["UpdateStateMachineArn"])


handler = task_handler(rollout_plan)
