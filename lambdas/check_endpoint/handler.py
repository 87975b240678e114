"""Steps 3 and 6: one DescribeEndpoint. Done, still busy, or an error that ends the wait."""

from __future__ import annotations

from typing import Any

from endpoint_updater.core import endpoint
from endpoint_updater.core.observability import task_handler


def check_endpoint(event: dict[str, Any]) -> dict[str, Any]:
    return endpoint.check(event["EndpointName"], event["ExpectedConfigName"], event["Deadline"])


handler = task_handler(check_endpoint)
