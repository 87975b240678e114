"""The workflow: the state machine of statemachine/endpoint_update.asl.json and the Lambda functions it calls.

The definition file is deployed as it is (`DefinitionBody.from_string`), with one definition substitution
per task function, so the template carries the file's text byte for byte and the local runner executes
the same text.
"""

from __future__ import annotations

from aws_cdk import Fn, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra import settings
from infra.permissions import ANY_RESOURCE, LOGGING_ACTIONS, PERMISSIONS, Grant
from statemachine import TASK_FUNCTIONS, TaskFunction, read_definition


class EndpointUpdateWorkflow(Construct):
    """The seven task functions, each with its own role, and the STANDARD state machine that calls them."""

    def __init__(self, scope: Construct, construct_id: str, *, powertools_layer_version: int) -> None:
        super().__init__(scope, construct_id)

        powertools = lambda_.LayerVersion.from_layer_version_arn(
            self,
            "PowertoolsLayer",
            settings.powertools_layer_arn(Stack.of(self).region, powertools_layer_version),
        )
        self.functions: dict[str, lambda_.Function] = {
            task.folder: _task_function(self, task, powertools) for task in TASK_FUNCTIONS
        }

        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
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
                resources=[function.function_arn for function in self.functions.values()],
            )
        )


def _task_function(scope: Construct, task: TaskFunction, powertools: lambda_.ILayerVersion) -> lambda_.Function:
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
        role.add_to_policy(_statement(grant))
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
        environment=dict(settings.ENVIRONMENT),
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


def _statement(grant: Grant) -> iam.PolicyStatement:
    return iam.PolicyStatement(
        actions=list(grant.actions),
        resources=[resource if resource == ANY_RESOURCE else Fn.sub(resource) for resource in grant.resources],
        conditions={operator: dict(values) for operator, values in grant.conditions.items()} or None,
    )
