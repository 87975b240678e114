"""Step 6: UpdateEndpoint with the new config. A retry that finds the update already started is fine."""

from __future__ import annotations

from typing import Any

from endpoint_updater.core import endpoint
from endpoint_updater.core.observability import task_handler


def update_endpoint(event: dict[str, Any]) -> dict[str, Any]:
    return endpoint.update(event["Request"]["EndpointName"], event["ExecutionId"], event["NewConfigName"],
                           event["Request"].get("DeploymentConfig"))


handler = task_handler(update_endpoint)
