"""What starts an update besides StartExecution: EventBridge rules, each turned into one execution.

- "Endpoint Update Requested" on the stack's own request bus, from the configured source and the accounts
  of the configured principals: its detail is the workflow input. The bus's resource policy names who may
  put events on it, so the default bus (where any principal with events:PutEvents can send any custom
  source) starts nothing.
- "SageMaker Model Package State Change" with ModelApprovalStatus "Approved" for the configured model package
  groups, from this account: the approved package is deployed to the group's endpoint and variant. SageMaker
  sends it to the default bus only.

Both go through the start function, which names the execution after the event (a duplicate delivery starts
nothing) rather than letting the rule start the state machine directly (EventBridge's Step Functions target
cannot choose the execution name), and records in the input who asked.
"""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import Aws, Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from endpoint_updater import names
from endpoint_updater.names import DEPLOYMENTS_ENV, UPDATE_REQUESTED
from infra.config import RequestPrincipals

PUT_EVENTS = "events:PutEvents"


class Triggers(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, start_function: lambda_.Function, source: str,
                 model_package_deployments: dict[str, dict[str, Any]], dead_letters: sqs.IQueue,
                 principals: RequestPrincipals | None = None) -> None:
        """`principals`: who may send update requests; by default principals of this stack's account only."""
        super().__init__(scope, construct_id)
        principals = principals or RequestPrincipals()
        start_function.add_environment(DEPLOYMENTS_ENV, json.dumps(model_package_deployments, sort_keys=True))

        def target() -> targets.LambdaFunction:
            return targets.LambdaFunction(start_function, retry_attempts=names.EVENT_RETRY_ATTEMPTS,
                                          max_event_age=Duration.hours(names.EVENT_MAX_AGE_HOURS),
                                          dead_letter_queue=dead_letters)

        self.request_bus = events.EventBus(
            self, "UpdateRequestBus", event_bus_name=f"{Stack.of(self).stack_name}-UpdateRequests",
            description=f"{UPDATE_REQUESTED!r} events for endpoint-updater, from the principals its policy names.")
        self._allow_senders(source, principals)
        accounts = list(principals.sender_accounts()) or [Aws.ACCOUNT_ID]
        self.update_requested = events.Rule(
            self, "UpdateRequested", event_bus=self.request_bus,
            description=f"Start an endpoint update for each {UPDATE_REQUESTED!r} event from {source} on the "
                        "request bus.",
            event_pattern=_pattern(names.update_request_pattern(source, accounts)),
            targets=[target()],
        )
        self.package_approved: events.Rule | None = None
        if model_package_deployments:
            self.package_approved = events.Rule(
                self, "ModelPackageApproved",
                description="Deploy each approved model package of the configured groups to its endpoint.",
                event_pattern=_pattern(names.package_approval_pattern(sorted(model_package_deployments),
                                                                      Aws.ACCOUNT_ID)),
                targets=[target()],
            )

    def _allow_senders(self, source: str, principals: RequestPrincipals) -> None:
        """The bus's resource policy: the named principals may put update requests, and nobody else may put
        anything.

        The Allow admits the named accounts and roles, for this source and detail-type only (EventBridge User
        Guide, "Example policy: Send events to a custom bus in a different account"). An Allow alone would
        not keep out principals of this account whose own IAM policies allow events:PutEvents: an explicit
        Deny in a resource-based policy applies to every caller, the bus's own account included (IAM User
        Guide, "Policy evaluation logic"), so the Deny refuses every principal outside the named accounts
        and roles (the global condition keys aws:PrincipalAccount and aws:PrincipalArn, which for an assumed
        role session is the role's ARN).
        """
        bus_arn = self.request_bus.event_bus_arn
        named = principals.accounts or (() if principals.roles else (Aws.ACCOUNT_ID,))
        self._statement("AllowNamedRequesters", iam.PolicyStatement(
            sid="AllowNamedRequesters", effect=iam.Effect.ALLOW, actions=[PUT_EVENTS], resources=[bus_arn],
            principals=[*(iam.AccountPrincipal(account) for account in named),
                        *(iam.ArnPrincipal(role) for role in principals.roles)],
            conditions={"ForAllValues:StringEquals": {"events:source": [source],
                                                      "events:detail-type": [UPDATE_REQUESTED]}},
        ))
        outside: dict[str, list[str]] = {}
        if named:
            outside["aws:PrincipalAccount"] = list(named)
        if principals.roles:
            outside["aws:PrincipalArn"] = list(principals.roles)
        self._statement("DenyOtherPrincipals", iam.PolicyStatement(
            sid="DenyOtherPrincipals", effect=iam.Effect.DENY, actions=[PUT_EVENTS], resources=[bus_arn],
            principals=[iam.AnyPrincipal()], conditions={"StringNotEquals": outside},
        ))


    def _statement(self, sid: str, statement: iam.PolicyStatement) -> None:
        # One AWS::Events::EventBusPolicy per statement, its StatementId the statement's Sid, so the policy
        # reads the same in the template and in DescribeEventBus.
        events.CfnEventBusPolicy(self, sid, event_bus_name=self.request_bus.event_bus_name, statement_id=sid,
                                 statement=statement.to_json())


def _pattern(pattern: dict[str, Any]) -> events.EventPattern:
    """A pattern of endpoint_updater.names (shared with the local runner) as the CDK takes it."""
    return events.EventPattern(source=pattern.get("source"), detail_type=pattern.get("detail-type"),
                               account=pattern.get("account"), detail=pattern.get("detail"))
