"""Step 1c, for a model package only: create the SageMaker Model the new config will serve."""

from __future__ import annotations

from typing import Any

from endpoint_updater.core import model_package
from endpoint_updater.core.observability import task_handler


def create_model(event: dict[str, Any]) -> dict[str, Any]:
    return model_package.create_for_update(event["Request"]["EndpointName"], event["ExecutionId"],
                                           event["Request"]["ModelPackage"], event["Endpoint"]["EndpointConfigName"])


handler = task_handler(create_model)
