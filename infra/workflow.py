"""The workflow: the state machine of statemachine/endpoint_update.asl.json, the Lambda functions it calls,
the updates table (locks, snapshots, progress), the recovery of executions that end without a restore, and the
rule by which SageMaker's endpoint events resume the executions that wait on them.

The definition file is deployed as it is (`DefinitionBody.from_string`), with one definition substitution
per task function, so the template carries the file's text byte for byte and the local runner executes
the same text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aws_cdk import ArnFormat, Duration, Fn, Stack, Token
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from endpoint_updater import names
from endpoint_updater.core.guardrails import Guardrails
from infra import config, nag, sdk_layer, settings
from infra.permissions import (
    ANY_RESOURCE,
    LOGGING_ACTIONS,
    ON_FAILURE_ACTIONS,
    PERMISSIONS,
    TRACING_REASON,
    Grant,
    render,
    wildcards,
)
from statemachine import EVENT_FUNCTIONS, TASK_FUNCTIONS, TaskFunction, read_definition

GUARDRAIL_FUNCTIONS = ("validate_and_snapshot", "create_model")


@dataclass(frozen=True)
class WorkflowProps:
    """What an app chooses when it instantiates the workflow."""

    powertools_layer_version: int
    """Version of the public Powertools for AWS Lambda (Python) V3 layer (settings.POWERTOOLS_LAYER_NAME)."""
    endpoint_name_pattern: str = config.DEFAULT_ENDPOINT_NAME_PATTERN
    """The endpoints the functions may update (IAM wildcards * and ?); "*" means every endpoint."""
    notification_topic: sns.ITopic | None = None
    """Where the end-of-update message goes, when the app has a topic (infra.notifications)."""
    log_retention: logs.RetentionDays = settings.LOG_RETENTION
    record_retention_days: int = config.DEFAULT_RECORD_RETENTION_DAYS
    """Days an update's record is kept once its scaling was restored (the table's TTL)."""
    guardrails: Guardrails = field(default_factory=Guardrails)
    """The change guardrails: checked by the first state, and stated in IAM where SageMaker has condition keys."""

    def __post_init__(self) -> None:
        config.powertools_layer_version(self.powertools_layer_version)
        config.endpoint_name_pattern(self.endpoint_name_pattern)
        config.record_retention_days(self.record_retention_days)


class EndpointUpdateWorkflow(Construct):
    """The task functions, each with its own role, the STANDARD state machine that calls them, the updates
    table, the rule that recovers the scaling of executions stopped, timed out or failed, and the rule that resumes
    an execution when its endpoint's state changes."""

    def __init__(self, scope: Construct, construct_id: str, *, props: WorkflowProps) -> None:
        super().__init__(scope, construct_id)
        self.props = props
        self.notification_topic = props.notification_topic

        powertools = lambda_.LayerVersion.from_layer_version_arn(
            self,
            "PowertoolsLayer",
            settings.powertools_layer_arn(Stack.of(self).region, props.powertools_layer_version),
        )
        self.table = dynamodb.Table(
            self,
            "UpdatesTable",
            partition_key=dynamodb.Attribute(name=settings.TABLE_PARTITION_KEY, type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name=settings.TABLE_SORT_KEY, type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            time_to_live_attribute=settings.TABLE_TTL_ATTRIBUTE,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True),
            # Snapshots of scaling that may not be restored yet: never deleted with the stack, nor by a
            # DeleteTable call until someone turns the protection off on purpose.
            removal_policy=settings.TABLE_REMOVAL_POLICY,
            deletion_protection=True,
        )
        # Named in advance: the functions' roles name its executions, and the state machine names the functions.
        self.state_machine_name = f"{Stack.of(self).stack_name}-{construct_id}"
        state_machine_arn = Stack.of(self).format_arn(
            service="states", resource="stateMachine", resource_name=self.state_machine_name,
            arn_format=ArnFormat.COLON_RESOURCE_NAME)
        variables = {"UpdatesTableArn": self.table.table_arn, "StateMachineName": self.state_machine_name,
                     "StateMachineArn": state_machine_arn}
        environment = {
            **settings.ENVIRONMENT,
            settings.TABLE_ENV: self.table.table_name,
            settings.RETENTION_ENV: str(props.record_retention_days),
            settings.STATE_MACHINE_ENV: state_machine_arn,
        }
        topic = props.notification_topic
        if topic is not None:
            key = getattr(topic, "master_key", None)
            variables["NotificationTopicArn"] = topic.topic_arn
            variables["NotificationKeyArn"] = key.key_arn if key is not None else topic.topic_arn
        # Events EventBridge could not deliver, and asynchronous invocations that failed after Lambda's retries:
        # one queue, one alarm, one place for an operator to look.
        self.undelivered_events = sqs.Queue(
            self, "UndeliveredEvents", retention_period=Duration.days(14), enforce_ssl=True,
            encryption=sqs.QueueEncryption.SQS_MANAGED)
        for rule_id in ("AwsSolutions-SQS3", "Serverless-SQSRedrivePolicy"):
            nag.acknowledge(self.undelivered_events, rule_id,
                            "This queue is itself a dead-letter queue: the stack's rules send it the events they "
                            "could not deliver, and its functions the invocations that failed after Lambda's retries; "
                            "nothing consumes it, an operator reads it.")
        # The end-of-update message needs a topic to go to.
        functions = [task for task in TASK_FUNCTIONS + EVENT_FUNCTIONS
                     if topic is not None or task.folder != "notify_update"]
        self.functions: dict[str, lambda_.Function] = {
            task.folder: _task_function(self, task, powertools, props, variables, environment,
                                        on_failure=self.undelivered_events if task in EVENT_FUNCTIONS else None)
            for task in functions
        }
        # The functions that check the change guardrails: the first state, and the model made from a package.
        for folder in GUARDRAIL_FUNCTIONS:
            self.functions[folder].add_environment(
                names.GUARDRAILS_ENV, json.dumps(props.guardrails.to_settings(), separators=(",", ":")))
        self.state_machine_logs = logs.LogGroup(
            self,
            "StateMachineLogs",
            # A name under /aws/vendedlogs/ keeps the account's CloudWatch Logs resource policy from growing
            # with each log group (the prefix the Step Functions Developer Guide recommends for logging).
            log_group_name=Fn.join("", ["/aws/vendedlogs/states/", Stack.of(self).stack_name, "-", construct_id]),
            retention=props.log_retention,
            removal_policy=settings.LOG_REMOVAL_POLICY,
        )

        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_name=self.state_machine_name,
            state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_string(read_definition()),
            definition_substitutions={
                task.placeholder: self.functions[task.folder].function_arn for task in TASK_FUNCTIONS
            },
            # Execution data (inputs, outputs, error causes) is the audit trail of an update: endpoint and
            # config names, variant changes, the scaling snapshot needed to restore by hand. It holds no
            # secrets or inference data, and it outlives the 90-day execution history in the log group.
            logs=sfn.LogOptions(destination=self.state_machine_logs, level=sfn.LogLevel.ALL,
                                include_execution_data=True),
            tracing_enabled=True,
        )
        nag.acknowledge(
            self.state_machine.role,
            nag.wildcard_finding(ANY_RESOURCE),
            "Log delivery to CloudWatch Logs (logs:*LogDelivery*, resource policies) and X-Ray tracing actions "
            "support no resource type (Step Functions Developer Guide, IAM policies for logging and X-Ray).",
        )
        # The definition is opaque text to the CDK, so the invoke permission is stated here: the unqualified
        # ARNs the definition names, and nothing else. The waits for a callback name their function in
        # Parameters.FunctionName of `arn:aws:states:::lambda:invoke.waitForTaskToken`, unqualified too: Step
        # Functions invokes it with the state machine's role and lambda:InvokeFunction on that ARN (Step
        # Functions Developer Guide, "IAM policies for AWS Lambda": the `:*` ARN it also lists is for versions
        # and aliases, which the definition never names). Waiting for the token needs no other permission.
        self.state_machine.add_to_role_policy(
            iam.PolicyStatement(
                actions=["lambda:InvokeFunction"],
                resources=[self.functions[task.folder].function_arn for task in TASK_FUNCTIONS],
            )
        )
        self._recover_ended_executions()
        self._resume_on_endpoint_events()
        if topic is not None:
            self.functions["notify_update"].add_environment(settings.TOPIC_ENV, topic.topic_arn)
            self._notify_ended_executions()

    def _notify_ended_executions(self) -> None:
        """Every execution that ends, whatever its outcome, gets its message on the topic."""
        self.notify_rule = self._on_ended_executions(
            "NotifyEndedExecutions", "Publish the end-of-update message of every endpoint update.",
            settings.ENDED_STATUSES, self.functions["notify_update"])

    def _on_ended_executions(self, rule_id: str, description: str, statuses: tuple[str, ...],
                             function: lambda_.Function) -> events.Rule:
        """A rule that invokes `function` with the state machine's "Execution Status Change" events."""
        return events.Rule(
            self, rule_id, description=description,
            event_pattern=events.EventPattern(
                source=["aws.states"],
                detail_type=["Step Functions Execution Status Change"],
                detail={"status": list(statuses), "stateMachineArn": [self.state_machine.state_machine_arn]},
            ),
            targets=[self._event_target(function)],
        )

    def _event_target(self, function: lambda_.Function) -> targets.LambdaFunction:
        """Every rule's target: EventBridge's longest retry, then the UndeliveredEvents queue."""
        return targets.LambdaFunction(function, retry_attempts=names.EVENT_RETRY_ATTEMPTS,
                                      max_event_age=Duration.hours(names.EVENT_MAX_AGE_HOURS),
                                      dead_letter_queue=self.undelivered_events)

    def _resume_on_endpoint_events(self) -> None:
        """SageMaker's endpoint events wake the execution waiting on that endpoint (Completion "events").

        "SageMaker Endpoint State Change" and "SageMaker Endpoint Deployment State Change" reach the default bus
        only; the rule takes those of the endpoints the workflow may touch (endpointNamePattern, the pattern the
        local runner uses too), from this account. An event is a hint: the resume function confirms with
        DescribeEndpoint and ignores an endpoint no execution waits on. A lost event costs one safety interval,
        not the update."""
        pattern: dict[str, Any] = names.endpoint_event_pattern([self.props.endpoint_name_pattern])
        self.endpoint_events_rule = events.Rule(
            self, "ResumeOnEndpointEvents",
            description="Resume the endpoint update waiting on an endpoint when SageMaker reports its state changed.",
            event_pattern=events.EventPattern(
                source=pattern["source"], detail_type=pattern["detail-type"], detail=pattern.get("detail"),
                # SageMaker sends an account's events to that account's default bus; another account's events can
                # only arrive forwarded, and never concern this account's endpoints.
                account=[Stack.of(self).account]),
            targets=[self._event_target(self.functions["resume_update"])],
        )

    def _recover_ended_executions(self) -> None:
        """A stopped or timed-out execution runs no Catch: EventBridge's status-change event starts the
        recovery function instead (FAILED too, as a safety net). Lambda retries a failed recovery twice;
        events EventBridge could not deliver, and recoveries that still failed, land in a queue for an
        operator. Until the scaling is restored, the lock's unrestored mark refuses the next update of that
        endpoint."""
        recovery = self.functions["recover_scaling"]
        self.recovery_rule = self._on_ended_executions(
            "RecoverEndedExecutions", "Restore the scaling of an endpoint update that ended without restoring it.",
            settings.RECOVERED_STATUSES, recovery)


def _task_function(
    scope: Construct, task: TaskFunction, powertools: lambda_.ILayerVersion, props: WorkflowProps,
    variables: dict[str, str], environment: dict[str, str], on_failure: sqs.IQueue | None = None,
) -> lambda_.Function:
    """The one builder of the workflow's functions: code, role, log group and settings of one task.

    `on_failure`, for a function invoked asynchronously, is where Lambda sends an invocation that still fails
    after its retries, instead of dropping the event."""
    log_group = logs.LogGroup(
        scope,
        f"{task.key}Logs",
        retention=props.log_retention,
        removal_policy=settings.LOG_REMOVAL_POLICY,
    )
    role = iam.Role(
        scope,
        f"{task.key}Role",
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        description=f"endpoint-updater {task.folder}: {task.description}",
    )
    for grant in render(PERMISSIONS[task.folder], props.endpoint_name_pattern, props.guardrails):
        role.add_to_policy(_statement(grant, variables))
    role.add_to_policy(iam.PolicyStatement(actions=sorted(LOGGING_ACTIONS), resources=[log_group.log_group_arn]))
    reasons = {_with_names(resource, variables): reason
               for resource, reason in wildcards(PERMISSIONS[task.folder], props.endpoint_name_pattern,
                                                 props.guardrails).items()}
    on_any_resource = reasons.pop(ANY_RESOURCE, "")
    nag.acknowledge_wildcards(role, reasons)
    nag.acknowledge(
        role,
        nag.wildcard_finding(ANY_RESOURCE),
        f"{TRACING_REASON} {on_any_resource}".strip(),
    )
    function = lambda_.Function(
        scope,
        task.key,
        description=task.description,
        runtime=settings.RUNTIME,
        architecture=settings.ARCHITECTURE,
        handler=task.handler,
        code=lambda_.Code.from_asset(str(settings.REPO_ROOT), exclude=asset_excludes(task.folder)),
        # The SDK layer last: a later layer's files win in /opt, should Powertools' ever carry an SDK.
        layers=[powertools, sdk_layer.layer(scope)],
        role=role,
        memory_size=settings.MEMORY_MB,
        timeout=settings.TIMEOUT_BY_FOLDER.get(task.folder, settings.TIMEOUT),
        environment=dict(environment),
        log_group=log_group,
        tracing=lambda_.Tracing.ACTIVE,
    )
    if on_failure is not None:
        role.add_to_policy(iam.PolicyStatement(actions=sorted(ON_FAILURE_ACTIONS), resources=[on_failure.queue_arn]))
        # The L1 resource: the CDK's SQS destination would also grant GetQueueAttributes and GetQueueUrl, which
        # Lambda does not need to send the record (Lambda Developer Guide, asynchronous invocation destinations).
        lambda_.CfnEventInvokeConfig(
            scope, f"{task.key}AsyncInvoke",
            function_name=function.function_name,
            qualifier="$LATEST",
            maximum_retry_attempts=settings.ASYNC_RETRY_ATTEMPTS,
            maximum_event_age_in_seconds=int(settings.ASYNC_MAX_EVENT_AGE.to_seconds()),
            destination_config=lambda_.CfnEventInvokeConfig.DestinationConfigProperty(
                on_failure=lambda_.CfnEventInvokeConfig.OnFailureProperty(destination=on_failure.queue_arn)),
        )
    for rule_id in ("AwsSolutions-L1", "Serverless-LambdaLatestVersion"):
        nag.acknowledge(
            function,
            rule_id,
            f"The runtime is {settings.RUNTIME.name}, the Python version of the Powertools layer build the function "
            f"loads ({settings.POWERTOOLS_LAYER_NAME}); they are moved to a newer Python together.",
        )
    # A dead-letter queue (DeadLetterConfig) serves asynchronous invocations only (Lambda Developer Guide,
    # "Adding a dead-letter queue").
    nag.acknowledge(
        function,
        "Serverless-LambdaDLQ",
        "Invoked asynchronously by EventBridge, the function sends a failed invocation to its on-failure "
        "destination, the UndeliveredEvents queue, whose record also carries the error (a DLQ keeps only the event)."
        if on_failure is not None else
        "Step Functions invokes the function synchronously: Lambda never uses a dead-letter queue for it, and a "
        "failure is the state's error, retried and caught by the state machine.",
    )
    return function


def asset_excludes(folder: str) -> list[str]:
    """Glob patterns that cut the repository down to the code of `folder`'s function (later patterns win)."""
    kept = [f"lambdas/{folder}", *settings.FUNCTION_CODE]
    parents = sorted({str(Path(path).parent) for path in kept} - {"."})
    return ["*", ".*", *(f"!{parent}" for parent in parents),
            *(pattern for path in kept for pattern in (f"!{path}", f"!{path}/**")),
            "**/__pycache__", "**/*.pyc"]


def _with_names(resource: str, variables: dict[str, str]) -> str:
    """The resource with the variables that are plain names (not tokens) written in."""
    for name, value in variables.items():
        if not Token.is_unresolved(value):
            resource = resource.replace(f"${{{name}}}", value)
    return resource


def _statement(grant: Grant, variables: dict[str, str]) -> iam.PolicyStatement:
    def resource_arn(resource: str) -> str:
        if resource == ANY_RESOURCE:
            return resource
        resource = _with_names(resource, variables)
        used = {name: value for name, value in variables.items() if f"${{{name}}}" in resource}
        return Fn.sub(resource, used or None)

    return iam.PolicyStatement(
        actions=list(grant.actions),
        resources=[resource_arn(resource) for resource in grant.resources],
        conditions={
            operator: {key: list(value) if isinstance(value, tuple) else value for key, value in values.items()}
            for operator, values in grant.conditions.items()
        }
        or None,
    )
