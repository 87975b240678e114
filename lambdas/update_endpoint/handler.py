"""Step 6: UpdateEndpoint with the new config. A retry that finds the update already started is fine."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from endpoint_updater.core import store
from endpoint_updater.core.aws import client
from endpoint_updater.core.endpoint import describe_endpoint
from endpoint_updater.core.errors import LockLost
from endpoint_updater.core.observability import task_handler


def update_endpoint(event: dict[str, Any]) -> dict[str, Any]:
    name = event["Request"]["EndpointName"]
    new_config = event["NewConfigName"]
    params: dict[str, Any] = {"EndpointName": name, "EndpointConfigName": new_config}
    if event["Request"].get("DeploymentConfig"):
        params["DeploymentConfig"] = event["Request"]["DeploymentConfig"]
    if not store.holds(name, event["ExecutionId"]):
        raise LockLost(f"the lock of endpoint {name} was taken back; the endpoint is not updated")
    try:
        client("sagemaker").update_endpoint(**params)
    except ClientError:
        description = describe_endpoint(name)
        pending = (description.get("PendingDeploymentSummary") or {}).get("EndpointConfigName")
        if new_config not in (pending, description.get("EndpointConfigName")):
            raise
    store.reached(event, "UpdateStarted")
    return {"EndpointConfigName": new_config}


handler = task_handler(update_endpoint)
