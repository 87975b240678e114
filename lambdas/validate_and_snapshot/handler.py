"""Step 1: refuse a bad request, a busy endpoint or one that is not InService; capture the scaling; take the
endpoint's lock and store the snapshot, in one transaction.

Nothing is changed before the lock is taken, so a refusal leaves the endpoint exactly as it was.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from updater import endpoint_config, scaling, store
from updater.aws import client
from updater.endpoint import IN_SERVICE, describe_endpoint, variants
from updater.errors import EndpointNotInService, InvalidInput
from updater.observability import logger, task_handler, update_started
from updater.request import parse_request


def validate_and_snapshot(event: dict[str, Any]) -> dict[str, Any]:
    execution = event["Execution"]
    request = parse_request(event.get("Input"), endpoint_config.variant_fields())
    name = request.EndpointName
    stale_holder = store.check_free(name, execution["Id"], execution_status)
    description = describe_endpoint(name)
    status = description["EndpointStatus"]
    if status != IN_SERVICE:
        raise EndpointNotInService(f"endpoint {name} is {status}; it must be InService before an update starts")
    config = client("sagemaker").describe_endpoint_config(EndpointConfigName=description["EndpointConfigName"])
    problems = endpoint_config.check_changes(name, config, request.VariantChanges, request.DeploymentConfig)
    if problems:
        raise InvalidInput("invalid input: " + "; ".join(problems))

    live_variants = variants(description)
    snapshot = scaling.capture(name, [v["VariantName"] for v in live_variants])
    autoscaled_instances = [t for t in snapshot["Targets"] if t["ScalableDimension"] == scaling.INSTANCE_COUNT]
    started = dt.datetime.fromisoformat(execution["StartTime"].replace("Z", "+00:00"))
    new_config_name = endpoint_config.new_config_name(name, execution["Id"], execution["StartTime"])
    store.acquire(name, execution["Id"], stale_holder, snapshot=snapshot, record={
        "PreviousConfigName": description["EndpointConfigName"], "NewConfigName": new_config_name,
        "Request": json.dumps(request.to_dict(), sort_keys=True)})
    logger.info("snapshot stored, endpoint locked", extra={"endpoint": name, "scaling": scaling.counts(snapshot)})
    return {
        "ExecutionId": execution["Id"],
        "Request": request.to_dict(),
        "Deadline": (started + dt.timedelta(seconds=request.TimeoutSeconds)).isoformat(),
        "Endpoint": {
            "EndpointName": name,
            "EndpointArn": description["EndpointArn"],
            "EndpointConfigName": description["EndpointConfigName"],
            "Variants": live_variants,
        },
        "NewConfigName": new_config_name,
        "Plan": {"RaiseCapacity": request.CapacityIncrease is not None and bool(autoscaled_instances)},
        # The snapshot itself stays in the updates table (the restore reads it there); the targets are small
        # and the steps that deregister and raise capacity need them.
        "ScalableTargets": snapshot["Targets"],
        "Scaling": scaling.counts(snapshot),
    }


def execution_status(execution_arn: str) -> str:
    return str(client("stepfunctions").describe_execution(executionArn=execution_arn)["status"])


handler = task_handler(validate_and_snapshot, count=update_started)
