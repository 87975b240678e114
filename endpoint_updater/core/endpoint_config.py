"""Steps 4 and 5: the new endpoint config, a copy of the current one with the requested changes."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
from typing import Any

from botocore.exceptions import ClientError
from botocore.validate import ParamValidator

from endpoint_updater.core import shapes, store
from endpoint_updater.core.aws import client, error_code, paginate
from endpoint_updater.core.endpoint import describe_endpoint, variants
from endpoint_updater.core.errors import EndpointConfigConflict
from endpoint_updater.core.observability import logger

# Output-only fields of DescribeEndpointConfig. Everything else is copied, including fields added to the
# API later; the name is replaced.
OUTPUT_ONLY = frozenset({"EndpointConfigArn", "CreationTime", "EndpointConfigName", "ResponseMetadata"})
VARIANT_LISTS = ("ProductionVariants", "ShadowProductionVariants")
NAME_MAX = 63
# Tag keys AWS reserves; they cannot be written back.
RESERVED_TAG_PREFIX = "aws:"


def new_config_name(endpoint: str, execution_arn: str, start_time: str) -> str:
    """`<endpoint>-<UTC start, to the second>-<6 hex of the execution ARN>`: at most 63 characters,
    valid for SageMaker, unique per execution and the same on every retry of that execution."""
    started = dt.datetime.fromisoformat(start_time.replace("Z", "+00:00")).astimezone(dt.UTC)
    suffix = f"-{started:%Y%m%d%H%M%S}-{hashlib.sha256(execution_arn.encode()).hexdigest()[:6]}"
    return endpoint[: NAME_MAX - len(suffix)].rstrip("-") + suffix


def describe(name: str) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """The endpoint config and its tags (DescribeEndpointConfig does not return them)."""
    config = client("sagemaker").describe_endpoint_config(EndpointConfigName=name)
    return config, paginate("sagemaker", "list_tags", "Tags", ResourceArn=config["EndpointConfigArn"])


def all_variants(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["VariantName"]: v for key in VARIANT_LISTS for v in config.get(key) or []}


def check_changes(endpoint: str, config: dict[str, Any], changes: list[dict[str, Any]],
                  deployment: dict[str, Any] | None) -> list[str]:
    """Problems with the requested changes against the endpoint's current config."""
    problems = []
    current = all_variants(config)
    model = shapes.sagemaker_model()
    validator = ParamValidator()
    for index, change in enumerate(changes):
        where = f"VariantChanges[{index}]"
        variant = current.get(change["VariantName"])
        if variant is None:
            problems.append(f"{where}.VariantName: {change['VariantName']!r} is not a variant of endpoint "
                            f"{endpoint}; its variants: {', '.join(sorted(current))}")
            continue
        if "ServerlessConfig" in variant:
            for key in sorted({"InstanceType", "InitialInstanceCount"} & set(change)):
                problems.append(f"{where}.{key}: variant {variant['VariantName']} is serverless and has no "
                                f"{key}; change its ServerlessConfig instead")
        elif "ServerlessConfig" in change:
            problems.append(f"{where}.ServerlessConfig: variant {variant['VariantName']} is instance-based; "
                            "change its InstanceType or InitialInstanceCount instead")
        report = validator.validate({**variant, **change}, model.shape_for("ProductionVariant"))
        if report.has_errors():
            problems.append(f"{where}: {report.generate_report()}")
    if deployment is not None:
        report = validator.validate(deployment, model.shape_for("DeploymentConfig"))
        if report.has_errors():
            problems.append(f"DeploymentConfig: {report.generate_report()}")
    return problems


def check_models(changes: list[dict[str, Any]], created: frozenset[str] = frozenset()) -> list[str]:
    """Problems with the models the changes name: each must exist (DescribeModel), except those in `created`,
    which the workflow creates itself (a model package's). CreateEndpointConfig refuses a missing model only
    after the scaling is deregistered."""
    problems = []
    sagemaker = client("sagemaker")
    for index, change in enumerate(changes):
        name = change.get("ModelName")
        if not isinstance(name, str) or name in created:
            continue
        try:
            sagemaker.describe_model(ModelName=name)
        except ClientError as error:
            # DescribeModel answers a missing model with ValidationException "Could not find model ..."
            # (the API reference lists no ResourceNotFound for it); any other error is the caller's to see.
            if error_code(error) != "ValidationException" or "Could not find model" not in str(error):
                raise
            problems.append(f"VariantChanges[{index}].ModelName: model {name!r} does not exist in this account "
                            "and region; create it with CreateModel first, or deploy a ModelPackage")
    return problems


# Where a value of the new config comes from (the plan's NewConfigSources).
FROM_REQUEST = "request"
FROM_LIVE = "live endpoint"
FROM_CONFIG = "current config"


def build(current: dict[str, Any], description: dict[str, Any], changes: list[dict[str, Any]],
          name: str, tags: list[dict[str, str]]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """CreateEndpointConfig's parameters, and the list of what differs from the current config."""
    params, applied, _ = build_with_sources(current, description, changes, name, tags)
    return params, applied


def build_with_sources(current: dict[str, Any], description: dict[str, Any], changes: list[dict[str, Any]],
                       name: str, tags: list[dict[str, str]]
                       ) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    """CreateEndpointConfig's parameters, what differs from the current config, and where each variant
    property of the new config comes from.

    Each variant starts from what the endpoint runs now, not from what its config says: the live
    DesiredInstanceCount (autoscaling, or the capacity raise, moved it), the live DesiredWeight (an
    UpdateEndpointWeightsAndCapacities call moved it) and, for serverless variants, the live provisioned
    concurrency. UpdateEndpoint sends RetainAllVariantProperties too, but ExcludeRetainedVariantProperties is
    endpoint-wide: once a request sets one variant's weight, every variant takes its weight from this config
    ("VariantProperty" API reference), so every variant must carry its live one.
    """
    params = {k: copy.deepcopy(v) for k, v in current.items() if k not in OUTPUT_ONLY}
    desired = {v["VariantName"]: v for v in variants(description)}
    described = {v["VariantName"]: v for key in VARIANT_LISTS for v in description.get(key) or []}
    requested = {change["VariantName"]: change for change in changes}
    applied: list[dict[str, Any]] = []
    sources: list[dict[str, Any]] = []
    for key in VARIANT_LISTS:
        for variant in params.get(key) or []:
            before = copy.deepcopy(variant)
            variant_name = variant["VariantName"]
            live = desired.get(variant_name, {})
            # "ProductionVariantSummary": DesiredWeight is what UpdateEndpointWeightsAndCapacities asked for.
            weight = described.get(variant_name, {}).get("DesiredWeight",
                                                         described.get(variant_name, {}).get("CurrentWeight"))
            live_sources: dict[str, str] = {}
            if "InitialInstanceCount" in variant and "DesiredInstanceCount" in live:
                variant["InitialInstanceCount"] = live["DesiredInstanceCount"]
                live_sources["InitialInstanceCount"] = "DesiredInstanceCount"
            if weight is not None:
                variant["InitialVariantWeight"] = weight
                live_sources["InitialVariantWeight"] = "DesiredWeight"
            if "ServerlessConfig" in variant and "DesiredProvisionedConcurrency" in live:
                variant["ServerlessConfig"]["ProvisionedConcurrency"] = live["DesiredProvisionedConcurrency"]
                live_sources["ServerlessConfig.ProvisionedConcurrency"] = \
                    "DesiredServerlessConfig.ProvisionedConcurrency"
            change = {k: v for k, v in requested.get(variant_name, {}).items() if k != "VariantName"}
            variant.update(copy.deepcopy(change))
            applied.extend({"VariantName": variant_name, "Field": field,
                            "From": before.get(field), "To": variant.get(field)}
                           for field in sorted(set(before) | set(variant)) if before.get(field) != variant.get(field))
            sources.extend(_sources(variant, change, live_sources))
    params["EndpointConfigName"] = name
    kept_tags = [tag for tag in tags if not tag["Key"].startswith(RESERVED_TAG_PREFIX)]
    if kept_tags:
        params["Tags"] = kept_tags
    return params, applied, sources


def _sources(variant: dict[str, Any], change: dict[str, Any], live: dict[str, str]) -> list[dict[str, Any]]:
    """One row per property of a new variant: its value, and whether the request, the live endpoint or the
    current config gave it."""
    rows = []
    for field in sorted(set(variant) - {"VariantName"}):
        value = variant[field]
        if field in change:
            rows.append({"Property": field, "Value": value, "Source": FROM_REQUEST})
        elif field in live:
            rows.append({"Property": field, "Value": value, "Source": FROM_LIVE, "LiveField": live[field]})
        elif field == "ServerlessConfig" and isinstance(value, dict):
            for key in sorted(value):
                path = f"{field}.{key}"
                row = {"Property": path, "Value": value[key], "Source": FROM_LIVE if path in live else FROM_CONFIG}
                if path in live:
                    row["LiveField"] = live[path]
                rows.append(row)
        else:
            rows.append({"Property": field, "Value": value, "Source": FROM_CONFIG})
    return [{"VariantName": variant["VariantName"], **row} for row in rows]


def create(params: dict[str, Any]) -> None:
    """CreateEndpointConfig. When a retry finds the config already made with the same content, that is fine."""
    sagemaker = client("sagemaker")
    try:
        sagemaker.create_endpoint_config(**params)
    except ClientError as error:
        if error_code(error) != "ValidationException" or "already exist" not in str(error):
            raise
        existing = sagemaker.describe_endpoint_config(EndpointConfigName=params["EndpointConfigName"])
        for key in VARIANT_LISTS:
            if (existing.get(key) or []) != (params.get(key) or []):
                raise EndpointConfigConflict(
                    f"endpoint config {params['EndpointConfigName']} already exists with other {key}; "
                    "start a new execution") from error


def create_for_update(endpoint: str, execution_arn: str, current_name: str, changes: list[dict[str, Any]],
                      name: str) -> dict[str, Any]:
    """Steps 4 and 5: the config `name`, a copy of `current_name` with `changes`, each variant starting at
    the endpoint's live counts (after any capacity raise)."""
    current, tags = describe(current_name)
    params, applied = build(current, describe_endpoint(endpoint), changes, name, tags)
    create(params)
    logger.info("endpoint config created", extra={"config": params["EndpointConfigName"], "changes": applied})
    store.progress(endpoint, execution_arn, "ConfigCreated")
    return {"EndpointConfigName": params["EndpointConfigName"], "Changes": applied}
