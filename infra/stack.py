"""The deployable unit: a thin Stack that composes the workflow and publishes how to start it."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from infra import settings
from infra.workflow import EndpointUpdateWorkflow


class EndpointUpdaterStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, description=settings.STACK_DESCRIPTION, **kwargs)

        self.workflow = EndpointUpdateWorkflow(
            self, "Workflow", powertools_layer_version=_powertools_layer_version(self),
            record_retention_days=_record_retention_days(self),
        )

        CfnOutput(
            self,
            "StateMachineArn",
            value=self.workflow.state_machine.state_machine_arn,
            description="Start an update with StartExecution on this state machine.",
        )
        CfnOutput(self, "StateMachineName", value=self.workflow.state_machine.state_machine_name)
        CfnOutput(self, "UpdatesTableName", value=self.workflow.table.table_name,
                  description="Locks, scaling snapshots and progress of updates, one record per update.")


def _powertools_layer_version(scope: Construct) -> int:
    key = settings.POWERTOOLS_LAYER_VERSION_CONTEXT
    value = scope.node.try_get_context(key)
    # From cdk.json it is a number; from `-c key=N` on the command line it is a string.
    if isinstance(value, bool) or not str(value).isdigit() or int(value) < 1:
        raise ValueError(f"context value {key!r} must be a positive layer version number, got {value!r}")
    return int(value)


def _record_retention_days(scope: Construct) -> int:
    key = settings.RECORD_RETENTION_CONTEXT
    value = scope.node.try_get_context(key)
    if value is None:
        return settings.DEFAULT_RECORD_RETENTION_DAYS
    low, high = settings.RECORD_RETENTION_RANGE
    if isinstance(value, bool) or not str(value).isdigit() or not low <= int(value) <= high:
        raise ValueError(f"context value {key!r} must be a whole number of days from {low} to {high}, got {value!r}")
    return int(value)
