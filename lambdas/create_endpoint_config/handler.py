"""Steps 4 and 5: the new endpoint config, copied from the current one with the requested changes."""

from __future__ import annotations

from typing import Any

from endpoint_updater.core import endpoint_config, store
from endpoint_updater.core.aws import client, paginate
from endpoint_updater.core.endpoint import describe_endpoint
from endpoint_updater.core.observability import logger, task_handler


def create_endpoint_config(event: dict[str, Any]) -> dict[str, Any]:
    sagemaker = client("sagemaker")
    current = sagemaker.describe_endpoint_config(EndpointConfigName=event["Endpoint"]["EndpointConfigName"])
    tags = paginate("sagemaker", "list_tags", "Tags", ResourceArn=current["EndpointConfigArn"])
    params, changes = endpoint_config.build(current, describe_endpoint(event["Request"]["EndpointName"]),
                                            event["Request"]["VariantChanges"], event["NewConfigName"], tags)
    endpoint_config.create(params)
    logger.info("endpoint config created", extra={"config": params["EndpointConfigName"], "changes": changes})
    store.reached(event, "ConfigCreated")
    return {"EndpointConfigName": params["EndpointConfigName"], "Changes": changes}


handler = task_handler(create_endpoint_config)
