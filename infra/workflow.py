"""The workflow: the state machine of statemachine/endpoint_update.asl.json and the Lambda functions it calls.

The definition file is deployed as it is (`DefinitionBody.from_string`), with one definition substitution
per task function, so the template carries the file's text byte for byte and the local runner executes
the same text.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Fn, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra import config, nag, settings
from infra.permissions import ANY_RESOURCE, LOGGING_ACTIONS, PERMISSIONS, Grant, render, wildcards
from statemachine import TASK_FUNCTIONS, TaskFunction, read_definition


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

    def __post_init__(self) -> None:
        config.powertools_layer_version(self.powertools_layer_version)
        config.endpoint_name_pattern(self.endpoint_name_pattern)


class EndpointUpdateWorkflow(Construct):
    """The task functions, each with its own role, and the STANDARD state machine that calls them."""

    def __init__(self, scope: Construct, construct_id: str, *, props: WorkflowProps) -> None:
        super().__init__(scope, construct_id)
        self.props = props
        self.notification_topic = props.notification_topic

        powertools = lambda_.LayerVersion.from_layer_version_arn(
            self,
            "PowertoolsLayer",
            settings.powertools_layer_arn(Stack.of(self).region, props.powertools_layer_version),
        )
        self.functions: dict[str, lambda_.Function] = {
            task.folder: _task_function(self, task, powertools, props) for task in TASK_FUNCTIONS
        }
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
        # ARNs the definition names, and nothing else.
        self.state_machine.add_to_role_policy(
            iam.PolicyStatement(
                actions=["lambda:InvokeFunction"],
                resources=[function.function_arn for function in self.functions.values()],
            )
        )


def _task_function(
    scope: Construct, task: TaskFunction, powertools: lambda_.ILayerVersion, props: WorkflowProps
) -> lambda_.Function:
    """The one builder of the workflow's functions: code, role, log group and settings of one task."""
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
    for grant in render(PERMISSIONS[task.folder], props.endpoint_name_pattern):
        role.add_to_policy(_statement(grant))
    role.add_to_policy(iam.PolicyStatement(actions=sorted(LOGGING_ACTIONS), resources=[log_group.log_group_arn]))
    reasons = wildcards(PERMISSIONS[task.folder], props.endpoint_name_pattern)
    on_any_resource = reasons.pop(ANY_RESOURCE, "")
    nag.acknowledge_wildcards(role, reasons)
    nag.acknowledge(
        role,
        nag.wildcard_finding(ANY_RESOURCE),
        f"X-Ray PutTraceSegments and PutTelemetryRecords (active tracing) support no resource type. {on_any_resource}"
        .strip(),
    )
    function = lambda_.Function(
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
        environment=dict(settings.ENVIRONMENT),
        log_group=log_group,
        tracing=lambda_.Tracing.ACTIVE,
    )
    nag.acknowledge(
        function,
        "AwsSolutions-L1",
        f"The runtime is {settings.RUNTIME.name}, the Python version of the Powertools layer build the function "
        f"loads ({settings.POWERTOOLS_LAYER_NAME}); they are moved to a newer Python together.",
    )
    return function


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


def _statement(grant: Grant) -> iam.PolicyStatement:
    return iam.PolicyStatement(
        actions=list(grant.actions),
        resources=[resource if resource == ANY_RESOURCE else Fn.sub(resource) for resource in grant.resources],
        conditions={
            operator: {key: list(value) if isinstance(value, tuple) else value for key, value in values.items()}
            for operator, values in grant.conditions.items()
        }
        or None,
    )
