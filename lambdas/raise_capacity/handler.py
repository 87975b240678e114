"""Step 2b: raise one autoscaled variant's instance count before the update, as a precaution; the state
machine loops back here for the next variant once the check has confirmed this one."""

from __future__ import annotations

from typing import Any

from endpoint_updater.core import endpoint
from endpoint_updater.core.observability import task_handler


def raise_capacity(event: dict[str, Any]) -> dict[str, Any]:
    # The first raise finds no CapacityRaise in the state yet; each later one, the previous raise's result.
    index = int((event.get("CapacityRaise") or {}).get("Next", 0))
    return endpoint.raise_capacity(event["Request"]["EndpointName"], event["ExecutionId"],
                                   event["Plan"]["CapacityRaise"], index, event["Deadline"],
                                   event["Request"]["PollIntervalSeconds"],
                                   event["Request"].get("SafetyIntervalSeconds"))


handler = task_handler(raise_capacity)
