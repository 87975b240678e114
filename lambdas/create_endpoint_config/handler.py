"""Steps 4 and 5: the new endpoint config, copied from the current one with the requested changes."""

from __future__ import annotations

from typing import Any

from endpoint_updater.core import endpoint_config
from endpoint_updater.core.observability import task_handler


def create_endpoint_config(event: dict[str, Any]) -> dict[str, Any]:
    return endpoint_config.create_for_update(event["Request"]["EndpointName"], event["ExecutionId"],
                                             event["Endpoint"]["EndpointConfigName"],
                                             event["Request"]["VariantChanges"], event["NewConfigName"])


handler = task_handler(create_endpoint_config)
