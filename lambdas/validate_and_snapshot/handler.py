"""Step 1: refuse a bad request, a busy endpoint or one that is not InService; capture the scaling; take the
endpoint's lock and store the snapshot, in one transaction.

Nothing is changed before the lock is taken, so a refusal leaves the endpoint exactly as it was. With
`DryRun`, only the plan is returned (a refusal, a busy endpoint included, goes into it), no lock is taken,
and the state machine ends with it.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from endpoint_updater.core import endpoint_config, model_package, plan, scaling, store
from endpoint_updater.core.endpoint import variants
from endpoint_updater.core.errors import EndpointUpdateInProgress, ScalingRestorePending
from endpoint_updater.core.observability import logger, task_handler, update_started
from endpoint_updater.core.request import parse_request


def validate_and_snapshot(event: dict[str, Any]) -> dict[str, Any]:
    execution = event["Execution"]
    request = model_package.with_model(parse_request(event.get("Input"), endpoint_config.variant_fields()))
    name = request.EndpointName
    new_config_name = endpoint_config.new_config_name(name, execution["Id"], execution["StartTime"])
    if request.DryRun:
        try:
            store.check_free(name, execution["Id"])
        except (EndpointUpdateInProgress, ScalingRestorePending) as busy:
            return {"ExecutionId": execution["Id"], "Request": request.to_dict(), "Plan": plan.refused(request, busy)}
        return {"ExecutionId": execution["Id"], "Request": request.to_dict(),
                "Plan": plan.dry_run(request, new_config_name)}

    stale_holder = store.check_free(name, execution["Id"])
    found = plan.survey(request)
    description, snapshot = found.description, found.snapshot
    store.acquire(name, execution["Id"], stale_holder, snapshot=snapshot, record={
        "PreviousConfigName": description["EndpointConfigName"], "NewConfigName": new_config_name,
        "Request": json.dumps(request.to_dict(), sort_keys=True)})
    logger.info("snapshot stored, endpoint locked", extra={"endpoint": name, "scaling": scaling.counts(snapshot)})
    started = dt.datetime.fromisoformat(execution["StartTime"].replace("Z", "+00:00"))
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
        # The snapshot itself stays in the updates table (the restore reads it there); the targets are small
        # and the steps that deregister and raise capacity need them.
        "ScalableTargets": snapshot["Targets"],
        "Scaling": scaling.counts(snapshot),
    }


handler = task_handler(validate_and_snapshot, count=update_started)
