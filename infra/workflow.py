"""The workflow: the state machine of statemachine/endpoint_update.asl.json, the Lambda functions it calls,
the updates table (locks, snapshots, progress) and the recovery of executions that end without a restore.

The definition file is deployed as it is (`DefinitionBody.from_string`), with one definition substitution
per task function, so the template carries the file's text byte for byte and the local runner executes
the same text.
"""

from __future__ import annotations

from aws_cdk import ArnFormat, Duration, Fn, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra import settings
from infra.permissions import ANY_RESOURCE, LOGGING_ACTIONS, PERMISSIONS, Grant
from statemachine import EVENT_FUNCTIONS, TASK_FUNCTIONS, TaskFunction, read_definition


class EndpointUpdateWorkflow(Construct):
    """The task functions, each with its own role, the STANDARD state machine that calls them, the updates
    table, and the rule that recovers the scaling of executions stopped, timed out or failed."""

    def __init__(self, scope: Construct, construct_id: str, *, powertools_layer_version: int,
                 record_retention_days: int = settings.DEFAULT_RECORD_RETENTION_DAYS) -> None:
        super().__init__(scope, construct_id)

        powertools = lambda_.LayerVersion.from_layer_version_arn(
            self,
            "PowertoolsLayer",
            settings.powertools_layer_arn(Stack.of(self).region, powertools_layer_version),
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
            # Snapshots of scaling that may not be restored yet: never deleted with the stack.
            removal_policy=settings.TABLE_REMOVAL_POLICY,
        )
        # Named in advance: the functions' roles name its executions, and the state machine names the functions.
        self.state_machine_name = f"{Stack.of(self).stack_name}-{settings.STATE_MACHINE_SUFFIX}"
        state_machine_arn = Stack.of(self).format_arn(
            service="states", resource="stateMachine", resource_name=self.state_machine_name,
            arn_format=ArnFormat.COLON_RESOURCE_NAME)
        variables = {"UpdatesTableArn": self.table.table_arn, "StateMachineName": self.state_machine_name,
                     "StateMachineArn": state_machine_arn}
        environment = {
            **settings.ENVIRONMENT,
            settings.TABLE_ENV: self.table.table_name,
            settings.RETENTION_ENV: str(record_retention_days),
            settings.STATE_MACHINE_ENV: state_machine_arn,
        }
        self.functions: dict[str, lambda_.Function] = {
            task.folder: _task_function(self, task, powertools, variables, environment)
            for task in TASK_FUNCTIONS + EVENT_FUNCTIONS
        }

        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_name=self.state_machine_name,
            state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_string(read_definition()),
            definition_substitutions={
                task.placeholder: self.functions[task.folder].function_arn for task in TASK_FUNCTIONS
            },
        )
        # The definition is opaque text to the CDK, so the invoke permission is stated here: the unqualified
        # ARNs the definition names, and nothing else.
        self.state_machine.add_to_role_policy(
            iam.PolicyStatement(
                actions=["lambda:InvokeFunction"],
                resources=[self.functions[task.folder].function_arn for task in TASK_FUNCTIONS],
            )
        )
        self._recover_ended_executions()

    def _recover_ended_executions(self) -> None:
        """A stopped or timed-out execution runs no Catch: EventBridge's status-change event starts the
        recovery function instead (FAILED too, as a safety net). Lambda retries a failed recovery twice;
        events EventBridge could not deliver land in a queue for an operator. Until the scaling is restored,
        the lock's unrestored mark refuses the next update of that endpoint."""
        recovery = self.functions["recover_scaling"]
        self.recovery_dead_letters = sqs.Queue(
            self, "RecoveryDeadLetters", retention_period=Duration.days(14), enforce_ssl=True,
            encryption=sqs.QueueEncryption.SQS_MANAGED)
        recovery.configure_async_invoke(retry_attempts=2, max_event_age=Duration.hours(6))
        self.recovery_rule = events.Rule(
            self, "RecoverEndedExecutions",
            description="Restore the scaling of an endpoint update that ended without restoring it.",
            event_pattern=events.EventPattern(
                source=["aws.states"],
                detail_type=["Step Functions Execution Status Change"],
                detail={"status": list(settings.RECOVERED_STATUSES),
                        "stateMachineArn": [self.state_machine.state_machine_arn]},
            ),
            targets=[targets.LambdaFunction(recovery, retry_attempts=185, max_event_age=Duration.hours(24),
                                            dead_letter_queue=self.recovery_dead_letters)],
        )


def _task_function(scope: Construct, task: TaskFunction, powertools: lambda_.ILayerVersion,
                   variables: dict[str, str], environment: dict[str, str]) -> lambda_.Function:
    """The one builder of the workflow's functions: code, role, log group and settings of one task."""
    log_group = logs.LogGroup(
        scope,
        f"{task.key}Logs",
        retention=settings.LOG_RETENTION,
        removal_policy=settings.LOG_REMOVAL_POLICY,
    )
    role = iam.Role(
        scope,
        f"{task.key}Role",
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        description=f"endpoint-updater {task.folder}: {task.description}",
    )
    for grant in PERMISSIONS[task.folder]:
        role.add_to_policy(_statement(grant, variables))
    role.add_to_policy(iam.PolicyStatement(actions=sorted(LOGGING_ACTIONS), resources=[log_group.log_group_arn]))
    return lambda_.Function(
        scope,
        task.key,
        description=task.description,
        runtime=settings.RUNTIME,
        architecture=settings.ARCHITECTURE,
        handler=task.handler,
        code=lambda_.Code.from_asset(str(settings.LAMBDAS_DIR), exclude=asset_excludes(task.folder)),
        layers=[powertools],
        role=role,
        memory_size=settings.MEMORY_MB,
        timeout=settings.TIMEOUT_BY_FOLDER.get(task.folder, settings.TIMEOUT),
        environment=dict(environment),
        log_group=log_group,
    )


def asset_excludes(folder: str) -> list[str]:
    """Glob patterns that cut lambdas/ down to `folder` and the shared package (later patterns win)."""
    return [
        "*",
        f"!{folder}",
        f"!{folder}/**",
        f"!{settings.SHARED_PACKAGE}",
        f"!{settings.SHARED_PACKAGE}/**",
        "**/__pycache__",
        "**/*.pyc",
    ]


def _statement(grant: Grant, variables: dict[str, str]) -> iam.PolicyStatement:
    def resource_arn(resource: str) -> str:
        if resource == ANY_RESOURCE:
            return resource
        used = {name: value for name, value in variables.items() if f"${{{name}}}" in resource}
        return Fn.sub(resource, used or None)

    return iam.PolicyStatement(
        actions=list(grant.actions),
        resources=[resource_arn(resource) for resource in grant.resources],
        conditions={operator: dict(values) for operator, values in grant.conditions.items()} or None,
    )
