"""Step 1c, for a model package only: create the SageMaker Model the new config will serve."""

from __future__ import annotations

from typing import Any

from endpoint_updater.core import model_package, store
from endpoint_updater.core.aws import client
from endpoint_updater.core.observability import task_handler


def create_model(event: dict[str, Any]) -> dict[str, Any]:
    package = event["Request"]["ModelPackage"]
    config = client("sagemaker").describe_endpoint_config(EndpointConfigName=event["Endpoint"]["EndpointConfigName"])
    current = next(v["ModelName"] for v in config["ProductionVariants"] if v["VariantName"] == package["VariantName"])
    name = model_package.create(package["ModelPackageArn"], current)
    store.reached(event, "ModelCreated")
    return {"ModelName": name, "ModelPackageArn": package["ModelPackageArn"], "BasedOn": current}


handler = task_handler(create_model)
