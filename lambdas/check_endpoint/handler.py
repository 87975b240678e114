"""Steps 3 and 6: one DescribeEndpoint. Done, still busy (with the seconds to wait before the next poll), or
an error that ends the wait."""

from __future__ import annotations

from typing import Any

from endpoint_updater.core import endpoint
from endpoint_updater.core.observability import task_handler
from endpoint_updater.core.request import DEFAULT_POLL_INTERVAL_SECONDS


def check_endpoint(event: dict[str, Any]) -> dict[str, Any]:
    # An execution started before PollIntervalSeconds was passed here waits its own way, whatever this says.
    return endpoint.check(event["EndpointName"], event["ExpectedConfigName"], event["Deadline"],
                          interval=event.get("PollIntervalSeconds", DEFAULT_POLL_INTERVAL_SECONDS),
                          capacity=event.get("Capacity"),
                          execution_arn=event.get("ExecutionId"))


handler = task_handler(check_endpoint)
