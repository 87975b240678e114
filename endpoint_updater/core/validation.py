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

from endpoint_updater.core import endpoint_config, model_package, plan, scaling, shapes, store
from endpoint_updater.core.endpoint import variants
from endpoint_updater.core.errors import EndpointUpdateInProgress, ScalingRestorePending
from endpoint_updater.core.observability import logger
from endpoint_updater.core.request import parse_request


def validate_and_snapshot(raw_input: Any, execution_arn: str, start_time: str) -> dict[str, Any]:
    """The workflow's state for the steps that follow: the request, the plan, the endpoint as it was, the
    new config's name, the deadline and the captured targets."""
    request = model_package.with_model(parse_request(raw_input, shapes.variant_fields()))
    name = request.EndpointName
    new_config_name = endpoint_config.new_config_name(name, execution_arn, start_time)
    if request.DryRun:
        try:
            store.check_free(name, execution_arn)
        except (EndpointUpdateInProgress, ScalingRestorePending) as busy:
            return {"ExecutionId": execution_arn, "Request": request.to_dict(), "Plan": plan.refused(request, busy)}
        return {"ExecutionId": execution_arn, "Request": request.to_dict(),
                "Plan": plan.dry_run(request, new_config_name)}

    stale_holder = store.check_free(name, execution_arn)
    found = plan.survey(request)
    description, snapshot = found.description, found.snapshot
    store.acquire(name, execution_arn, stale_holder, snapshot=snapshot, record={
        "PreviousConfigName": description["EndpointConfigName"], "NewConfigName": new_config_name,
        "Request": json.dumps(request.to_dict(), sort_keys=True)})
    logger.info("snapshot stored, endpoint locked", extra={"endpoint": name, "scaling": scaling.counts(snapshot)})
    started = dt.datetime.fromisoformat(start_time.replace("Z", "+00:00"))
    return {
        "ExecutionId": execution_arn,
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
        # and the step that deregisters needs them.
        "ScalableTargets": snapshot["Targets"],
        "Scaling": scaling.counts(snapshot),
    }
