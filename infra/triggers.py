"""What starts an update besides StartExecution: EventBridge rules, each turned into one execution.

- "Endpoint Update Requested" from the configured source: its detail is the workflow input.
- "SageMaker Model Package State Change" with ModelApprovalStatus "Approved" for the configured model package
  groups: the approved package is deployed to the group's endpoint and variant.

Both go through the start function, which names the execution after the event (a duplicate delivery starts
nothing) rather than letting the rule start the state machine directly (EventBridge's Step Functions target
cannot choose the execution name).
"""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from endpoint_updater import names
from endpoint_updater.names import DEPLOYMENTS_ENV, PACKAGE_STATE_CHANGE, UPDATE_REQUESTED


class Triggers(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, start_function: lambda_.Function, source: str,
                 model_package_deployments: dict[str, dict[str, Any]], dead_letters: sqs.IQueue) -> None:
        super().__init__(scope, construct_id)
        start_function.add_environment(DEPLOYMENTS_ENV, json.dumps(model_package_deployments, sort_keys=True))

        def target() -> targets.LambdaFunction:
            return targets.LambdaFunction(start_function, retry_attempts=names.EVENT_RETRY_ATTEMPTS,
                                          max_event_age=Duration.hours(names.EVENT_MAX_AGE_HOURS),
                                          dead_letter_queue=dead_letters)

        self.update_requested = events.Rule(
            self, "UpdateRequested",
            description=f"Start an endpoint update for each {UPDATE_REQUESTED!r} event from {source}.",
            event_pattern=events.EventPattern(source=[source], detail_type=[UPDATE_REQUESTED]),
            targets=[target()],
        )
        self.package_approved: events.Rule | None = None
        if model_package_deployments:
            self.package_approved = events.Rule(
                self, "ModelPackageApproved",
                description="Deploy each approved model package of the configured groups to its endpoint.",
                event_pattern=events.EventPattern(
                    source=["aws.sagemaker"], detail_type=[PACKAGE_STATE_CHANGE],
                    detail={"ModelPackageGroupName": sorted(model_package_deployments),
                            "ModelApprovalStatus": ["Approved"]},
                ),
                targets=[target()],
            )
