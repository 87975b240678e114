"""Step 2b: raise each autoscaled variant's instance count before the update, as a precaution."""

from __future__ import annotations

from typing import Any

from endpoint_updater.core import scaling, store
from endpoint_updater.core.aws import client
from endpoint_updater.core.endpoint import IN_SERVICE, describe_endpoint, variants
from endpoint_updater.core.errors import LockLost
from endpoint_updater.core.observability import task_handler


def raise_capacity(event: dict[str, Any]) -> list[dict[str, Any]]:
    """The targets are computed from the counts seen at validation, so a retry asks for the same counts
    and a variant already at its target is left alone."""
    name = event["Request"]["EndpointName"]
    increase = event["Request"]["CapacityIncrease"]
    autoscaled = {t["ResourceId"] for t in event["ScalableTargets"]
                  if t["ScalableDimension"] == scaling.INSTANCE_COUNT}
    description = describe_endpoint(name)
    live = {v["VariantName"]: v for v in variants(description)}
    raises = []
    for variant in event["Endpoint"]["Variants"]:
        if scaling.resource_id(name, variant["VariantName"]) not in autoscaled or variant["Serverless"]:
            continue
        target = scaling.raised_count(variant["DesiredInstanceCount"], increase)
        if live[variant["VariantName"]].get("DesiredInstanceCount", 0) < target:
            raises.append({"VariantName": variant["VariantName"], "From": variant["DesiredInstanceCount"],
                           "DesiredInstanceCount": target})
    if raises and description["EndpointStatus"] == IN_SERVICE:
        if not store.holds(name, event["ExecutionId"]):
            raise LockLost(f"the lock of endpoint {name} was taken back; its capacity is left as it is")
        client("sagemaker").update_endpoint_weights_and_capacities(
            EndpointName=name,
            DesiredWeightsAndCapacities=[{"VariantName": r["VariantName"],
                                          "DesiredInstanceCount": r["DesiredInstanceCount"]} for r in raises])
    store.reached(event, "CapacityRaised")
    return raises


handler = task_handler(raise_capacity)
