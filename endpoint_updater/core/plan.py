"""What an update would do, read from AWS without changing anything.

The first step of every execution builds it (an execution with `DryRun` ends there, with the plan as its
output), and `endpoint-updater plan` prints it. The new endpoint config in it is the exact
CreateEndpointConfig request the workflow sends, built by the same code as step 4.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from endpoint_updater.core import (
    deployment_config,
    endpoint_config,
    guardrails,
    history,
    inference_components,
    model_package,
    scaling,
)
from endpoint_updater.core.aws import jsonable
from endpoint_updater.core.endpoint import IN_SERVICE, describe_endpoint, due_raises, update_parameters, variants
from endpoint_updater.core.errors import (
    ChangeNotAllowed,
    EndpointNotFound,
    EndpointNotInService,
    InferenceComponentsNotSupported,
    InvalidInput,
)
from endpoint_updater.core.request import Request

# What a dry run reports as a refusal rather than raising: the reasons the first step refuses an update.
REFUSALS = (InvalidInput, ChangeNotAllowed, EndpointNotFound, EndpointNotInService, InferenceComponentsNotSupported)


@dataclass(frozen=True)
class Survey:
    """The endpoint as the first step reads it; everything the plan and the snapshot are made of."""

    description: dict[str, Any]
    config: dict[str, Any]
    tags: list[dict[str, str]]
    snapshot: dict[str, Any]


def survey(request: Request) -> Survey:
    """Read the endpoint, its config, the config's tags and its variants' scaling; refuse an update
    that cannot start (EndpointNotFound, EndpointNotInService, InvalidInput for changes the endpoint rejects,
    InferenceComponentsNotSupported, ChangeNotAllowed for changes this deployment's guardrails do not allow)."""
    name = request.EndpointName
    model_package.check(request)
    description = describe_endpoint(name)
    config, tags = endpoint_config.describe(description["EndpointConfigName"])
    # Before the status: an endpoint of inference components is refused whatever its state, so the reason
    # given is the one that waiting does not cure.
    inference_components.check(name, description, config)
    status = description["EndpointStatus"]
    if status != IN_SERVICE:
        raise EndpointNotInService(f"endpoint {name} is {status}; it must be InService before an update starts")
    model_package.check_variant(request, config)
    problems = endpoint_config.check_changes(name, config, request.VariantChanges, request.DeploymentConfig)
    problems += endpoint_config.check_models(request.VariantChanges, model_package.created_models(request))
    problems += deployment_config.check_for_endpoint(request.DeploymentConfig, config, description,
                                                     request.VariantChanges)
    if problems:
        raise InvalidInput("invalid input: " + "; ".join(problems))
    found = Survey(description=description, config=config, tags=tags,
                   snapshot=scaling.capture(name, [v["VariantName"] for v in variants(description)]))
    guardrails.check(request.VariantChanges, config, capacity_raises(request, found))
    return found


def capacity_raises(request: Request, found: Survey) -> list[dict[str, Any]]:
    """Each autoscaled instance-based variant's count before and after the precautionary raise.

    The raise stops at the scalable target's MaxCapacity unless the request sets
    `CapacityIncrease.AboveMaxCapacity`; an entry whose count was capped, or lifted above the maximum, shows the
    count asked for (`Requested`) and why (`Reason`). A variant already at its cap is listed with `To` equal
    to `From`, and is not raised."""
    if request.CapacityIncrease is None:
        return []
    above_max = request.CapacityIncrease.get("AboveMaxCapacity") is True
    maximum = {t["ResourceId"]: t.get("MaxCapacity") for t in found.snapshot["Targets"]
               if t["ScalableDimension"] == scaling.INSTANCE_COUNT}
    raises = []
    for variant in (v for key in endpoint_config.VARIANT_LISTS for v in found.description.get(key) or []):
        count = variant.get("DesiredInstanceCount")
        resource = scaling.resource_id(request.EndpointName, variant["VariantName"])
        if resource not in maximum or count is None:
            continue
        requested = scaling.raised_count(count, request.CapacityIncrease)
        entry: dict[str, Any] = {"VariantName": variant["VariantName"], "From": count, "To": requested}
        cap = maximum[resource]
        if cap is not None and requested > cap:
            entry["Requested"] = requested
            entry["MaxCapacity"] = cap
            if above_max:
                entry["Reason"] = (
                    f"above the scalable target's MaxCapacity {cap}, as CapacityIncrease.AboveMaxCapacity asks; "
                    f"when the scaling is restored, RegisterScalableTarget moves the count back within "
                    f"[MinCapacity, MaxCapacity], to {cap}")
            else:
                entry["To"] = max(count, cap)
                capped = f"capped at the scalable target's MaxCapacity {cap}" if count < cap else \
                    f"not raised: already at or above the scalable target's MaxCapacity {cap}"
                entry["Reason"] = f"{capped}; set CapacityIncrease.AboveMaxCapacity to true to go above it"
        raises.append(entry)
    return raises


def _scaling_summary(snapshot: dict[str, Any]) -> dict[str, Any]:
    return {
        "Targets": [{k: t.get(k) for k in ("ResourceId", "ScalableDimension", "MinCapacity", "MaxCapacity",
                                           "SuspendedState", scaling.TAGS) if k in t} for t in snapshot["Targets"]],
        "Policies": [{k: p["Definition"].get(k) for k in ("ResourceId", "PolicyName", "PolicyType")}
                     for p in snapshot["Policies"]],
        "ScheduledActions": [{k: a.get(k) for k in ("ResourceId", "ScheduledActionName", "Schedule")}
                             for a in snapshot["ScheduledActions"]],
        "Alarms": [a["AlarmName"] for a in snapshot["Alarms"]],
    }


def build(request: Request, found: Survey, new_config_name: str) -> dict[str, Any]:
    """The plan of an update the first step accepted."""
    raises = capacity_raises(request, found)
    # Step 4 runs after the raise, and copies each variant's live DesiredInstanceCount: the raised one.
    after_raise = copy.deepcopy(found.description)
    counts = {r["VariantName"]: r["To"] for r in due_raises(raises)}
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
        # The state machine's IsCapacityRaiseRequested reads this one: some variant is to be raised.
        "RaiseCapacity": bool(due_raises(raises)),
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
        "Completion": completion(request),
    }


def completion(request: Request) -> dict[str, Any]:
    """How the workflow will learn that the update (and each capacity raise) ended, and the most history events
    its execution can write with these timings (core/history.py)."""
    interval_field = history.INTERVAL_FIELD[request.Completion]
    interval = getattr(request, interval_field)
    found: dict[str, Any] = {"Path": request.Completion, interval_field: interval}
    if request.Completion == "polling":
        found["InitialPollDelaySeconds"] = request.InitialPollDelaySeconds
    found.update({"TimeoutSeconds": request.TimeoutSeconds,
                  "HistoryEventsPerCycle": history.EVENTS_PER_CYCLE[request.Completion],
                  "WorstCaseHistoryEvents": history.worst_case(request.TimeoutSeconds, interval, request.Completion),
                  "HistoryLimit": history.HISTORY_LIMIT})
    return found


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
            "UpdateEndpointReasons": [], "Completion": completion(request)}


def dry_run(request: Request, new_config_name: str) -> dict[str, Any]:
    """The plan, read-only; a refusal is reported in it instead of raised."""
    request = model_package.with_model(request)
    try:
        return build(request, survey(request), new_config_name)
    except REFUSALS as error:
        return refused(request, error)
