"""Step 2: deregister the endpoint's scalable targets (their policies and scheduled actions go with them)."""

from __future__ import annotations

from typing import Any

from endpoint_updater.core import scaling
from endpoint_updater.core.observability import task_handler


def deregister_scaling(event: dict[str, Any]) -> list[str]:
    return scaling.deregister(event["Request"]["EndpointName"], event["ExecutionId"], event["ScalableTargets"])


handler = task_handler(deregister_scaling)
