"""Step 1: refuse a bad request or an endpoint that is not InService, then capture the scaling.

Nothing is changed here, so a refusal leaves the endpoint exactly as it was. With `DryRun`, only the plan
is returned (a refusal goes into it) and the state machine ends with it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from updater import endpoint_config, plan, scaling
from updater.endpoint import variants
from updater.observability import logger, task_handler
from updater.request import parse_request


def validate_and_snapshot(event: dict[str, Any]) -> dict[str, Any]:
    execution = event["Execution"]
    request = parse_request(event.get("Input"), endpoint_config.variant_fields())
    name = request.EndpointName
    new_config_name = endpoint_config.new_config_name(name, execution["Id"], execution["StartTime"])
    if request.DryRun:
        return {"ExecutionId": execution["Id"], "Request": request.to_dict(),
                "Plan": plan.dry_run(request, new_config_name)}

    found = plan.survey(request)
    description, snapshot = found.description, found.snapshot
    started = dt.datetime.fromisoformat(execution["StartTime"].replace("Z", "+00:00"))
    logger.info("snapshot taken", extra={"endpoint": name, "scaling": scaling.counts(snapshot)})
    return {
        "ExecutionId": execution["Id"],
        "Request": request.to_dict(),
        "Deadline": (started + dt.timedelta(seconds=request.TimeoutSeconds)).isoformat(),
        "Endpoint": {
            "EndpointName": name,
            "EndpointArn": description["EndpointArn"],
            "EndpointConfigName": description["EndpointConfigName"],
            "Variants": variants(description),
        },
        "NewConfigName": new_config_name,
        "Plan": plan.build(request, found, new_config_name),
        "Snapshot": snapshot,
    }


handler = task_handler(validate_and_snapshot)
