"""What each Lambda function may do, as data: one table keyed by the function's folder under lambdas/.

Each function has its own role holding exactly its rows of the table, plus write access to its own log
group (LOGGING_ACTIONS). tests/infrastructure checks the synthesized roles against this table.

Resources are CloudFormation `Fn::Sub` strings, so the table is plain data and the stack stays
environment-agnostic. Resource types per action follow the Service Authorization Reference ("Actions,
resources, and condition keys for ..." SageMaker, Application Auto Scaling, CloudWatch, IAM); "*" is used
only for the actions that support no resource type (RESOURCELESS_ACTIONS).

Some actions are not called by the handlers themselves but checked by AWS on their behalf:
- Deregistering a scalable target deletes its target-tracking policies, and deleting a target-tracking
  policy deletes the CloudWatch alarms it created: cloudwatch:DescribeAlarms and cloudwatch:DeleteAlarms
  (Application Auto Scaling User Guide, "Identity-based policy examples for Application Auto Scaling",
  permissions required for API actions on target resources).
- Registering a scalable target and putting scaling policies makes Application Auto Scaling call the
  target service and CloudWatch with the caller's permissions: sagemaker:DescribeEndpoint,
  sagemaker:UpdateEndpointWeightsAndCapacities, cloudwatch:PutMetricAlarm, cloudwatch:DescribeAlarms,
  cloudwatch:DeleteAlarms (same page), and on first use iam:CreateServiceLinkedRole for
  AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint ("Service-linked roles for Application Auto
  Scaling").
- SageMaker authorizes sagemaker:AddTags on the new config for the Tags given to CreateEndpointConfig
  (SageMaker Developer Guide, permissions for tagging resources on creation), and a config that names an
  ExecutionRoleArn needs iam:PassRole for that role, limited here to roles passed to SageMaker.
- UpdateEndpoint is authorized against both the endpoint and the endpoint config it deploys (the
  resource types the Service Authorization Reference lists, and what the CDK's own
  SageMakerUpdateEndpoint task grants).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True)
class Grant:
    """One IAM policy statement: Allow `actions` on `resources`, under `conditions` if any."""

    actions: tuple[str, ...]
    resources: tuple[str, ...]
    conditions: Mapping[str, Mapping[str, str]] = field(default_factory=lambda: MappingProxyType({}))


ANY_RESOURCE = "*"
ENDPOINT = "arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}:endpoint/*"
ENDPOINT_CONFIG = "arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}:endpoint-config/*"
SCALABLE_TARGET = "arn:${AWS::Partition}:application-autoscaling:${AWS::Region}:${AWS::AccountId}:scalable-target/*"
ALARM = "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:*"
ROLE = "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/*"
SAGEMAKER_SCALING_SERVICE = "sagemaker.application-autoscaling.amazonaws.com"
SAGEMAKER_SCALING_SERVICE_LINKED_ROLE = (
    "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/aws-service-role/"
    f"{SAGEMAKER_SCALING_SERVICE}/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint"
)

# Application Auto Scaling's Describe* actions have no resource type: they can only be granted on "*".
RESOURCELESS_ACTIONS = frozenset(
    {
        "application-autoscaling:DescribeScalableTargets",
        "application-autoscaling:DescribeScalingPolicies",
        "application-autoscaling:DescribeScheduledActions",
    }
)

# Each function writes to its own log group only (the group is created by the stack, so no CreateLogGroup).
LOGGING_ACTIONS = frozenset({"logs:CreateLogStream", "logs:PutLogEvents"})

_DESCRIBE_SCALING = Grant(
    actions=(
        "application-autoscaling:DescribeScalableTargets",
        "application-autoscaling:DescribeScalingPolicies",
        "application-autoscaling:DescribeScheduledActions",
    ),
    resources=(ANY_RESOURCE,),
)

PERMISSIONS: Mapping[str, tuple[Grant, ...]] = MappingProxyType(
    {
        "validate_and_snapshot": (
            Grant(actions=("sagemaker:DescribeEndpoint",), resources=(ENDPOINT,)),
            # ListTags: the plan shows the new config's tags, copied from the current config.
            Grant(actions=("sagemaker:DescribeEndpointConfig", "sagemaker:ListTags"), resources=(ENDPOINT_CONFIG,)),
            _DESCRIBE_SCALING,
            # The alarms behind step-scaling policies are part of the snapshot.
            Grant(actions=("cloudwatch:DescribeAlarms",), resources=(ALARM,)),
        ),
        "deregister_scaling": (
            Grant(actions=("application-autoscaling:DeregisterScalableTarget",), resources=(SCALABLE_TARGET,)),
            # Checked by AWS: deregistering deletes target-tracking policies and with them their alarms.
            Grant(actions=("cloudwatch:DeleteAlarms", "cloudwatch:DescribeAlarms"), resources=(ALARM,)),
        ),
        "raise_capacity": (
            Grant(
                actions=("sagemaker:DescribeEndpoint", "sagemaker:UpdateEndpointWeightsAndCapacities"),
                resources=(ENDPOINT,),
            ),
        ),
        "check_endpoint": (Grant(actions=("sagemaker:DescribeEndpoint",), resources=(ENDPOINT,)),),
        "create_endpoint_config": (
            Grant(actions=("sagemaker:DescribeEndpoint",), resources=(ENDPOINT,)),
            Grant(
                actions=(
                    "sagemaker:DescribeEndpointConfig",
                    "sagemaker:CreateEndpointConfig",
                    "sagemaker:ListTags",
                    # Checked by AWS when CreateEndpointConfig carries Tags.
                    "sagemaker:AddTags",
                ),
                resources=(ENDPOINT_CONFIG,),
            ),
            # A copied config may name an ExecutionRoleArn; it can only be handed to SageMaker.
            Grant(
                actions=("iam:PassRole",),
                resources=(ROLE,),
                conditions=MappingProxyType({"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}),
            ),
        ),
        "update_endpoint": (
            Grant(actions=("sagemaker:UpdateEndpoint",), resources=(ENDPOINT, ENDPOINT_CONFIG)),
            Grant(actions=("sagemaker:DescribeEndpoint",), resources=(ENDPOINT,)),
        ),
        "restore_scaling": (
            Grant(
                actions=(
                    "application-autoscaling:RegisterScalableTarget",
                    "application-autoscaling:PutScalingPolicy",
                    "application-autoscaling:PutScheduledAction",
                ),
                resources=(SCALABLE_TARGET,),
            ),
            _DESCRIBE_SCALING,
            # Called to re-point step-scaling alarms at the new policy ARNs, and checked by AWS when
            # target-tracking policies create their alarms.
            Grant(
                actions=("cloudwatch:PutMetricAlarm", "cloudwatch:DescribeAlarms", "cloudwatch:DeleteAlarms"),
                resources=(ALARM,),
            ),
            # Checked by AWS when registering the variant as a scalable target and when scaling it.
            Grant(
                actions=("sagemaker:DescribeEndpoint", "sagemaker:UpdateEndpointWeightsAndCapacities"),
                resources=(ENDPOINT,),
            ),
            # Checked by AWS on the first registration in an account that lacks the service-linked role.
            Grant(
                actions=("iam:CreateServiceLinkedRole",),
                resources=(SAGEMAKER_SCALING_SERVICE_LINKED_ROLE,),
                conditions=MappingProxyType({"StringLike": {"iam:AWSServiceName": SAGEMAKER_SCALING_SERVICE}}),
            ),
        ),
    }
)


def actions_for(folder: str) -> set[str]:
    """Every IAM action the table grants the function in lambdas/<folder>, logging excluded."""
    return {action for grant in PERMISSIONS[folder] for action in grant.actions}
