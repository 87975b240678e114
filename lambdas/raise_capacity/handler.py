"""Step 2b: raise each autoscaled variant's instance count before the update, as a precaution."""

from __future__ import annotations

from typing import Any

from endpoint_updater.core import endpoint
from endpoint_updater.core.observability import task_handler


def raise_capacity(event: dict[str, Any]) -> list[dict[str, Any]]:
    return endpoint.raise_capacity(event["Request"]["EndpointName"], event["ExecutionId"],
                                   event["Plan"]["CapacityRaise"])


handler = task_handler(raise_capacity)
