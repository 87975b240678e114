"""UpdateEndpoint's DeploymentConfig: refused before anything changes when AWS would refuse it at UpdateEndpoint
(by then the scaling is deregistered), or would silently deploy without the guardrail it asks for.

The rules, from the SageMaker API reference and developer guide:
- DeploymentConfig: "Only one update policy should be used" (BlueGreenUpdatePolicy or RollingUpdatePolicy).
- TrafficRoutingConfig: CanarySize "must be less than or equal to 50% of the variant's total instance count";
  LinearStepSize "must be 10-50% of the variant's total instance count" ("Use canary traffic shifting", "Use linear
  traffic shifting").
- RollingUpdatePolicy: MaximumBatchSize "must be between 5% to 50% of the variant's total instance count";
  RollbackMaximumBatchSize defaults to 100% of the capacity, so more than the whole fleet is refused here.
- Deployment guardrails "Exclusions": rolling deployments exclude serverless and multi-variant endpoints;
  endpoints on Inf1 instances "fall back to" blue/green all at once with no final baking period.
The API reference leaves two readings for a size given with a traffic type that does not use it (a CanarySize
with LINEAR), and for a CANARY or LINEAR type without its size (both "Required: No"): both are refused here, the
safer reading, since either way the update would not shift traffic the way the request says.

The counts are the new config's: a variant's requested InitialInstanceCount, else its live DesiredInstanceCount
(the count the new config starts with). A capacity raise, applied later, is not counted: with it, a size is checked
against a smaller fleet than AWS sees.
"""

from __future__ import annotations

from typing import Any

from endpoint_updater.core.shapes import check_shape, sagemaker_model

BLUE_GREEN = "BlueGreenUpdatePolicy"
ROLLING = "RollingUpdatePolicy"
PERCENT = "CAPACITY_PERCENT"
INSTANCES = "INSTANCE_COUNT"
# (where, the traffic type it belongs to, lowest and highest share of the variant's instances in percent)
SIZES = (
    ((BLUE_GREEN, "TrafficRoutingConfiguration", "CanarySize"), "CANARY", 0, 50),
    ((BLUE_GREEN, "TrafficRoutingConfiguration", "LinearStepSize"), "LINEAR", 10, 50),
    ((ROLLING, "MaximumBatchSize"), None, 5, 50),
    ((ROLLING, "RollbackMaximumBatchSize"), None, 0, 100),
)
# Instance families deployment guardrails do not apply to ("Exclusions").
UNGUARDED_FAMILIES = ("ml.inf1.",)


def _at(deployment: dict[str, Any], keys: tuple[str, ...]) -> Any:
    value: Any = deployment
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def check(deployment: Any) -> list[str]:
    """The problems of a request's DeploymentConfig on its own: the API shape (with its ranges, lengths, patterns
    and valid values) and the rules that do not depend on the endpoint."""
    problems: list[str] = []
    check_shape(deployment, sagemaker_model().shape_for("DeploymentConfig"), "DeploymentConfig", problems)
    if problems:
        return problems
    if BLUE_GREEN in deployment and ROLLING in deployment:
        problems.append(f"DeploymentConfig: give one of {BLUE_GREEN} or {ROLLING}, not both "
                        "(UpdateEndpoint uses one update policy)")
    routing = _at(deployment, (BLUE_GREEN, "TrafficRoutingConfiguration"))
    for keys, traffic, low, high in SIZES:
        size = _at(deployment, keys)
        where = "DeploymentConfig." + ".".join(keys)
        if traffic is not None and routing is not None:
            if routing["Type"] == traffic and size is None:
                problems.append(f"{where}: required with Type {traffic}; give the size of each traffic step, "
                                f"e.g. {{\"Type\": \"{PERCENT}\", \"Value\": {max(low, 10)}}}")
            elif routing["Type"] != traffic and size is not None:
                problems.append(f"{where}: not used with Type {routing['Type']}; give it only with Type {traffic}")
                continue
        if size is not None and size["Type"] == PERCENT and not max(low, 1) <= size["Value"] <= high:
            problems.append(f"{where}.Value: {size['Value']} is not allowed; with {PERCENT} give {max(low, 1)} to "
                            f"{high} (percent of the variant's instances)")
    return problems


def _new_variants(config: dict[str, Any], description: dict[str, Any],
                  changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The production variants of the new config as far as the rules need them: serverless or not, instance type,
    instance count."""
    live = {v["VariantName"]: v for v in description.get("ProductionVariants") or []}
    requested = {c["VariantName"]: c for c in changes}
    result = []
    for variant in config.get("ProductionVariants") or []:
        merged = {**variant, **requested.get(variant["VariantName"], {})}
        count = requested.get(variant["VariantName"], {}).get(
            "InitialInstanceCount", live.get(variant["VariantName"], {}).get("DesiredInstanceCount",
                                                                             variant.get("InitialInstanceCount")))
        result.append({"VariantName": variant["VariantName"], "Serverless": "ServerlessConfig" in merged,
                       "InstanceType": merged.get("InstanceType"), "Count": count})
    return result


def check_for_endpoint(deployment: dict[str, Any] | None, config: dict[str, Any], description: dict[str, Any],
                       changes: list[dict[str, Any]]) -> list[str]:
    """The problems of a DeploymentConfig (already valid on its own) with the endpoint it would update: its current
    config `config`, live `description`, and the request's `changes`."""
    if not deployment:
        return []
    problems: list[str] = []
    variants = _new_variants(config, description, changes)
    if ROLLING in deployment:
        serverless = [v["VariantName"] for v in variants if v["Serverless"]]
        if serverless:
            problems.append(f"DeploymentConfig.{ROLLING}: variant {', '.join(serverless)} is serverless; rolling "
                            f"deployments exclude serverless endpoints: use {BLUE_GREEN}")
        if len(variants) > 1:
            problems.append(f"DeploymentConfig.{ROLLING}: the endpoint has {len(variants)} production variants "
                            f"({', '.join(v['VariantName'] for v in variants)}); rolling deployments exclude "
                            f"multi-variant endpoints: use {BLUE_GREEN}")
    shifting = ROLLING in deployment or _at(deployment, (BLUE_GREEN, "TrafficRoutingConfiguration", "Type")) in (
        "CANARY", "LINEAR")
    unguarded = [v["VariantName"] for v in variants
                 if str(v["InstanceType"] or "").startswith(UNGUARDED_FAMILIES)]
    if shifting and unguarded:
        problems.append(f"DeploymentConfig: variant {', '.join(unguarded)} runs on Inf1 instances, where SageMaker "
                        "ignores canary, linear and rolling deployments and shifts all traffic at once; "
                        f"give {BLUE_GREEN} with ALL_AT_ONCE traffic, or no DeploymentConfig")
    for keys, _traffic, low, high in SIZES:
        size = _at(deployment, keys)
        if size is None or size["Type"] != INSTANCES:
            continue
        for variant in variants:
            count = variant["Count"]
            if variant["Serverless"] or not isinstance(count, int) or count < 1:
                continue
            if not (size["Value"] * 100 >= low * count and size["Value"] * 100 <= high * count):
                fewest = max(1, -(-low * count // 100))
                most = high * count // 100
                allowed = f"give {fewest} to {most}" if fewest <= most else "no instance count fits; use a larger fleet"
                share = f"{low}% to {high}%" if low else f"at most {high}%"
                problems.append(f"DeploymentConfig.{'.'.join(keys)}.Value: {size['Value']} is not allowed for "
                                f"variant {variant['VariantName']} of {count} instances; with {INSTANCES} "
                                f"{allowed} ({share} of the variant's instances)")
    return problems
