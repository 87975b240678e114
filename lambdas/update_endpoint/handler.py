"""Step 6: UpdateEndpoint with the new config, keeping every live property the request does not change (the
plan's `UpdateEndpoint`). A retry that finds the update already started is fine."""

from __future__ import annotations

from typing import Any

from endpoint_updater.core import endpoint
from endpoint_updater.core.observability import task_handler


def update_endpoint(event: dict[str, Any]) -> dict[str, Any]:
    request = event["Request"]
    name = request["EndpointName"]
    params = event["Plan"].get("UpdateEndpoint") or endpoint.update_request(
        name, event["NewConfigName"], request["VariantChanges"], request.get("DeploymentConfig"))
    started = endpoint.update(name, event["ExecutionId"], params)
    # The first $.Poll. WaitBeforeFirstPoll waits WaitSeconds: InitialPollDelaySeconds, cut short at the deadline;
    # WaitForUpdateEvent waits EventWaitSeconds at most: SafetyIntervalSeconds, cut short likewise.
    first_wait = {**started, "Done": False,
                  "WaitSeconds": endpoint.seconds_to_wait(event["Deadline"], request["InitialPollDelaySeconds"])}
    if "SafetyIntervalSeconds" in request:
        first_wait["EventWaitSeconds"] = endpoint.seconds_to_wait_for_event(event["Deadline"],
                                                                            request["SafetyIntervalSeconds"])
    return first_wait


handler = task_handler(update_endpoint)
