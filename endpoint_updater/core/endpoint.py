"""The endpoint: reading its variants and whether an update or a capacity change has finished; raising its
capacity and starting its update, while the execution holds the endpoint's lock."""

from __future__ import annotations

import datetime as dt
from typing import Any

from botocore.exceptions import ClientError

from endpoint_updater.core import clock, store
from endpoint_updater.core.aws import client, error_code
from endpoint_updater.core.errors import (
    EndpointNotFound,
    EndpointUpdateFailed,
    EndpointUpdateRollbackFailed,
    EndpointUpdateRolledBack,
    EndpointUpdateTimedOut,
)

IN_SERVICE = "InService"
# "EndpointStatus" in the DescribeEndpoint API reference. Polling goes on through these.
BUSY_STATUSES = frozenset({"Creating", "Updating", "SystemUpdating", "RollingBack"})


def describe_endpoint(name: str) -> dict[str, Any]:
    try:
        return dict(client("sagemaker").describe_endpoint(EndpointName=name))
    except ClientError as error:
        if error_code(error) == "ValidationException" and "Could not find" in str(error):
            raise EndpointNotFound(f"endpoint {name!r} does not exist in this account and region") from error
        raise


def variants(description: dict[str, Any]) -> list[dict[str, Any]]:
    """Each variant's identity and counts, production and shadow alike."""
    result = []
    for kind, key in (("Production", "ProductionVariants"), ("Shadow", "ShadowProductionVariants")):
        for variant in description.get(key) or []:
            summary: dict[str, Any] = {"VariantName": variant["VariantName"], "Kind": kind}
            if "DesiredServerlessConfig" in variant or "CurrentServerlessConfig" in variant:
                summary["Serverless"] = True
                config = variant.get("DesiredServerlessConfig") or variant.get("CurrentServerlessConfig") or {}
                if "ProvisionedConcurrency" in config:
                    summary["DesiredProvisionedConcurrency"] = config["ProvisionedConcurrency"]
            else:
                summary["Serverless"] = False
                for count in ("CurrentInstanceCount", "DesiredInstanceCount"):
                    if count in variant:
                        summary[count] = variant[count]
            result.append(summary)
    return result


def check(name: str, expected_config: str, deadline: str) -> dict[str, Any]:
    """One poll. Done when InService on `expected_config`; raises when the update cannot succeed any more.

    A failed update can come back InService on the previous config, with or without a FailureReason:
    InService alone is not success.
    """
    description = describe_endpoint(name)
    status = description["EndpointStatus"]
    config = description.get("EndpointConfigName", "")
    reason = description.get("FailureReason") or "no FailureReason given"
    result = {"EndpointStatus": status, "EndpointConfigName": config, "Variants": variants(description),
              "Done": False}
    if status == IN_SERVICE:
        if config != expected_config:
            raise EndpointUpdateRolledBack(
                f"endpoint {name} is InService on {config}, not on {expected_config}: the update was rolled "
                f"back ({reason})")
        result["Done"] = True
        return result
    if status == "UpdateRollbackFailed":
        raise EndpointUpdateRollbackFailed(
            f"endpoint {name} is UpdateRollbackFailed: a mix of the old and the new config may be serving "
            f"({reason}). Inspect the endpoint's variants before updating it again")
    if status not in BUSY_STATUSES:
        raise EndpointUpdateFailed(f"endpoint {name} is {status}: {reason}")
    if clock.now() >= dt.datetime.fromisoformat(deadline):
        raise EndpointUpdateTimedOut(
            f"endpoint {name} is still {status} at the deadline {deadline} (TimeoutSeconds); "
            "stopped waiting")
    return result


def raise_capacity(name: str, execution_arn: str, planned: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Step 2b: raise each variant of the plan's `CapacityRaise` that is still below its target.

    The targets were computed from the counts seen at validation, so a retry asks for the same counts and a
    variant already at its target is left alone."""
    description = describe_endpoint(name)
    live = {v["VariantName"]: v for v in variants(description)}
    raises = [{"VariantName": r["VariantName"], "From": r["From"], "DesiredInstanceCount": r["To"]}
              for r in planned if live.get(r["VariantName"], {}).get("DesiredInstanceCount", 0) < r["To"]]
    if raises and description["EndpointStatus"] == IN_SERVICE:
        store.ensure_holder(name, execution_arn, "its capacity is left as it is")
        client("sagemaker").update_endpoint_weights_and_capacities(
            EndpointName=name,
            DesiredWeightsAndCapacities=[{"VariantName": r["VariantName"],
                                          "DesiredInstanceCount": r["DesiredInstanceCount"]} for r in raises])
    store.progress(name, execution_arn, "CapacityRaised")
    return raises


# "VariantProperty" API reference (botocore enum VariantPropertyType): which request field overrides which
# retained live property. DataCaptureConfig is in the enum too but "not currently supported", and no request
# field changes it.
EXCLUDED_WHEN_REQUESTED = {"InitialInstanceCount": "DesiredInstanceCount", "InitialVariantWeight": "DesiredWeight"}


def update_parameters(name: str, new_config: str, changes: list[dict[str, Any]], deployment: dict[str, Any] | None,
                      last_deployment: dict[str, Any] | None) -> tuple[dict[str, Any], list[str]]:
    """UpdateEndpoint's request for step 6, and why each Retain flag has its value.

    Every live property the request does not change is kept, by AWS's own mechanisms ("UpdateEndpoint" API
    reference): RetainAllVariantProperties keeps each variant's live DesiredWeight and DesiredInstanceCount
    (without it, UpdateEndpoint resets them to the new config's InitialVariantWeight and InitialInstanceCount),
    except the properties the request sets, named in ExcludeRetainedVariantProperties. RetainDeploymentConfig
    (default false) reuses the endpoint's LastDeploymentConfig (blue/green traffic shifting, auto-rollback
    alarms); a request's own DeploymentConfig replaces it.
    """
    params: dict[str, Any] = {"EndpointName": name, "EndpointConfigName": new_config}
    reasons = []
    serverless = sorted(c["VariantName"] for c in changes if "ServerlessConfig" in c)
    if serverless:
        # The docs name no VariantPropertyType for a serverless config, and do not say whether Retain keeps a
        # live one (UpdateEndpointWeightsAndCapacities can change it): with Retain the requested config might
        # silently not apply. The new config carries every live weight, count and provisioned concurrency
        # (endpoint_config.build), so without Retain nothing live is lost either.
        params["RetainAllVariantProperties"] = False
        reasons.append(f"RetainAllVariantProperties false: the request changes the ServerlessConfig of "
                       f"{', '.join(serverless)}, which no VariantPropertyType can exclude; the new config carries "
                       "every live weight, instance count and provisioned concurrency instead")
    else:
        params["RetainAllVariantProperties"] = True
        excluded = sorted({EXCLUDED_WHEN_REQUESTED[field] for change in changes for field in change
                           if field in EXCLUDED_WHEN_REQUESTED})
        reasons.append("RetainAllVariantProperties true: each variant keeps its live DesiredWeight and "
                       "DesiredInstanceCount" + (f", except {', '.join(excluded)}, which the request sets "
                                                 "(every variant then takes it from the new config, which "
                                                 "carries the live values of the others)" if excluded else ""))
        if excluded:
            params["ExcludeRetainedVariantProperties"] = [{"VariantPropertyType": p} for p in excluded]
    if deployment:
        params["DeploymentConfig"] = deployment
        reasons.append("DeploymentConfig from the request" + (
            ", replacing the endpoint's LastDeploymentConfig" if last_deployment else ""))
    elif last_deployment:
        params["RetainDeploymentConfig"] = True
        reasons.append("RetainDeploymentConfig true: the endpoint's LastDeploymentConfig applies again")
    else:
        # The docs do not say what RetainDeploymentConfig does with no last configuration to reuse; not sending
        # it leaves no doubt.
        reasons.append("no DeploymentConfig: the endpoint has no LastDeploymentConfig and the request gives "
                       "none, so SageMaker's default applies (blue/green, all at once)")
    return params, reasons


def update_request(name: str, new_config: str, changes: list[dict[str, Any]],
                   deployment: dict[str, Any] | None) -> dict[str, Any]:
    """UpdateEndpoint's request, for an execution whose plan does not carry it (planned by an earlier version
    of the functions)."""
    last = describe_endpoint(name).get("LastDeploymentConfig")
    return update_parameters(name, new_config, changes, deployment, last)[0]


def update(name: str, execution_arn: str, params: dict[str, Any]) -> dict[str, Any]:
    """Step 6: UpdateEndpoint with the new config, as the plan's `UpdateEndpoint` says. A retry that finds
    the update already started is fine."""
    new_config = params["EndpointConfigName"]
    store.ensure_holder(name, execution_arn, "the endpoint is not updated")
    try:
        client("sagemaker").update_endpoint(**params)
    except ClientError:
        description = describe_endpoint(name)
        pending = (description.get("PendingDeploymentSummary") or {}).get("EndpointConfigName")
        if new_config not in (pending, description.get("EndpointConfigName")):
            raise
    store.progress(name, execution_arn, "UpdateStarted")
    return {"EndpointConfigName": new_config}
