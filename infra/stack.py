"""The deployable unit: a thin Stack that composes the workflow, its notifications and its monitoring."""

from __future__ import annotations

from typing import Any

from aws_cdk import Annotations, CfnOutput, Stack
from constructs import Construct

from endpoint_updater import names
from infra import config, nag, settings
from infra.config import DeploymentSettings
from infra.monitoring import Monitoring
from infra.notifications import Notifications
from infra.rollout import Rollout, RolloutProps
from infra.triggers import Triggers
from infra.workflow import EndpointUpdateWorkflow, WorkflowProps

EVERY_ENDPOINT_WARNING = "endpoint-updater:endpointNamePatternEveryEndpoint"
EVERY_ENDPOINT_MESSAGE = (
    f"{config.ENDPOINT_NAME_PATTERN} is '*': the workflow may update every SageMaker endpoint of the account and "
    f"region. Scope it to your endpoints, e.g. -c {config.ENDPOINT_NAME_PATTERN}='churn-*' (or in cdk.json).")


class EndpointUpdaterStack(Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, deployment: DeploymentSettings | None = None, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, description=settings.STACK_DESCRIPTION, **kwargs)
        # Every synthesis of this stack is checked: an unacknowledged finding stops it.
        nag.enforce(self)
        deployment = deployment or DeploymentSettings.from_context(self)
        if deployment.endpoint_name_pattern == "*":
            Annotations.of(self).add_warning_v2(EVERY_ENDPOINT_WARNING, EVERY_ENDPOINT_MESSAGE)

        self.notifications = Notifications(self, "Notifications", subscribers=deployment.subscribers)
        self.workflow = EndpointUpdateWorkflow(
            self,
            "Workflow",
            props=WorkflowProps(
                powertools_layer_version=deployment.powertools_layer_version,
                endpoint_name_pattern=deployment.endpoint_name_pattern,
                notification_topic=self.notifications.topic,
                record_retention_days=deployment.record_retention_days,
                guardrails=deployment.guardrails,
            ),
        )
        self.monitoring = Monitoring(
            self, "Monitoring", state_machine=self.workflow.state_machine, topic=self.notifications.topic,
            functions=self.workflow.functions, undelivered_events=self.workflow.undelivered_events,
        )
        self.rollout = Rollout(
            self, "Rollout", props=RolloutProps(
                update_state_machine=self.workflow.state_machine,
                update_state_machine_name=self.workflow.state_machine_name,
                updates_table=self.workflow.table,
                powertools_layer_version=deployment.powertools_layer_version,
                endpoint_name_pattern=deployment.endpoint_name_pattern,
                guardrails=deployment.guardrails,
            ),
        )
        self.triggers = Triggers(
            self, "Triggers", start_function=self.workflow.functions["start_update"],
            source=deployment.update_request_source, principals=deployment.update_request_principals,
            model_package_deployments=deployment.model_package_deployments,
            dead_letters=self.workflow.undelivered_events,
        )

        # The command line finds the workflow by these output names.
        CfnOutput(
            self,
            names.STATE_MACHINE_OUTPUT,
            value=self.workflow.state_machine.state_machine_arn,
            description="Start an update with StartExecution on this state machine.",
        )
        CfnOutput(self, "StateMachineName", value=self.workflow.state_machine.state_machine_name)
        CfnOutput(self, names.ROLLOUT_STATE_MACHINE_OUTPUT, value=self.rollout.state_machine.state_machine_arn,
                  description="Start a fleet rollout with StartExecution on this state machine.")
        CfnOutput(self, "RolloutStateMachineName", value=self.rollout.state_machine.state_machine_name)
        CfnOutput(self, names.TABLE_OUTPUT, value=self.workflow.table.table_name,
                  description="Locks, scaling snapshots and progress of updates, one record per update.")
        CfnOutput(self, names.UPDATE_REQUEST_BUS_OUTPUT, value=self.triggers.request_bus.event_bus_name,
                  description="Send \"Endpoint Update Requested\" events to this event bus.")
        CfnOutput(
            self,
            "NotificationTopicArn",
            value=self.notifications.topic.topic_arn,
            description="Alarms and end-of-update messages are published here.",
        )
