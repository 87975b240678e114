"""The endpoint: reading its variants and whether an update or a capacity change has finished; raising its
capacity and starting its update, while the execution holds the endpoint's lock."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from botocore.exceptions import ClientError

from endpoint_updater.core import clock, store
from endpoint_updater.core.aws import client, error_code
from endpoint_updater.core.errors import (
    CapacityRaiseFailed,
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


def seconds_to_wait(deadline: str, interval: int) -> int:
    """The next Wait's seconds: `interval`, or fewer when the Deadline comes sooner, so that no Wait runs past
    it and the check after the Wait is the one that sees the deadline reached.

    Rounded up (a Wait takes whole seconds, and rounding down could wait 0 s again and again before the
    deadline); 0 once the deadline has passed."""
    left = (dt.datetime.fromisoformat(deadline) - clock.now()).total_seconds()
    return max(0, min(int(interval), math.ceil(left)))


def seconds_to_wait_for_event(deadline: str, safety_interval: int) -> int:
    """The next callback wait's TimeoutSeconds: `safety_interval`, or fewer when the Deadline comes sooner, and
    at least 1 (a Task's TimeoutSeconds must be a positive integer: "Task" state, Amazon States Language). The
    safety-net poll after it is the one that sees the deadline reached."""
    return max(1, seconds_to_wait(deadline, safety_interval))


def check(name: str, expected_config: str, deadline: str, interval: int = 0,
          capacity: dict[str, Any] | None = None, execution_arn: str | None = None,
          safety_interval: int | None = None, description: dict[str, Any] | None = None) -> dict[str, Any]:
    """One poll. Done when InService on `expected_config`; raises when the update cannot succeed any more.
    `WaitSeconds` is the wait before the next poll: `interval`, cut short at the deadline; `EventWaitSeconds`
    the next wait for an event (`safety_interval`, cut short likewise), when one is given. `description`:
    DescribeEndpoint's answer when the caller has just read it.

    A failed update can come back InService on the previous config, with or without a FailureReason:
    InService alone is not success. Likewise after a capacity raise (`capacity`: the raised VariantName, its
    count before (`From`) and the DesiredInstanceCount asked for): a raise that SageMaker rolled back ends
    InService at the old count, so the count is checked too (CapacityRaiseFailed), and a confirmed raise is
    recorded in the update's progress.
    """
    if description is None:
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
        if capacity is not None:
            _confirm_capacity(name, description, capacity, reason)
            if execution_arn:
                store.progress(name, execution_arn, "CapacityRaised",
                               f"{capacity['VariantName']} {capacity['From']} -> {capacity['DesiredInstanceCount']}")
        result["Done"] = True
        result["WaitSeconds"] = 0
        if safety_interval is not None:
            result["EventWaitSeconds"] = 0
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
    result["WaitSeconds"] = seconds_to_wait(deadline, interval)
    if safety_interval is not None:
        result["EventWaitSeconds"] = seconds_to_wait_for_event(deadline, safety_interval)
    return result


def _confirm_capacity(name: str, description: dict[str, Any], capacity: dict[str, Any], reason: str) -> None:
    """Raise CapacityRaiseFailed unless the raised variant serves at least the count asked for.

    DesiredInstanceCount is "the number of instances requested" and CurrentInstanceCount "the number of
    instances associated with the variant" ("ProductionVariantSummary" API reference): the documentation
    does not say which one a rolled-back change resets, so both must have reached the target (the safer
    reading)."""
    variant_name, target = capacity["VariantName"], int(capacity["DesiredInstanceCount"])
    live = next((v for v in variants(description) if v["VariantName"] == variant_name), None)
    counts = {key: (live or {}).get(key) for key in ("DesiredInstanceCount", "CurrentInstanceCount")}
    if all(isinstance(count, int) and count >= target for count in counts.values()):
        return
    seen = ", ".join(f"{key} {count}" for key, count in counts.items()) if live else "no such variant"
    raise CapacityRaiseFailed(
        f"endpoint {name} is InService but its variant {variant_name} has {seen}, below the "
        f"{target} instances the capacity raise asked for: SageMaker did not apply the raise or rolled it back "
        f"({reason}). Nothing else was changed: no new endpoint config, no UpdateEndpoint")


def raise_capacity(name: str, execution_arn: str, planned: list[dict[str, Any]], index: int,
                   deadline: str, interval: int, safety_interval: int | None = None) -> dict[str, Any]:
    """Step 2b: raise the `index`-th variant of the plan's `CapacityRaise` that is due a raise (To above
    From), with one UpdateEndpointWeightsAndCapacities call: that API changes "the capacity of one variant"
    ("UpdateEndpointWeightsAndCapacities" API reference). The workflow confirms each raise (`check`) before
    it asks for the next.

    The targets were computed from the counts seen at validation, so a retry asks for the same count, and a
    variant already at its target (a retried call SageMaker had accepted) is not asked again. A raise is not
    started once the deadline has passed: the check after it could only time out.

    Returns the variant, its target, where the next raise is (`Next`, `More`) and the first wait, for either
    path (`WaitSeconds` polling, `EventWaitSeconds` events)."""
    due = due_raises(planned)
    if not 0 <= index < len(due):
        raise ValueError(f"capacity raise {index} requested; the plan has {len(due)} variant(s) to raise")
    if clock.now() >= dt.datetime.fromisoformat(deadline):
        raise EndpointUpdateTimedOut(
            f"the deadline {deadline} (TimeoutSeconds) was reached before the capacity raise of variant "
            f"{due[index]['VariantName']}; it was not started")
    entry = due[index]
    description = describe_endpoint(name)
    live = {v["VariantName"]: v for v in variants(description)}
    if live.get(entry["VariantName"], {}).get("DesiredInstanceCount", 0) < entry["To"]:
        store.ensure_holder(name, execution_arn, "its capacity is left as it is")
        client("sagemaker").update_endpoint_weights_and_capacities(
            EndpointName=name,
            DesiredWeightsAndCapacities=[{"VariantName": entry["VariantName"], "DesiredInstanceCount": entry["To"]}])
        store.progress(name, execution_arn, "CapacityRaiseStarted",
                       f"{entry['VariantName']} {entry['From']} -> {entry['To']}")
    first_wait: dict[str, Any] = {"Done": False, "WaitSeconds": seconds_to_wait(deadline, interval)}
    if safety_interval is not None:
        first_wait["EventWaitSeconds"] = seconds_to_wait_for_event(deadline, safety_interval)
    return {"VariantName": entry["VariantName"], "From": entry["From"], "DesiredInstanceCount": entry["To"],
            "Next": index + 1, "More": index + 1 < len(due), "Check": first_wait}


def due_raises(planned: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The plan's capacity raises that raise something: a variant already at its cap is shown in the plan only."""
    return [r for r in planned if r["To"] > r["From"]]


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
