"""What each Lambda function may do, as data: one table keyed by the function's folder under lambdas/.

Each function has its own role holding exactly its rows of the table, plus write access to its own log
group and X-Ray tracing (EVERY_FUNCTION). tests/infrastructure checks the synthesized roles against this
table and against the calls the code makes.

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
BEHIND_THE_CALL lists them as data, with their reasons; the tests derive each role's expected actions from
the calls the code makes plus these.

Names are scoped by the `endpointNamePattern` setting: the table's resources carry ENDPOINT_NAME, which
`render` replaces with the pattern. What cannot be scoped by name, and why:
- a scalable target's ARN ends in an id that Application Auto Scaling assigns, not the resource id; the
  writes are instead limited by the service's condition keys to SageMaker variants
  (application-autoscaling:service-namespace, application-autoscaling:scalable-dimension: "How Application
  Auto Scaling works with IAM", condition keys);
- the endpoint's current config may be named anything, so reading configs is not limited by name; creating
  them is (the workflow names its configs `<endpoint>-<time>-<hash>`, endpoint_updater/core/endpoint_config.py);
- step-scaling alarms are named by their owners and target-tracking alarms by Application Auto Scaling,
  which checks the CloudWatch actions on the caller: the identity-based policy examples grant them on every
  alarm, and so does this table.

docs/settings-and-permissions.md shows every role (this table plus added_by_builder) and every wildcard with
its reason, generated here: `python -m infra.permissions --write FILE` (`make docs-tables`) puts them between
the page's markers, `--check FILE` exits 1 when the page is out of date.
"""

from __future__ import annotations

import argparse
import itertools
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType

from endpoint_updater.core.guardrails import Guardrails
from statemachine import EVENT_FUNCTIONS
from statemachine.diagram import write_or_check

ConditionValue = str | tuple[str, ...]


@dataclass(frozen=True)
class Grant:
    """One IAM policy statement: Allow `actions` on `resources`, under `conditions` if any."""

    actions: tuple[str, ...]
    resources: tuple[str, ...]
    conditions: Mapping[str, Mapping[str, ConditionValue]] = field(default_factory=lambda: MappingProxyType({}))


ANY_RESOURCE = "*"
# Filled in by the stack (Fn::Sub variables): resources it creates itself.
UPDATES_TABLE = "${UpdatesTableArn}"
EXECUTIONS = "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:${StateMachineName}:*"
STATE_MACHINE = "${StateMachineArn}"
NOTIFICATION_TOPIC = "${NotificationTopicArn}"
NOTIFICATION_KEY = "${NotificationKeyArn}"
# Replaced by the endpoint name pattern when the table is rendered for a stack.
ENDPOINT_NAME = "<endpointNamePattern>"
# Replaced by the change guardrails (endpoint_updater/core/guardrails.py) when the table is rendered.
MODEL_NAME = "<modelNamePattern>"
EXECUTION_ROLE = "<executionRolePatterns>"
INSTANCE_TYPES = "<allowedInstanceTypes>"
_SAGEMAKER = "arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}"
ENDPOINT = f"{_SAGEMAKER}:endpoint/{ENDPOINT_NAME}"
ENDPOINT_CONFIG = f"{_SAGEMAKER}:endpoint-config/*"
# Configs the workflow creates: `<endpoint>-<UTC start time>-<6 hex>` (new_config_name).
NEW_ENDPOINT_CONFIG = f"{_SAGEMAKER}:endpoint-config/{ENDPOINT_NAME}-*"
MODEL = f"{_SAGEMAKER}:model/*"
# Models the workflow creates from a model package: their names must match the model name pattern too.
NEW_MODEL = f"{_SAGEMAKER}:model/{MODEL_NAME}"
MODEL_PACKAGE = f"{_SAGEMAKER}:model-package/*"
SCALABLE_TARGET = "arn:${AWS::Partition}:application-autoscaling:${AWS::Region}:${AWS::AccountId}:scalable-target/*"
ALARM = "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:*"
# The alarms a target-tracking policy of one of the endpoints' variants owns: Application Auto Scaling names
# them TargetTracking-<resource id>-AlarmHigh-<id> (and -AlarmLow-), the resource id being
# endpoint/<endpoint>/variant/<variant>.
TARGET_TRACKING_ALARM = ("arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:"
                         f"TargetTracking-endpoint/{ENDPOINT_NAME}/variant/*")
ROLE = f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/{EXECUTION_ROLE}"
SAGEMAKER_SCALING_SERVICE = "sagemaker.application-autoscaling.amazonaws.com"
SAGEMAKER_SCALING_SERVICE_LINKED_ROLE = (
    "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/aws-service-role/"
    f"{SAGEMAKER_SCALING_SERVICE}/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint"
)
# Only SageMaker variants (instances, or serverless provisioned concurrency) may be registered, scaled or
# deregistered: the dimensions the workflow captures (endpoint_updater/core/scaling.py).
SAGEMAKER_VARIANT_TARGETS: Mapping[str, Mapping[str, ConditionValue]] = MappingProxyType(
    {
        "StringEquals": MappingProxyType(
            {
                "application-autoscaling:service-namespace": "sagemaker",
                "application-autoscaling:scalable-dimension": (
                    "sagemaker:variant:DesiredInstanceCount",
                    "sagemaker:variant:DesiredProvisionedConcurrency",
                ),
            }
        )
    }
)

# Why each wildcard resource cannot be narrower; the stack states these as its cdk-nag acknowledgements.
WILDCARD_REASONS: Mapping[str, str] = MappingProxyType(
    {
        ENDPOINT: "Endpoints whose name matches the endpointNamePattern setting: the endpoint is chosen by each "
        "execution's input.",
        ENDPOINT_CONFIG: "Reads the endpoint's current config (and its tags), whose name is not chosen by this "
        "workflow and is unknown at deploy time.",
        NEW_ENDPOINT_CONFIG: "Configs the workflow creates, named <endpoint>-<start time>-<hash> per execution, "
        "for endpoints matching the endpointNamePattern setting.",
        SCALABLE_TARGET: "Scalable-target ARNs end in an id assigned by Application Auto Scaling and no condition key "
        "names the resource id; registering, deregistering and the policy and scheduled-action writes are limited "
        "by condition keys to SageMaker variant dimensions. The tagging actions (ListTagsForResource, TagResource) "
        "take no such key, so TagResource can reach any scalable target of the account; the code tags only the "
        "targets of the update's own endpoint, checked before any write (endpoint_updater/core/snapshot_check.py).",
        ALARM: "Step-scaling alarms are named by their owners, so re-pointing them (PutMetricAlarm) and reading "
        "them cannot be narrowed by name; the restore writes only alarms the snapshot captured for the endpoint, "
        "whose live content beyond the endpoint's scaling actions is unchanged (endpoint_updater/core/"
        "snapshot_check.py).",
        TARGET_TRACKING_ALARM: "Alarms Application Auto Scaling creates for the target-tracking policies of "
        "endpoints matching the endpointNamePattern setting (TargetTracking-endpoint/<endpoint>/variant/<variant>-"
        "AlarmHigh-<id>), whose ids it assigns.",
        ROLE: "iam:PassRole for execution roles matching the executionRolePatterns setting, only to SageMaker "
        "(iam:PassedToService condition): the role the copied config or the variant's current model names.",
        NEW_MODEL: "Models created from approved packages, named <group>-<version>-<hash>, matching the "
        "modelNamePattern setting.",
        ANY_RESOURCE: "Application Auto Scaling Describe* actions and SageMaker ListInferenceComponents and "
        "ListEndpoints support no resource type (Service Authorization Reference).",
        EXECUTIONS: "Executions of this stack's state machine only; each execution's name is chosen when it starts.",
        MODEL: "Reads the variant's current model, which may be named anything (DescribeModel only).",
        MODEL_PACKAGE: "The approved package is chosen by each execution's input or approval event.",
    }
)

# Application Auto Scaling's Describe* actions and SageMaker's List* actions have no resource type: they can
# only be granted on "*".
RESOURCELESS_ACTIONS = frozenset(
    {
        "application-autoscaling:DescribeScalableTargets",
        "application-autoscaling:DescribeScalingPolicies",
        "application-autoscaling:DescribeScheduledActions",
        "sagemaker:ListInferenceComponents",
        "sagemaker:ListEndpoints",
    }
)

# Each function writes to its own log group only (the group is created by the stack, so no CreateLogGroup).
LOGGING_ACTIONS = frozenset({"logs:CreateLogStream", "logs:PutLogEvents"})
# Active tracing: the Lambda service sends the function's segments with the function's role. These actions
# support no resource type (Service Authorization Reference, AWS X-Ray).
TRACING_ACTIONS = frozenset({"xray:PutTraceSegments", "xray:PutTelemetryRecords"})

# Every function's role holds these besides what its code calls, for these reasons.
EVERY_FUNCTION: Mapping[str, str] = MappingProxyType(
    {
        **{action: "the function writes its logs to its own log group" for action in LOGGING_ACTIONS},
        **{action: "active X-Ray tracing sends the function's trace segments" for action in TRACING_ACTIONS},
    }
)

# The functions EventBridge invokes run asynchronously: an invocation that still fails after Lambda's retries is
# sent to the on-failure destination (the stack's UndeliveredEvents queue) with the function's own role (Lambda
# Developer Guide, "Retaining records of asynchronous invocations": the execution role needs sqs:SendMessage on
# an SQS destination). Granted on that queue only, to those functions only.
ON_FAILURE_ACTIONS = frozenset({"sqs:SendMessage"})
ASYNC_FUNCTION: Mapping[str, str] = MappingProxyType(
    {action: "Lambda sends the record of a failed asynchronous invocation to the on-failure destination queue"
     for action in ON_FAILURE_ACTIONS}
)

_SCALING_CHECKS = "Application Auto Scaling checks it on the caller (Identity-based policy examples for Application " \
    "Auto Scaling, permissions required for API actions on target resources)"

# Actions AWS checks on the caller's role behind an action the code calls: called action -> {action: reason}.
BEHIND_THE_CALL: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "application-autoscaling:RegisterScalableTarget": MappingProxyType(
            {
                "sagemaker:DescribeEndpoint": f"registering a variant reads its endpoint: {_SCALING_CHECKS}",
                "sagemaker:UpdateEndpointWeightsAndCapacities": f"scaling a variant sets its capacity: "
                f"{_SCALING_CHECKS}",
                "iam:CreateServiceLinkedRole": "the first registration in an account creates "
                "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint (Service-linked roles for "
                "Application Auto Scaling)",
                # The safer reading: the docs say Tags tag the target on creation, not which action authorizes it.
                "application-autoscaling:TagResource": "registering with Tags tags the new target "
                "(RegisterScalableTarget API reference, Tags; Tagging support for Application Auto Scaling)",
            }
        ),
        "application-autoscaling:PutScalingPolicy": MappingProxyType(
            {
                action: f"target-tracking policies create and replace their CloudWatch alarms: {_SCALING_CHECKS}"
                for action in ("cloudwatch:PutMetricAlarm", "cloudwatch:DescribeAlarms", "cloudwatch:DeleteAlarms")
            }
        ),
        "application-autoscaling:DeregisterScalableTarget": MappingProxyType(
            {
                action: f"deregistering deletes target-tracking policies and with them their alarms: "
                f"{_SCALING_CHECKS}"
                for action in ("cloudwatch:DescribeAlarms", "cloudwatch:DeleteAlarms")
            }
        ),
        "sns:Publish": MappingProxyType(
            {
                action: "publishing to a topic encrypted with a customer managed key uses the key on the "
                "publisher's behalf (Amazon SNS Developer Guide, encryption at rest, key management)"
                for action in ("kms:GenerateDataKey", "kms:Decrypt")
            }
        ),
        "sagemaker:CreateModel": MappingProxyType(
            {
                "iam:PassRole": "CreateModel passes the ExecutionRoleArn to SageMaker (SageMaker Developer Guide, "
                "CreateModel API permissions)",
            }
        ),
        "sagemaker:CreateEndpointConfig": MappingProxyType(
            {
                "sagemaker:AddTags": "CreateEndpointConfig with Tags is authorized for sagemaker:AddTags too "
                "(SageMaker Developer Guide, permissions to tag resources on creation)",
                "iam:PassRole": "a config that names an ExecutionRoleArn passes that role to SageMaker",
            }
        ),
    }
)

_DESCRIBE_SCALING = Grant(
    actions=(
        "application-autoscaling:DescribeScalableTargets",
        "application-autoscaling:DescribeScalingPolicies",
        "application-autoscaling:DescribeScheduledActions",
    ),
    resources=(ANY_RESOURCE,),
)
# A target's tags are part of the snapshot. The tagging actions take no service-namespace or
# scalable-dimension condition key (only the aws: tag keys), so they are limited to scalable targets only.
_READ_TARGET_TAGS = Grant(actions=("application-autoscaling:ListTagsForResource",), resources=(SCALABLE_TARGET,))

# The updates table: reading the lock and the update record, and conditional writes.
_READ_RECORDS = Grant(actions=("dynamodb:GetItem",), resources=(UPDATES_TABLE,))
_WRITE_RECORDS = Grant(actions=("dynamodb:UpdateItem",), resources=(UPDATES_TABLE,))
# TransactWriteItems has no IAM action of its own: DynamoDB authorizes each of its items with the action of the
# item's kind (DynamoDB Developer Guide, "Using IAM with DynamoDB transactions": Put, Update and Delete as
# PutItem, UpdateItem and DeleteItem, ConditionCheck as dynamodb:ConditionCheckItem).
TRANSACTION = "dynamodb:TransactWriteItems"
TRANSACTION_ITEM_ACTIONS: Mapping[str, str] = MappingProxyType({
    "ConditionCheck": "dynamodb:ConditionCheckItem",
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
})


def authorized_as(action: str, transaction_items: Iterable[str] = ()) -> set[str]:
    """The IAM actions a call is authorized as: its own, or for a transaction those of its items' kinds."""
    if action != TRANSACTION:
        return {action}
    unknown = sorted(set(transaction_items) - set(TRANSACTION_ITEM_ACTIONS))
    if unknown or not transaction_items:
        raise ValueError(f"{TRANSACTION} with items {sorted(transaction_items)}: each item is one of "
                         f"{', '.join(TRANSACTION_ITEM_ACTIONS)}")
    return {TRANSACTION_ITEM_ACTIONS[item] for item in transaction_items}

# The change guardrails that SageMaker's condition keys on CreateEndpointConfig can state (Service
# Authorization Reference, Amazon SageMaker: sagemaker:InstanceTypes, "the list of all instance types
# associated with the resource in the request", ArrayOfString; sagemaker:ModelArn, ARN). Both use
# ForAllValues, which holds for one value or many, so the reading of ModelArn as one value per model of the
# config is covered as well as one value per request. No Null check: a config of serverless variants only has
# no instance type at all, and validation (endpoint_updater/core/guardrails.py) checks every variant anyway.
# The model ARN names the caller's own account and region (ProductionVariant.ModelName is a name), so those
# parts of the pattern are wildcards.
CHANGE_GUARDRAILS: Mapping[str, Mapping[str, ConditionValue]] = MappingProxyType({
    "ForAllValues:StringLike": MappingProxyType({"sagemaker:InstanceTypes": INSTANCE_TYPES}),
    "ForAllValues:ArnLike": MappingProxyType({"sagemaker:ModelArn": f"arn:*:sagemaker:*:*:model/{MODEL_NAME}"}),
})

_PASS_ROLE_TO_SAGEMAKER = Grant(
    actions=("iam:PassRole",),
    resources=(ROLE,),
    conditions=MappingProxyType({"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}),
)

_RESTORE = (
    Grant(
        actions=(
            "application-autoscaling:RegisterScalableTarget",
            "application-autoscaling:PutScalingPolicy",
            "application-autoscaling:PutScheduledAction",
        ),
        resources=(SCALABLE_TARGET,),
        conditions=SAGEMAKER_VARIANT_TARGETS,
    ),
    _DESCRIBE_SCALING,
    # Reading the live tags, and putting back the captured ones on a target that still exists (TagResource;
    # also checked when RegisterScalableTarget creates a target with Tags).
    Grant(
        actions=("application-autoscaling:ListTagsForResource", "application-autoscaling:TagResource"),
        resources=(SCALABLE_TARGET,),
    ),
    # Called to re-point step-scaling alarms at the new policy ARNs, and checked by AWS when
    # target-tracking policies create their alarms.
    Grant(actions=("cloudwatch:DescribeAlarms", "cloudwatch:PutMetricAlarm"), resources=(ALARM,)),
    # Checked by AWS only, when a target-tracking policy replaces its own alarms.
    Grant(actions=("cloudwatch:DeleteAlarms",), resources=(TARGET_TRACKING_ALARM,)),
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
    _READ_RECORDS,
    _WRITE_RECORDS,
)

# Event-driven completion (endpoint_updater/core/completion.py): the await function stores the task token on
# the update record, then looks once; the resume function, on an endpoint event, reads the lock and the holder's
# record, confirms with DescribeEndpoint, claims the token and hands the check's result to Step Functions.
# SendTaskSuccess and SendTaskFailure: the Service Authorization Reference's table names no resource type for them,
# yet Step Functions authorizes a callback against the state machine whose task issued the token (its
# AccessDeniedException names "on resource: arn:...:stateMachine:<name>", and the CDK's grantTaskResponse and the
# SAM StepFunctionsCallbackPolicy template grant on the state machine). Of the two readings this is the narrower
# grant, and its failure mode is safe: a refused callback raises (the function's alarm, the UndeliveredEvents
# queue) and the wait's timeout still ends in one DescribeEndpoint poll, the polling policy of `Completion:
# polling`.
_COMPLETE_WAIT = (
    Grant(actions=("sagemaker:DescribeEndpoint",), resources=(ENDPOINT,)),
    Grant(actions=("states:SendTaskSuccess", "states:SendTaskFailure"), resources=(STATE_MACHINE,)),
)

# What the first step reads of an endpoint and its scaling, and a rollout's preflight with it (it runs the same
# validation without locking anything).
_READ_ENDPOINT_AND_SCALING: tuple[Grant, ...] = (
    Grant(actions=("sagemaker:DescribeEndpoint",), resources=(ENDPOINT,)),
    # ListTags: the plan shows the new config's tags, copied from the current config.
    Grant(actions=("sagemaker:DescribeEndpointConfig", "sagemaker:ListTags"), resources=(ENDPOINT_CONFIG,)),
    _DESCRIBE_SCALING,
    _READ_TARGET_TAGS,
    # Refusing an endpoint that hosts inference components.
    Grant(actions=("sagemaker:ListInferenceComponents",), resources=(ANY_RESOURCE,)),
    # The alarms behind step-scaling policies are part of the snapshot.
    Grant(actions=("cloudwatch:DescribeAlarms",), resources=(ALARM,)),
)
# Whether an update execution runs, or how it ended.
_DESCRIBE_UPDATES = Grant(actions=("states:DescribeExecution",), resources=(EXECUTIONS,))

PERMISSIONS: Mapping[str, tuple[Grant, ...]] = MappingProxyType(
    {
        "validate_and_snapshot": (
            *_READ_ENDPOINT_AND_SCALING,
            # An approved model package to deploy: is it approved?
            Grant(actions=("sagemaker:DescribeModelPackage",), resources=(MODEL_PACKAGE,)),
            # Each model a variant change names exists, before anything changes.
            Grant(actions=("sagemaker:DescribeModel",), resources=(MODEL,)),
            # The lock and the snapshot, in one transaction; whether a lock's holder still runs.
            Grant(actions=("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"), resources=(UPDATES_TABLE,)),
            _DESCRIBE_UPDATES,
        ),
        "deregister_scaling": (
            Grant(
                actions=("application-autoscaling:DeregisterScalableTarget",),
                resources=(SCALABLE_TARGET,),
                conditions=SAGEMAKER_VARIANT_TARGETS,
            ),
            # Checked by AWS: deregistering deletes target-tracking policies and with them their alarms.
            Grant(actions=("cloudwatch:DescribeAlarms",), resources=(ALARM,)),
            Grant(actions=("cloudwatch:DeleteAlarms",), resources=(TARGET_TRACKING_ALARM,)),
            _READ_RECORDS,
            _WRITE_RECORDS,
        ),
        "raise_capacity": (
            Grant(
                actions=("sagemaker:DescribeEndpoint", "sagemaker:UpdateEndpointWeightsAndCapacities"),
                resources=(ENDPOINT,),
            ),
            _READ_RECORDS,
            _WRITE_RECORDS,
        ),
        "check_endpoint": (
            Grant(actions=("sagemaker:DescribeEndpoint",), resources=(ENDPOINT,)),
            # A confirmed capacity raise goes into the update's progress.
            _WRITE_RECORDS,
        ),
        "await_endpoint": (
            *_COMPLETE_WAIT,
            # Storing the token: one transaction checks the lock (ConditionCheck) and updates the record; then
            # claiming it back (and putting it back when the outcome could not be sent), or recording a confirmed
            # capacity raise, are updates of the record.
            Grant(actions=("dynamodb:ConditionCheckItem", "dynamodb:UpdateItem"), resources=(UPDATES_TABLE,)),
        ),
        "create_model": (
            Grant(actions=("sagemaker:DescribeEndpointConfig",), resources=(ENDPOINT_CONFIG,)),
            Grant(actions=("sagemaker:DescribeModel",), resources=(MODEL,)),
            Grant(actions=("sagemaker:CreateModel",), resources=(NEW_MODEL,)),
            # The current model's execution role, handed to the new model: only to SageMaker.
            _PASS_ROLE_TO_SAGEMAKER,
            _WRITE_RECORDS,
        ),
        "create_endpoint_config": (
            Grant(actions=("sagemaker:DescribeEndpoint",), resources=(ENDPOINT,)),
            Grant(actions=("sagemaker:DescribeEndpointConfig", "sagemaker:ListTags"), resources=(ENDPOINT_CONFIG,)),
            Grant(actions=("sagemaker:CreateEndpointConfig",), resources=(NEW_ENDPOINT_CONFIG,),
                  conditions=CHANGE_GUARDRAILS),
            # Checked by AWS when CreateEndpointConfig carries Tags.
            Grant(actions=("sagemaker:AddTags",), resources=(NEW_ENDPOINT_CONFIG,)),
            # A copied config may name an ExecutionRoleArn; it can only be handed to SageMaker.
            _PASS_ROLE_TO_SAGEMAKER,
            _WRITE_RECORDS,
        ),
        "update_endpoint": (
            Grant(actions=("sagemaker:UpdateEndpoint",), resources=(ENDPOINT, NEW_ENDPOINT_CONFIG)),
            Grant(actions=("sagemaker:DescribeEndpoint",), resources=(ENDPOINT,)),
            _READ_RECORDS,
            _WRITE_RECORDS,
        ),
        "restore_scaling": _RESTORE,
        "recover_scaling": (
            *_RESTORE,
            # The execution's input, when the status-change event leaves it out; the scaling its first step
            # planned to restore, from its history, to check the stored snapshot against.
            Grant(actions=("states:DescribeExecution", "states:GetExecutionHistory"), resources=(EXECUTIONS,)),
        ),
        "start_update": (
            Grant(actions=("states:StartExecution",), resources=(STATE_MACHINE,)),
            # A name found taken: is it the same request (a duplicate) or another input (a squatted name)?
            _DESCRIBE_UPDATES,
        ),
        "notify_update": (
            _READ_RECORDS,
            Grant(actions=("sns:Publish",), resources=(NOTIFICATION_TOPIC,)),
            # The topic is encrypted with its own key: publishing uses it (SNS Developer Guide, "Enabling
            # compatibility between event sources and encrypted topics").
            Grant(actions=("kms:GenerateDataKey", "kms:Decrypt"), resources=(NOTIFICATION_KEY,)),
        ),
        "resume_update": (
            *_COMPLETE_WAIT,
            # Reading the lock and its holder's wait; claiming the token (and putting it back when the outcome
            # could not be sent), or recording a confirmed capacity raise.
            _READ_RECORDS,
            _WRITE_RECORDS,
        ),
        # Fleet rollouts (infra/rollout.py). The plan resolves the targets: every endpoint is listed, and the tags of
        # those whose name matches are read (Targets.NamePattern, Targets.Tags).
        "rollout_plan": (
            Grant(actions=("sagemaker:ListEndpoints",), resources=(ANY_RESOURCE,)),
            Grant(actions=("sagemaker:ListTags",), resources=(ENDPOINT,)),
        ),
        # One endpoint's preflight reads what an update's first step reads, without locking anything.
        "rollout_preflight": (
            *_READ_ENDPOINT_AND_SCALING,
            Grant(actions=("sagemaker:DescribeModel",), resources=(MODEL,)),
            # Whether another update holds the endpoint's lock.
            _READ_RECORDS,
            # An update this rollout started before (a re-run): running, or how it ended.
            _DESCRIBE_UPDATES,
        ),
        # The waves and the failure budget, from the preflights' records: no AWS call, so nothing but its logs.
        "rollout_waves": (),
        "rollout_gate": (_DESCRIBE_UPDATES,),
        # After each wave: a failed update's status, error and cause.
        "rollout_tally": (_DESCRIBE_UPDATES,),
    }
)


# Calls the code of a function holds, on a path that function never takes: not granted. Function folder ->
# {action: why the path is never taken}. The code reader (tests/infrastructure/code_calls.py) sees every call a
# handler can reach; the scenarios that run every function (tests/infrastructure/test_permissions_exercised.py)
# check that these are never made.
UNREACHED_CALLS: Mapping[str, Mapping[str, str]] = MappingProxyType({
    "rollout_preflight": MappingProxyType({
        "sagemaker:DescribeModelPackage": "the preflight reuses the update's validation, which reads a model package "
        "only when the input names one; a rollout's Change cannot (core/rollout.py, NOT_IN_CHANGE)",
    }),
})

# The rollout state machine's own role (infra/rollout.py), besides invoking its functions and the logging and
# tracing the CDK grants: each endpoint update is a child execution of the update state machine, started with
# `states:startExecution.sync:2`. Step Functions needs StartExecution on the child's state machine, DescribeExecution
# and StopExecution on its executions, and the managed EventBridge rule through which it learns that a child
# ended (Step Functions Developer Guide, "IAM policies for starting a Step Functions workflow execution":
# StartExecution .sync). StopExecution is also how stopping a rollout stops the updates it started.
SYNC_RULE = ("arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:"
             "rule/StepFunctionsGetEventsForStepFunctionsExecutionRule")
ROLLOUT_STATE_MACHINE: tuple[Grant, ...] = (
    Grant(actions=("states:StartExecution",), resources=(STATE_MACHINE,)),
    Grant(actions=("states:DescribeExecution", "states:StopExecution"), resources=(EXECUTIONS,)),
    Grant(actions=("events:PutTargets", "events:PutRule", "events:DescribeRule"), resources=(SYNC_RULE,)),
)
ROLLOUT_WILDCARD_REASONS: Mapping[str, str] = MappingProxyType({
    EXECUTIONS: "Executions of the update state machine that a rollout starts and waits for (.sync), each named "
    "when it starts; StopExecution stops them when the rollout is stopped (IAM policies for Step Functions: "
    "StartExecution .sync).",
})


def actions_for(folder: str) -> set[str]:
    """Every IAM action the table grants the function in lambdas/<folder>, logging excluded."""
    return {action for grant in PERMISSIONS[folder] for action in grant.actions}


def _choices(endpoint_name_pattern: str, rails: Guardrails) -> dict[str, tuple[str, ...]]:
    """Each placeholder and what it stands for in a stack. SageMaker writes names in lower case in its ARNs
    (the EndpointArn of DescribeEndpoint), so endpoint and model patterns with capitals are granted in both
    spellings; IAM role ARNs keep the role's own case."""
    return {ENDPOINT_NAME: _spellings(endpoint_name_pattern), MODEL_NAME: _spellings(rails.model_name_pattern),
            EXECUTION_ROLE: rails.execution_role_patterns}


def _expand(text: str, choices: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    """`text` with each placeholder it holds replaced by each of its values (every combination)."""
    used = [placeholder for placeholder in choices if placeholder in text]
    expanded = []
    for values in itertools.product(*(choices[placeholder] for placeholder in used)):
        result = text
        for placeholder, value in zip(used, values, strict=True):
            result = result.replace(placeholder, value)
        expanded.append(result)
    return tuple(dict.fromkeys(expanded))


def _condition_value(value: ConditionValue, choices: dict[str, tuple[str, ...]], rails: Guardrails) -> ConditionValue:
    if value == INSTANCE_TYPES:
        return rails.allowed_instance_types
    items = (value,) if isinstance(value, str) else value
    rendered = tuple(dict.fromkeys(text for item in items for text in _expand(item, choices)))
    return rendered[0] if isinstance(value, str) and len(rendered) == 1 else rendered


def render(grants: tuple[Grant, ...], endpoint_name_pattern: str,
           rails: Guardrails | None = None) -> tuple[Grant, ...]:
    """The grants with the placeholders replaced by the pattern and the change guardrails (the defaults when
    `rails` is not given)."""
    rails = rails or Guardrails()
    choices = _choices(endpoint_name_pattern, rails)
    return tuple(
        replace(
            grant,
            resources=tuple(dict.fromkeys(text for resource in grant.resources for text in _expand(resource, choices))),
            conditions=MappingProxyType({
                operator: MappingProxyType({key: _condition_value(value, choices, rails)
                                            for key, value in values.items()})
                for operator, values in grant.conditions.items()
            }),
        )
        for grant in grants
    )


def _spellings(pattern: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys((pattern, pattern.lower())))


def wildcards(grants: tuple[Grant, ...], endpoint_name_pattern: str,
              rails: Guardrails | None = None) -> dict[str, str]:
    """Each rendered resource of `grants` that still holds a wildcard, with the reason it cannot be narrower."""
    unexplained = sorted({resource for grant in grants for resource in grant.resources
                          if ("*" in resource or "<" in resource) and resource not in WILDCARD_REASONS})
    if unexplained:
        raise ValueError(f"wildcard resources without a reason in WILDCARD_REASONS: {unexplained}")
    choices = _choices(endpoint_name_pattern, rails or Guardrails())
    return {
        text: WILDCARD_REASONS[resource]
        for grant in grants
        for resource in grant.resources
        for text in _expand(resource, choices)
        if "*" in text
    }


def besides_calls(folder: str) -> Mapping[str, str]:
    """Actions the role of lambdas/<folder>'s function holds besides its calls and those behind them: action ->
    reason."""
    asynchronous = folder in {task.folder for task in EVENT_FUNCTIONS}
    return MappingProxyType({**EVERY_FUNCTION, **(ASYNC_FUNCTION if asynchronous else {})})


def behind_the_call(actions: set[str]) -> set[str]:
    """The actions AWS checks on the caller's role behind `actions`."""
    return {implied for action in actions for implied in BEHIND_THE_CALL.get(action, {})}


# What the function builder (infra/workflow.py, _task_function) adds to every role besides the table, named
# for the docs only: the builder grants on the constructs' own ARNs, and the CDK adds X-Ray with active tracing.
OWN_LOG_GROUP = "<the function's log group>"
ON_FAILURE_QUEUE = "<the on-failure queue>"
# The reason cdk-nag is given for X-Ray's Resource "*" on every role (before the table's own reason, if any).
TRACING_REASON = "X-Ray PutTraceSegments and PutTelemetryRecords (active tracing) support no resource type."


def added_by_builder(folder: str) -> tuple[Grant, ...]:
    """The grants the role of lambdas/<folder>'s function holds besides its rows of PERMISSIONS."""
    asynchronous = folder in {task.folder for task in EVENT_FUNCTIONS}
    return (
        Grant(actions=tuple(sorted(LOGGING_ACTIONS)), resources=(OWN_LOG_GROUP,)),
        Grant(actions=tuple(sorted(TRACING_ACTIONS)), resources=(ANY_RESOURCE,)),
        *([Grant(actions=tuple(sorted(ON_FAILURE_ACTIONS)), resources=(ON_FAILURE_QUEUE,))] if asynchronous else []),
    )


# The Markdown of docs/settings-and-permissions.md's permissions section, between these markers (`make docs-tables`).
TABLE_MARKERS = ("<!-- permissions per function: generated by `make docs-tables` from infra/permissions.py -->",
                 "<!-- end of permissions per function -->")
WILDCARD_MARKERS = ("<!-- wildcard reasons: generated by `make docs-tables` from infra/permissions.py -->",
                    "<!-- end of wildcard reasons -->")
# Resources the page names rather than shows (their ARNs are the stack's, or too long for the table).
_NAMED_RESOURCES = MappingProxyType({
    UPDATES_TABLE: "updates table",
    STATE_MACHINE: "the state machine",
    NOTIFICATION_TOPIC: "the topic",
    NOTIFICATION_KEY: "the topic's key",
    SAGEMAKER_SCALING_SERVICE_LINKED_ROLE: "the SageMaker scaling service-linked role",
    OWN_LOG_GROUP: "the function's log group",
    ON_FAILURE_QUEUE: "the UndeliveredEvents queue",
})
_ARN_PREFIX = re.compile(r"^arn:\$\{AWS::Partition\}:[a-z0-9-]+:(\$\{AWS::Region\})?:(\$\{AWS::AccountId\})?:")


def shown(resource: str) -> str:
    """A resource as the page shows it: without `arn:<partition>:<service>:<region>:<account>:`, the stack's own
    resources by name, placeholders kept."""
    text = _NAMED_RESOURCES.get(resource) or _ARN_PREFIX.sub("", resource).replace("${StateMachineName}",
                                                                                  "<state machine>")
    if "${" in text:
        raise ValueError(f"no name for the page for the stack variable in {resource!r}: add it to _NAMED_RESOURCES")
    return text


def _condition_text(conditions: Mapping[str, Mapping[str, ConditionValue]]) -> str:
    return "; ".join(
        f"{operator} {key} " + " or ".join(f"`{value}`" for value in ((values,) if isinstance(values, str) else values))
        for operator, by_key in conditions.items()
        for key, values in by_key.items()
    )


def _rows(grants: tuple[Grant, ...]) -> list[Grant]:
    """The grants with the same resources and conditions as one row, in the order they first appear."""
    rows: dict[str, Grant] = {}
    for grant in grants:
        key = repr((grant.resources, {operator: dict(values) for operator, values in grant.conditions.items()}))
        earlier = rows.get(key)
        rows[key] = grant if earlier is None else replace(
            earlier, actions=tuple(dict.fromkeys(earlier.actions + grant.actions)))
    return list(rows.values())


def permissions_table() -> str:
    """Every function's role as a Markdown table: its rows of PERMISSIONS (rows with the same resources and
    conditions merged), then what the function builder adds (added_by_builder)."""
    lines = ["| Function | Actions | Resources | Condition |", "|---|---|---|---|"]
    for folder, grants in PERMISSIONS.items():
        for index, grant in enumerate([*_rows(grants), *added_by_builder(folder)]):
            cells = [f"`{folder}`" if index == 0 else "", ", ".join(grant.actions),
                     ", ".join(f"`{shown(resource)}`" for resource in grant.resources),
                     _condition_text(grant.conditions)]
            lines.append("|" + "|".join(f" {cell} " if cell else " " for cell in cells) + "|")
    return "\n".join(lines) + "\n"


def _prose(text: str) -> str:
    """Reason text as Markdown: `<name>` would be taken for an HTML tag and `*` for emphasis."""
    return re.sub(r"([\\`*<])", r"\\\1", text)


def wildcard_list() -> str:
    """Each wildcard resource any role holds, as the page shows it, with the reason given to cdk-nag."""
    granted = {resource for grants in PERMISSIONS.values() for grant in grants for resource in grant.resources}
    unexplained = sorted(resource for resource in granted
                         if ("*" in resource or "<" in resource) and resource not in WILDCARD_REASONS)
    if unexplained:
        raise ValueError(f"wildcard resources without a reason in WILDCARD_REASONS: {unexplained}")
    reasons = {resource: reason for resource, reason in WILDCARD_REASONS.items() if resource in granted}
    # Every role holds X-Ray on "*"; a role with rows on "*" gives both reasons in one acknowledgement.
    reasons[ANY_RESOURCE] = f"{TRACING_REASON} {reasons.get(ANY_RESOURCE, '')}".strip()
    return "".join(f"- `{shown(resource)}`: {_prose(reason)}\n" for resource, reason in reasons.items())


def docs_sections() -> dict[tuple[str, str], str]:
    """What goes between each pair of markers of the docs page."""
    return {TABLE_MARKERS: permissions_table(), WILDCARD_MARKERS: wildcard_list()}


def replaced(document: str) -> str:
    """The document with the generated text between each pair of markers (blank lines around it, so that the
    comments never join the table or the list)."""
    for (start_marker, end_marker), text in docs_sections().items():
        start, end = document.find(start_marker), document.find(end_marker)
        if start < 0 or end < start:
            raise ValueError(f"the document has no markers for the generated text; add the lines\n{start_marker}\n"
                             f"{end_marker}")
        document = document[:start] + f"{start_marker}\n\n{text}\n{end_marker}" + document[end + len(end_marker):]
    return document


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.permissions",
                                     description="The permissions table and wildcard reasons of the docs page.")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--write", type=Path, metavar="FILE", help="replace the text between FILE's markers")
    group.add_argument("--check", type=Path, metavar="FILE", help="exit 1 when FILE's text is out of date")
    args = parser.parse_args(argv)
    if args.write is None and args.check is None:
        sys.stdout.write(permissions_table() + "\n" + wildcard_list())
        return 0
    return write_or_check(args.write or args.check, replaced, check=args.check is not None,
                          stale="the permissions table is out of date; run `make docs-tables`")

if __name__ == "__main__":
    sys.exit(main())
