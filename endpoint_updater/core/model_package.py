"""Deploying an approved model package: the Model the workflow creates from it, and its checks.

SageMaker deploys a model package through a Model whose container names the package (CreateModel with
PrimaryContainer.ModelPackageName). The Model reuses the execution role and the network settings (VpcConfig,
EnableNetworkIsolation) of the model the variant serves now, so the new model runs where the old one did,
provided that role is one the deployment's execution role patterns allow (guardrails).
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

from endpoint_updater.core import guardrails, store
from endpoint_updater.core.aws import client
from endpoint_updater.core.errors import InvalidInput, ModelConflict
from endpoint_updater.core.request import Request

APPROVED = "Approved"
NAME_LIMIT = 63


def model_name(package_arn: str) -> str:
    """`<group>-<version>-<hash>`: the same for the same package (a retried step finds its own model)."""
    group, version = package_arn.rsplit("/", 2)[-2:]
    digest = hashlib.sha256(package_arn.encode()).hexdigest()[:6]
    tail = f"-{version}-{digest}"
    return group[:NAME_LIMIT - len(tail)].rstrip("-") + tail


def with_model(request: Request) -> Request:
    """The request with the package's model as its variant's ModelName change."""
    if request.ModelPackage is None:
        return request
    change = {"VariantName": request.ModelPackage["VariantName"],
              "ModelName": model_name(request.ModelPackage["ModelPackageArn"])}
    others = [c for c in request.VariantChanges if c["VariantName"] != change["VariantName"]]
    merged = [{**c, "ModelName": change["ModelName"]} for c in request.VariantChanges
              if c["VariantName"] == change["VariantName"]] or [change]
    return dataclasses.replace(request, VariantChanges=others + merged)


def created_models(request: Request) -> frozenset[str]:
    """The models the workflow itself creates for this request (step 1c): they need not exist yet."""
    if request.ModelPackage is None:
        return frozenset()
    return frozenset({model_name(request.ModelPackage["ModelPackageArn"])})


def check(request: Request) -> None:
    """Refuse a package that is not approved. Nothing is changed."""
    if request.ModelPackage is None:
        return
    arn = request.ModelPackage["ModelPackageArn"]
    status = client("sagemaker").describe_model_package(ModelPackageName=arn).get("ModelApprovalStatus")
    if status != APPROVED:
        raise InvalidInput(f"ModelPackage.ModelPackageArn: {arn} is {status}; only {APPROVED} packages are deployed")


def check_variant(request: Request, config: dict[str, Any]) -> None:
    """Refuse a package meant for a variant the endpoint does not have (only production variants serve it)."""
    if request.ModelPackage is None:
        return
    names = [v["VariantName"] for v in config.get("ProductionVariants") or []]
    if request.ModelPackage["VariantName"] not in names:
        raise InvalidInput(f"ModelPackage.VariantName: {request.ModelPackage['VariantName']!r} is not one of the "
                           f"endpoint's production variants: {', '.join(names)}")
    # The package's model will run under the role of the model the variant serves now (create): refuse a role
    # outside the deployment's patterns here, before anything changes, rather than at CreateModel.
    current = next(v.get("ModelName") for v in config["ProductionVariants"]
                   if v["VariantName"] == request.ModelPackage["VariantName"])
    if current:
        role = client("sagemaker").describe_model(ModelName=current).get("ExecutionRoleArn", "")
        guardrails.check_role(f"the execution role of model {current}", role)


def create(package_arn: str, current_model: str) -> str:
    """Create the package's Model like `current_model`; a Model already made from this package is reused."""
    sagemaker = client("sagemaker")
    name = model_name(package_arn)
    existing = _described(name)
    if existing is not None:
        if (existing.get("PrimaryContainer") or {}).get("ModelPackageName") != package_arn:
            raise ModelConflict(f"model {name} exists and is not made from {package_arn}; delete or rename it")
        return name
    current = sagemaker.describe_model(ModelName=current_model)
    # The new model would run under this role: a variant pointed at a model with any role must not lend it
    # to a package's container. IAM's PassRole is limited to the same patterns.
    guardrails.check_role(f"the execution role of model {current_model}", current["ExecutionRoleArn"])
    params: dict[str, Any] = {"ModelName": name, "PrimaryContainer": {"ModelPackageName": package_arn},
                              "ExecutionRoleArn": current["ExecutionRoleArn"]}
    if current.get("VpcConfig"):
        params["VpcConfig"] = current["VpcConfig"]
    if current.get("EnableNetworkIsolation"):
        params["EnableNetworkIsolation"] = True
    sagemaker.create_model(**params)
    return name


def create_for_update(endpoint: str, execution_arn: str, package: dict[str, str],
                      current_config_name: str) -> dict[str, Any]:
    """Step 1c: the Model of `package` (ModelPackageArn, VariantName), made like the model its variant serves
    in the endpoint's current config."""
    config = client("sagemaker").describe_endpoint_config(EndpointConfigName=current_config_name)
    current = next(v["ModelName"] for v in config["ProductionVariants"] if v["VariantName"] == package["VariantName"])
    name = create(package["ModelPackageArn"], current)
    store.progress(endpoint, execution_arn, "ModelCreated")
    return {"ModelName": name, "ModelPackageArn": package["ModelPackageArn"], "BasedOn": current}


def _described(name: str) -> dict[str, Any] | None:
    from botocore.exceptions import ClientError

    try:
        return dict(client("sagemaker").describe_model(ModelName=name))
    except ClientError as error:
        if "Could not find model" in str(error):
            return None
        raise
