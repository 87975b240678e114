"""Fleet rollouts: the state machine of statemachine/rollout.asl.json and the functions it calls.

Every endpoint update of a rollout is an execution of the update state machine (`startExecution.sync:2`), so
each keeps its lock, snapshot, restore, recovery and notification; this construct adds only the fan-out. The
definition file is deployed as it is, with one substitution per function and one for the update state machine.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aws_cdk import ArnFormat, Fn, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from endpoint_updater.core.guardrails import Guardrails
from infra import config, nag, settings
from infra.permissions import ANY_RESOURCE, ROLLOUT_STATE_MACHINE, ROLLOUT_WILDCARD_REASONS
from infra.workflow import WorkflowProps, _statement, _task_function, _with_names
from statemachine import ROLLOUT_FUNCTIONS, read_rollout_definition


@dataclass(frozen=True)
class RolloutProps:
    """What the rollout needs from the app: the update state machine and the functions' settings."""

    update_state_machine: sfn.IStateMachine
    update_state_machine_name: str
    """Its name, known at synth time: the child executions' ARNs are written with it."""
    updates_table: dynamodb.ITable
    """The updates table: the plan reads the endpoints' locks in it."""
    powertools_layer_version: int
    endpoint_name_pattern: str = config.DEFAULT_ENDPOINT_NAME_PATTERN
    guardrails: Guardrails = field(default_factory=Guardrails)
    log_retention: logs.RetentionDays = settings.LOG_RETENTION


class Rollout(Construct):
    """The rollout functions, each with its own role, and the STANDARD state machine that fans out."""

    def __init__(self, scope: Construct, construct_id: str, *, props: RolloutProps) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.state_machine_name = f"{stack.stack_name}-{construct_id}"
        powertools = lambda_.LayerVersion.from_layer_version_arn(
            self, "PowertoolsLayer", settings.powertools_layer_arn(stack.region, props.powertools_layer_version))
        # The function builder takes the workflow's props: the same layer, pattern, guardrails and log retention.
        function_props = WorkflowProps(powertools_layer_version=props.powertools_layer_version,
                                       endpoint_name_pattern=props.endpoint_name_pattern,
                                       log_retention=props.log_retention, guardrails=props.guardrails)
        # Written from its name, as the workflow writes it for its own functions (the partition as a literal).
        update_arn = stack.format_arn(service="states", resource="stateMachine",
                                      resource_name=props.update_state_machine_name,
                                      arn_format=ArnFormat.COLON_RESOURCE_NAME)
        variables = {"StateMachineName": props.update_state_machine_name, "StateMachineArn": update_arn,
                     "UpdatesTableArn": props.updates_table.table_arn}
        environment = {**settings.ENVIRONMENT, settings.TABLE_ENV: props.updates_table.table_name,
                       settings.STATE_MACHINE_ENV: update_arn}
        self.functions: dict[str, lambda_.Function] = {
            task.folder: _task_function(self, task, powertools, function_props, variables, environment)
            for task in ROLLOUT_FUNCTIONS
        }
        self.logs = logs.LogGroup(
            self, "StateMachineLogs",
            log_group_name=Fn.join("", ["/aws/vendedlogs/states/", stack.stack_name, "-", construct_id]),
            retention=props.log_retention, removal_policy=settings.LOG_REMOVAL_POLICY)
        self.state_machine = sfn.StateMachine(
            self, "StateMachine",
            state_machine_name=self.state_machine_name,
            state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_string(read_rollout_definition()),
            definition_substitutions={
                # A reference: CloudFormation creates the update state machine first.
                "UpdateStateMachineArn": props.update_state_machine.state_machine_arn,
                **{task.placeholder: self.functions[task.folder].function_arn for task in ROLLOUT_FUNCTIONS},
            },
            # The rollout's input, its resolved targets and every endpoint's outcome: the audit trail of a fleet
            # change, as for the update's own executions (infra/workflow.py).
            logs=sfn.LogOptions(destination=self.logs, level=sfn.LogLevel.ALL, include_execution_data=True),
            tracing_enabled=True,
        )
        role = self.state_machine.role
        role.add_to_principal_policy(iam.PolicyStatement(
            actions=["lambda:InvokeFunction"],
            resources=[self.functions[task.folder].function_arn for task in ROLLOUT_FUNCTIONS]))
        # Starting the updates, waiting for them (.sync) and stopping them with the rollout: infra/permissions.py.
        for grant in ROLLOUT_STATE_MACHINE:
            role.add_to_principal_policy(_statement(grant, variables))
        nag.acknowledge(
            role, nag.wildcard_finding(ANY_RESOURCE),
            "Log delivery to CloudWatch Logs (logs:*LogDelivery*, resource policies) and X-Ray tracing actions "
            "support no resource type (Step Functions Developer Guide, IAM policies for logging and X-Ray).")
        nag.acknowledge_wildcards(role, {_with_names(resource, variables): reason
                                         for resource, reason in ROLLOUT_WILDCARD_REASONS.items()})
