"""Building and reading emulated SageMaker endpoints that use Application Auto Scaling.

Used by the tests and the demo, inside ``moto.mock_aws`` with :mod:`offline.emulation` installed. Everything
goes through boto3, so the readers (:func:`scaling_state`, :func:`endpoint_state`) are an independent view of
what AWS reports; they import nothing from ``lambdas/``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import boto3

__all__ = [
    "DEFAULT_SCALING_TAGS",
    "DEFAULT_TAGS",
    "ScalingSpec",
    "VariantSpec",
    "attach_scaling",
    "create_endpoint",
    "create_fleet",
    "create_inference_component_endpoint",
    "endpoint_state",
    "scaling_state",
]

NAMESPACE = "sagemaker"
DIMENSION = "sagemaker:variant:DesiredInstanceCount"
DEFAULT_TAGS = {"project": "endpoint-updater", "owner": "ml-platform"}
# The scalable target's own tags (Application Auto Scaling tags the target, not the endpoint): what tag-based
# IAM conditions and cost allocation match on.
DEFAULT_SCALING_TAGS = {"cost-center": "ml-platform", "scaling-owner": "churn-team"}
SERVERLESS_CONFIG = {"MemorySizeInMB": 2048, "MaxConcurrency": 5}
_POLICY_ARN = re.compile(r"^arn:[^:]+:autoscaling:[^:]*:[^:]*:scalingPolicy:[^:]+:resource/(?P<rest>.+)$")


@dataclass(frozen=True)
class VariantSpec:
    """One production variant. ``serverless``: ServerlessConfig, no instance type or count."""

    name: str = "AllTraffic"
    model: str = "churn-v7"
    instance_type: str | None = "ml.m5.large"
    count: int = 2
    weight: float = 1.0
    serverless: bool = False


@dataclass(frozen=True)
class ScalingSpec:
    """What :func:`attach_scaling` puts on a variant."""

    min_capacity: int = 1
    max_capacity: int = 4
    target_tracking: bool = True
    step_scaling: bool = True
    scheduled_action: bool = True
    suspended: dict[str, bool] | None = None
    role_arn: str | None = None
    tags: dict[str, str] | None = None
    """The scalable target's tags; None: :data:`DEFAULT_SCALING_TAGS`, ``{}``: none."""


def _account(region: str) -> str:
    return str(boto3.client("sts", region_name=region).get_caller_identity()["Account"])


def _partition(region: str) -> str:
    return "aws-cn" if region.startswith("cn-") else "aws-us-gov" if region.startswith("us-gov-") else "aws"


def _production_variant(spec: VariantSpec) -> dict[str, Any]:
    variant: dict[str, Any] = {
        "VariantName": spec.name,
        "ModelName": spec.model,
        "InitialVariantWeight": spec.weight,
    }
    if spec.serverless:
        variant["ServerlessConfig"] = dict(SERVERLESS_CONFIG)
    else:
        variant["InstanceType"] = spec.instance_type
        variant["InitialInstanceCount"] = spec.count
    return variant


NEXT_VERSIONS = 3
_VERSIONED = re.compile(r"^(?P<stem>.*-v)(?P<version>[0-9]+)$")


def _models_for(names: Iterable[str]) -> list[str]:
    """The variants' models and, for a model named like ``churn-v7``, the next versions (churn-v8 to churn-v10)
    so that updates have models to deploy (CreateEndpointConfig refuses a model that does not exist)."""
    models: dict[str, None] = {}
    for name in names:
        models[name] = None
        match = _VERSIONED.match(name)
        if match:
            for step in range(1, NEXT_VERSIONS + 1):
                models[f"{match['stem']}{int(match['version']) + step}"] = None
    return list(models)


def create_endpoint(
    name: str = "churn-prod",
    variants: Sequence[VariantSpec] = (VariantSpec(),),
    *,
    tags: dict[str, str] | None = None,
    region: str = "us-east-1",
) -> str:
    """Create the models, an endpoint config (with DataCaptureConfig and tags) and an InService endpoint.

    Models: each variant's model and, for versioned names such as ``churn-v7``, the next three versions
    (``churn-v8``, ``churn-v9``, ``churn-v10``). Tags default to :data:`DEFAULT_TAGS`. Returns the endpoint
    config name (``<name>-config-1``).
    """
    sagemaker = boto3.client("sagemaker", region_name=region)
    account = _account(region)
    partition = _partition(region)
    role = f"arn:{partition}:iam::{account}:role/sagemaker-execution"
    existing = {m["ModelName"] for page in sagemaker.get_paginator("list_models").paginate() for m in page["Models"]}
    for model in _models_for(v.model for v in variants):
        if model in existing:
            continue
        sagemaker.create_model(
            ModelName=model,
            ExecutionRoleArn=role,
            PrimaryContainer={
                "Image": f"{account}.dkr.ecr.{region}.amazonaws.com/churn:{model}",
                "ModelDataUrl": f"s3://{name}-models/{model}/model.tar.gz",
            },
        )
    config_name = f"{name}-config-1"
    sagemaker.create_endpoint_config(
        EndpointConfigName=config_name,
        ProductionVariants=[_production_variant(v) for v in variants],
        DataCaptureConfig={
            "EnableCapture": True,
            "InitialSamplingPercentage": 20,
            "DestinationS3Uri": f"s3://{name}-capture/",
            "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        },
        Tags=[{"Key": k, "Value": v} for k, v in (DEFAULT_TAGS if tags is None else tags).items()],
    )
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=config_name)
    return config_name


def attach_scaling(
    endpoint: str, variant: str, spec: ScalingSpec = ScalingSpec(), *, region: str = "us-east-1"
) -> None:
    """Register the variant as a scalable target and attach a target tracking policy, a step scaling policy
    with its CloudWatch alarm (actions: the policy and an SNS topic) and a scheduled action, as ``spec`` says."""
    scaling = boto3.client("application-autoscaling", region_name=region)
    cloudwatch = boto3.client("cloudwatch", region_name=region)
    resource_id = f"endpoint/{endpoint}/variant/{variant}"
    target = {"ServiceNamespace": NAMESPACE, "ResourceId": resource_id, "ScalableDimension": DIMENSION}
    register: dict[str, Any] = {**target, "MinCapacity": spec.min_capacity, "MaxCapacity": spec.max_capacity}
    if spec.role_arn:
        register["RoleARN"] = spec.role_arn
    if spec.suspended is not None:
        register["SuspendedState"] = spec.suspended
    tags = DEFAULT_SCALING_TAGS if spec.tags is None else spec.tags
    if tags:
        register["Tags"] = dict(tags)
    scaling.register_scalable_target(**register)
    if spec.target_tracking:
        scaling.put_scaling_policy(
            **target,
            PolicyName=f"{variant}-invocations-target",
            PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration={
                "TargetValue": 70.0,
                "PredefinedMetricSpecification": {"PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"},
                "ScaleInCooldown": 300,
                "ScaleOutCooldown": 60,
            },
        )
    if spec.step_scaling:
        policy_arn = scaling.put_scaling_policy(
            **target,
            PolicyName=f"{variant}-burst-step",
            PolicyType="StepScaling",
            StepScalingPolicyConfiguration={
                "AdjustmentType": "ChangeInCapacity",
                "StepAdjustments": [
                    {"MetricIntervalLowerBound": 0.0, "MetricIntervalUpperBound": 500.0, "ScalingAdjustment": 1},
                    {"MetricIntervalLowerBound": 500.0, "ScalingAdjustment": 2},
                ],
                "Cooldown": 120,
                "MetricAggregationType": "Average",
            },
        )["PolicyARN"]
        account = _account(region)
        cloudwatch.put_metric_alarm(
            AlarmName=f"{endpoint}-{variant}-invocations-burst",
            AlarmDescription="Scale out on invocation bursts",
            Namespace="AWS/SageMaker",
            MetricName="Invocations",
            Dimensions=[{"Name": "EndpointName", "Value": endpoint}, {"Name": "VariantName", "Value": variant}],
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=2,
            Threshold=1000.0,
            ComparisonOperator="GreaterThanThreshold",
            AlarmActions=[policy_arn, f"arn:{_partition(region)}:sns:{region}:{account}:{endpoint}-alerts"],
        )
    if spec.scheduled_action:
        scaling.put_scheduled_action(
            **target,
            ScheduledActionName=f"{variant}-business-hours",
            Schedule="cron(0 8 ? * MON-FRI *)",
            Timezone="Europe/Paris",
            StartTime=dt.datetime(2030, 1, 1, tzinfo=dt.UTC),
            EndTime=dt.datetime(2031, 1, 1, tzinfo=dt.UTC),
            ScalableTargetAction={"MinCapacity": spec.min_capacity, "MaxCapacity": spec.max_capacity},
        )


def _iso(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    return value


def scaling_state(endpoint: str, *, region: str = "us-east-1") -> dict[str, Any]:
    """The endpoint's scaling, normalised for equality (identifiers and timestamps AWS assigns are dropped).

    ``targets``: ResourceId, ScalableDimension, MinCapacity, MaxCapacity, RoleARN, SuspendedState, Tags.
    ``policies``: as DescribeScalingPolicies without PolicyARN, Alarms, CreationTime.
    ``scheduled_actions``: as DescribeScheduledActions without ScheduledActionARN, CreationTime; ISO times.
    ``alarms``: the alarms (other than those target tracking creates) whose actions invoke a scaling policy
    of the endpoint, with each policy ARN written ``policy:<PolicyName>``, actions sorted.
    So the state before a deregistration equals the state after a correct restore.
    """
    scaling = boto3.client("application-autoscaling", region_name=region)
    cloudwatch = boto3.client("cloudwatch", region_name=region)
    prefix = f"endpoint/{endpoint}/variant/"
    # Read by the endpoint's own resource ids, as AWS answers for any number of targets in the account: moto's
    # DescribeScalableTargets pagination repeats its token past 100 targets (a fleet's).
    described = boto3.client("sagemaker", region_name=region).describe_endpoint(EndpointName=endpoint)
    ids = sorted({prefix + v["VariantName"] for key in ("ProductionVariants", "ShadowProductionVariants")
                  for v in described.get(key) or []})

    targets = []
    pages = scaling.get_paginator("describe_scalable_targets").paginate(ServiceNamespace=NAMESPACE, ResourceIds=ids)
    for page in pages if ids else []:
        for t in page["ScalableTargets"]:
            if t["ResourceId"].startswith(prefix):
                targets.append({**{k: t.get(k) for k in (
                    "ResourceId", "ScalableDimension", "MinCapacity", "MaxCapacity", "RoleARN", "SuspendedState")},
                    "Tags": scaling.list_tags_for_resource(ResourceARN=t["ScalableTargetARN"])["Tags"]})

    policies = []
    for resource in ids:
        for page in scaling.get_paginator("describe_scaling_policies").paginate(
                ServiceNamespace=NAMESPACE, ResourceId=resource):
            for p in page["ScalingPolicies"]:
                if p["ResourceId"] == resource:
                    policies.append({k: v for k, v in p.items() if k not in ("PolicyARN", "Alarms", "CreationTime")})

    actions = []
    for resource in ids:
        for page in scaling.get_paginator("describe_scheduled_actions").paginate(
                ServiceNamespace=NAMESPACE, ResourceId=resource):
            for a in page["ScheduledActions"]:
                if a["ResourceId"] == resource:
                    actions.append({k: _iso(v) for k, v in a.items()
                                    if k not in ("ScheduledActionARN", "CreationTime")})

    def normalise(action: str) -> tuple[str, bool]:
        match = _POLICY_ARN.match(action)
        if not match or not match["rest"].startswith(f"{NAMESPACE}/{prefix}"):
            return action, False
        return "policy:" + match["rest"].split(":policyName/", 1)[-1], True

    alarms = []
    for page in cloudwatch.get_paginator("describe_alarms").paginate(AlarmTypes=["MetricAlarm"]):
        for alarm in page["MetricAlarms"]:
            if alarm["AlarmName"].startswith("TargetTracking-"):
                continue
            lists = {key: [normalise(a) for a in alarm.get(key, [])]
                     for key in ("AlarmActions", "OKActions", "InsufficientDataActions")}
            if not any(ours for entries in lists.values() for _, ours in entries):
                continue
            entry: dict[str, Any] = {key: sorted(a for a, _ in entries) for key, entries in lists.items()}
            entry.update({k: alarm.get(k) for k in (
                "AlarmName", "Namespace", "MetricName", "Statistic", "Period", "EvaluationPeriods", "Threshold",
                "ComparisonOperator")})
            entry["Dimensions"] = sorted((d["Name"], d["Value"]) for d in alarm.get("Dimensions", []))
            alarms.append(entry)

    return {
        "targets": sorted(targets, key=lambda t: (t["ResourceId"], t["ScalableDimension"])),
        "policies": sorted(policies, key=lambda p: (p["ResourceId"], p["ScalableDimension"], p["PolicyName"])),
        "scheduled_actions": sorted(actions, key=lambda a: (a["ResourceId"], a["ScheduledActionName"])),
        "alarms": sorted(alarms, key=lambda a: a["AlarmName"]),
    }


IC_DIMENSION = "sagemaker:inference-component:DesiredCopyCount"


def create_inference_component_endpoint(
    name: str = "llm-prod",
    components: Sequence[str] = ("llm-prod-chat",),
    *,
    variant: str = "AllTraffic",
    instance_type: str = "ml.g4dn.xlarge",
    min_instances: int = 0,
    max_instances: int = 4,
    scale_to_zero: bool = True,
    region: str = "us-east-1",
) -> str:
    """An endpoint that hosts inference components, as SageMaker builds one ("Deploy models for real-time
    inference" and "Scale an endpoint to zero instances", SageMaker Developer Guide): a config whose variant
    names no model and has ManagedInstanceScaling (MinInstanceCount ``min_instances``), an ExecutionRoleArn on
    the config, one inference component per name in ``components`` (model ``churn-v7``), each registered with
    Application Auto Scaling as ``inference-component/<name>`` on DesiredCopyCount (min 0) with a target
    tracking policy. With ``scale_to_zero`` the variant is then scaled in to 0 instances
    (DesiredInstanceCount 0). Returns the endpoint config name."""
    sagemaker = boto3.client("sagemaker", region_name=region)
    scaling = boto3.client("application-autoscaling", region_name=region)
    account = _account(region)
    role = f"arn:{_partition(region)}:iam::{account}:role/sagemaker-execution"
    existing = {m["ModelName"] for page in sagemaker.get_paginator("list_models").paginate() for m in page["Models"]}
    if "churn-v7" not in existing:
        sagemaker.create_model(ModelName="churn-v7", ExecutionRoleArn=role, PrimaryContainer={
            "Image": f"{account}.dkr.ecr.{region}.amazonaws.com/churn:churn-v7",
            "ModelDataUrl": f"s3://{name}-models/churn-v7/model.tar.gz"})
    config_name = f"{name}-config-1"
    sagemaker.create_endpoint_config(
        EndpointConfigName=config_name,
        ExecutionRoleArn=role,
        ProductionVariants=[{
            "VariantName": variant, "InstanceType": instance_type, "InitialInstanceCount": 1,
            "ManagedInstanceScaling": {"Status": "ENABLED", "MinInstanceCount": min_instances,
                                       "MaxInstanceCount": max_instances},
            "RoutingConfig": {"RoutingStrategy": "LEAST_OUTSTANDING_REQUESTS"},
        }],
    )
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=config_name)
    for component in components:
        sagemaker.create_inference_component(
            InferenceComponentName=component, EndpointName=name, VariantName=variant,
            Specification={"ModelName": "churn-v7", "ComputeResourceRequirements": {
                "MinMemoryRequiredInMb": 1024, "NumberOfCpuCoresRequired": 1}},
            RuntimeConfig={"CopyCount": 1})
        target = {"ServiceNamespace": NAMESPACE, "ResourceId": f"inference-component/{component}",
                  "ScalableDimension": IC_DIMENSION}
        scaling.register_scalable_target(**target, MinCapacity=0, MaxCapacity=max_instances)
        scaling.put_scaling_policy(
            **target, PolicyName=f"{component}-copies-target", PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration={
                "TargetValue": 5.0,
                "CustomizedMetricSpecification": {
                    "MetricName": "ConcurrentRequestsPerCopy", "Namespace": "AWS/SageMaker",
                    "Dimensions": [{"Name": "InferenceComponentName", "Value": component}], "Statistic": "Average"},
            })
    if scale_to_zero:
        sagemaker.update_endpoint_weights_and_capacities(
            EndpointName=name, DesiredWeightsAndCapacities=[{"VariantName": variant, "DesiredInstanceCount": 0}])
    return config_name


def inference_component_scaling(components: Sequence[str], *, region: str = "us-east-1") -> dict[str, Any]:
    """The scalable targets and policies of ``inference-component/<name>`` for each name, for equality."""
    scaling = boto3.client("application-autoscaling", region_name=region)
    ids = [f"inference-component/{c}" for c in components]
    targets = scaling.describe_scalable_targets(ServiceNamespace=NAMESPACE, ResourceIds=ids)["ScalableTargets"]
    policies = [p for resource in ids for p in scaling.describe_scaling_policies(
        ServiceNamespace=NAMESPACE, ResourceId=resource)["ScalingPolicies"]]
    return {
        "targets": sorted(({k: t.get(k) for k in ("ResourceId", "ScalableDimension", "MinCapacity", "MaxCapacity")}
                           for t in targets), key=lambda t: t["ResourceId"]),
        "policies": sorted((p["PolicyName"], p["ResourceId"]) for p in policies),
    }


def endpoint_state(endpoint: str, *, region: str = "us-east-1") -> dict[str, Any]:
    """EndpointStatus, EndpointConfigName, FailureReason, PendingEndpointConfigName and, per variant name,
    its weights and instance counts (serverless variants: their Desired/Current ServerlessConfig)."""
    described = boto3.client("sagemaker", region_name=region).describe_endpoint(EndpointName=endpoint)
    variants = {}
    for v in described.get("ProductionVariants", []):
        variants[v["VariantName"]] = {k: v[k] for k in (
            "CurrentInstanceCount", "DesiredInstanceCount", "CurrentWeight", "DesiredWeight",
            "CurrentServerlessConfig", "DesiredServerlessConfig") if k in v}
    return {
        "EndpointStatus": described["EndpointStatus"],
        "EndpointConfigName": described["EndpointConfigName"],
        "FailureReason": described.get("FailureReason"),
        "PendingEndpointConfigName": described.get("PendingDeploymentSummary", {}).get("EndpointConfigName"),
        "Variants": variants,
    }


def approved_model_package(group: str, region: str = "us-east-1", approve: bool = True) -> str:
    """A versioned model package in `group` (created if missing), Approved unless `approve` is False.

    Returns its ARN. Approving it is what makes SageMaker send "SageMaker Model Package State Change" with
    ModelApprovalStatus "Approved" (see :func:`package_state_change_event`).
    """
    sagemaker = boto3.client("sagemaker", region_name=region)
    groups = sagemaker.list_model_package_groups()["ModelPackageGroupSummaryList"]
    if group not in {g["ModelPackageGroupName"] for g in groups}:
        sagemaker.create_model_package_group(ModelPackageGroupName=group)
    account = _account(region)
    arn = sagemaker.create_model_package(
        ModelPackageGroupName=group, ModelApprovalStatus="PendingManualApproval",
        InferenceSpecification={
            "Containers": [{"Image": f"{account}.dkr.ecr.{region}.amazonaws.com/churn:packaged",
                            "ModelDataUrl": f"s3://{group}-artifacts/model.tar.gz"}],
            "SupportedContentTypes": ["text/csv"], "SupportedResponseMIMETypes": ["text/csv"],
        })["ModelPackageArn"]
    if approve:
        sagemaker.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
    return str(arn)


def package_state_change_event(package_arn: str, event_id: str = "b9f1c2d3-0000-4000-8000-000000000001",
                               region: str = "us-east-1") -> dict[str, Any]:
    """The EventBridge event SageMaker sends when a model package's approval status changes (source
    aws.sagemaker, detail-type "SageMaker Model Package State Change"; SageMaker Developer Guide, "Events
    that Amazon SageMaker sends to Amazon EventBridge")."""
    described = boto3.client("sagemaker", region_name=region).describe_model_package(ModelPackageName=package_arn)
    return {
        "version": "0", "id": event_id, "detail-type": "SageMaker Model Package State Change",
        "source": "aws.sagemaker", "account": _account(region), "region": region,
        "time": "2026-11-27T02:00:00Z", "resources": [package_arn],
        "detail": {
            "ModelPackageGroupName": described["ModelPackageGroupName"],
            "ModelPackageVersion": described["ModelPackageVersion"],
            "ModelPackageArn": package_arn,
            "ModelApprovalStatus": described["ModelApprovalStatus"],
            "CreationTime": 1795740000000,
        },
    }


def create_fleet(
    names: Sequence[str],
    variants: Sequence[VariantSpec] = (VariantSpec(),),
    *,
    scaled: Sequence[str] | None = None,
    spec: ScalingSpec = ScalingSpec(),
    endpoint_tags: dict[str, str] | None = None,
    region: str = "us-east-1",
) -> dict[str, dict[str, Any]]:
    """Many endpoints alike, as :func:`create_endpoint` and :func:`attach_scaling` make one: each with ``variants``,
    the variants named in ``scaled`` (default: all instance-based ones) autoscaled with ``spec``, and the endpoint
    itself tagged with ``endpoint_tags`` (what a rollout's Targets.Tags matches). Returns each endpoint's
    :func:`scaling_state`, as it is before any update."""
    sagemaker = boto3.client("sagemaker", region_name=region)
    autoscaled = [v.name for v in variants if not v.serverless] if scaled is None else list(scaled)
    before = {}
    for name in names:
        create_endpoint(name, variants, region=region)
        if endpoint_tags:
            arn = sagemaker.describe_endpoint(EndpointName=name)["EndpointArn"]
            sagemaker.add_tags(ResourceArn=arn, Tags=[{"Key": k, "Value": v} for k, v in endpoint_tags.items()])
        for variant in autoscaled:
            attach_scaling(name, variant, spec, region=region)
        before[name] = scaling_state(name, region=region)
    return before
