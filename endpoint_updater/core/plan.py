"""What an update would do, read from AWS without changing anything.

The first step of every execution builds it (an execution with `DryRun` ends there, with the plan as its
output), and `endpoint-updater plan` prints it. The new endpoint config in it is the exact
CreateEndpointConfig request the workflow sends, built by the same code as step 4.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from endpoint_updater.core import endpoint_config, model_package, scaling
from endpoint_updater.core.aws import jsonable
from endpoint_updater.core.endpoint import IN_SERVICE, describe_endpoint, update_parameters, variants
from endpoint_updater.core.errors import EndpointNotFound, EndpointNotInService, InvalidInput
from endpoint_updater.core.request import Request

# What a dry run reports as a refusal rather than raising: the reasons the first step refuses an update.
REFUSALS = (InvalidInput, EndpointNotFound, EndpointNotInService)


@dataclass(frozen=True)
class Survey:
    """The endpoint as the first step reads it; everything the plan and the snapshot are made of."""

    description: dict[str, Any]
    config: dict[str, Any]
    tags: list[dict[str, str]]
    snapshot: dict[str, Any]


def survey(request: Request) -> Survey:
    """Read the endpoint, its config, the config's tags and its variants' scaling; refuse an update
    that cannot start (EndpointNotFound, EndpointNotInService, InvalidInput for changes the endpoint rejects)."""
    name = request.EndpointName
    model_package.check(request)
    description = describe_endpoint(name)
    status = description["EndpointStatus"]
    if status != IN_SERVICE:
        raise EndpointNotInService(f"endpoint {name} is {status}; it must be InService before an update starts")
    config, tags = endpoint_config.describe(description["EndpointConfigName"])
    model_package.check_variant(request, config)
    problems = endpoint_config.check_changes(name, config, request.VariantChanges, request.DeploymentConfig)
    if problems:
        raise InvalidInput("invalid input: " + "; ".join(problems))
    return Survey(description=description, config=config, tags=tags,
                  snapshot=scaling.capture(name, [v["VariantName"] for v in variants(description)]))


def capacity_raises(request: Request, found: Survey) -> list[dict[str, Any]]:
    """Each autoscaled instance-based variant's count before and after the precautionary raise."""
    if request.CapacityIncrease is None:
        return []
    autoscaled = {t["ResourceId"] for t in found.snapshot["Targets"]
                  if t["ScalableDimension"] == scaling.INSTANCE_COUNT}
    raises = []
    for variant in (v for key in endpoint_config.VARIANT_LISTS for v in found.description.get(key) or []):
        count = variant.get("DesiredInstanceCount")
        if scaling.resource_id(request.EndpointName, variant["VariantName"]) in autoscaled and count is not None:
            raises.append({"VariantName": variant["VariantName"], "From": count,
                           "To": scaling.raised_count(count, request.CapacityIncrease)})
    return raises


def _scaling_summary(snapshot: dict[str, Any]) -> dict[str, Any]:
    return {
        "Targets": [{k: t.get(k) for k in ("ResourceId", "ScalableDimension", "MinCapacity", "MaxCapacity",
                                           "SuspendedState") if k in t} for t in snapshot["Targets"]],
        "Policies": [{k: p["Definition"].get(k) for k in ("ResourceId", "PolicyName", "PolicyType")}
                     for p in snapshot["Policies"]],
        "ScheduledActions": [{k: a.get(k) for k in ("ResourceId", "ScheduledActionName", "Schedule")}
                             for a in snapshot["ScheduledActions"]],
        "Alarms": [a["AlarmName"] for a in snapshot["Alarms"]],
    }


def build(request: Request, found: Survey, new_config_name: str) -> dict[str, Any]:
    """The plan of an update the first step accepted."""
    autoscaled_instances = [t for t in found.snapshot["Targets"] if t["ScalableDimension"] == scaling.INSTANCE_COUNT]
    raises = capacity_raises(request, found)
    # Step 4 runs after the raise, and copies each variant's live DesiredInstanceCount: the raised one.
    after_raise = copy.deepcopy(found.description)
    counts = {r["VariantName"]: r["To"] for r in raises}
    for variant in (v for key in endpoint_config.VARIANT_LISTS for v in after_raise.get(key) or []):
        if variant["VariantName"] in counts:
            variant["DesiredInstanceCount"] = counts[variant["VariantName"]]
    new_config, changes, sources = endpoint_config.build_with_sources(
        found.config, after_raise, request.VariantChanges, new_config_name, found.tags)
    for row in sources:
        if row["VariantName"] in counts and row["Property"] == "InitialInstanceCount":
            row["LiveField"] = "DesiredInstanceCount after the capacity raise"
    last_deployment = found.description.get("LastDeploymentConfig")
    update_endpoint, reasons = update_parameters(request.EndpointName, new_config_name, request.VariantChanges,
                                                 request.DeploymentConfig, last_deployment)
    current_config = {k: v for k, v in found.config.items() if k not in endpoint_config.OUTPUT_ONLY}
    current_config["EndpointConfigName"] = found.config["EndpointConfigName"]
    kept_tags = [t for t in found.tags if not t["Key"].startswith(endpoint_config.RESERVED_TAG_PREFIX)]
    if kept_tags:
        current_config["Tags"] = kept_tags
    return {
        # The state machine's IsCapacityRaiseRequested reads this one.
        "RaiseCapacity": request.CapacityIncrease is not None and bool(autoscaled_instances),
        # And IsModelFromPackage this one.
        "CreateModel": request.ModelPackage is not None,
        "DryRun": request.DryRun,
        "EndpointName": request.EndpointName,
        "CurrentConfig": jsonable(current_config),
        "NewConfig": jsonable(new_config),
        "Changes": jsonable(changes),
        "DeploymentConfig": request.DeploymentConfig,
        "CapacityRaise": raises,
        "ScalingToDeregisterAndRestore": _scaling_summary(found.snapshot),
        "Refusal": None,
        # Where each property of each variant of NewConfig comes from: the request, the live endpoint, or
        # the current config.
        "NewConfigSources": jsonable(sources),
        "DeploymentConfigSource": _deployment_source(request.DeploymentConfig, last_deployment),
        # The exact UpdateEndpoint request step 6 sends, and why each Retain flag has its value.
        "UpdateEndpoint": jsonable(update_endpoint),
        "UpdateEndpointReasons": reasons,
    }


def _deployment_source(requested: dict[str, Any] | None, last: dict[str, Any] | None) -> dict[str, Any]:
    """The deployment config the update runs with: the request's, the endpoint's LastDeploymentConfig
    (retained), or none (SageMaker's default)."""
    if requested:
        return {"Source": "request", "DeploymentConfig": requested, "Replaces": jsonable(last)}
    if last:
        return {"Source": "retained LastDeploymentConfig", "DeploymentConfig": jsonable(last)}
    return {"Source": "none", "DeploymentConfig": None}


def refused(request: Request, error: Exception) -> dict[str, Any]:
    """The plan of an update the first step would refuse: why, and nothing else."""
    return {"RaiseCapacity": False, "CreateModel": False,
            "DryRun": request.DryRun, "EndpointName": request.EndpointName,
            "CurrentConfig": None, "NewConfig": None, "Changes": [], "DeploymentConfig": request.DeploymentConfig,
            "CapacityRaise": [], "ScalingToDeregisterAndRestore": None,
            "Refusal": {"Error": type(error).__name__, "Cause": str(error)},
            "NewConfigSources": [], "DeploymentConfigSource": None, "UpdateEndpoint": None,
            "UpdateEndpointReasons": []}


def dry_run(request: Request, new_config_name: str) -> dict[str, Any]:
    """The plan, read-only; a refusal is reported in it instead of raised."""
    request = model_package.with_model(request)
    try:
        return build(request, survey(request), new_config_name)
    except REFUSALS as error:
        return refused(request, error)
