"""Step 2: deregister the endpoint's scalable targets (their policies and scheduled actions go with them)."""

from __future__ import annotations

from typing import Any

from endpoint_updater.core import scaling, store
from endpoint_updater.core.observability import task_handler


def deregister_scaling(event: dict[str, Any]) -> list[str]:
    name, execution = event["Request"]["EndpointName"], event["ExecutionId"]
    done = scaling.deregister(event["ScalableTargets"], still_holding=lambda: store.holds(name, execution))
    store.reached(event, "ScalingDeregistered")
    return done


handler = task_handler(deregister_scaling)
