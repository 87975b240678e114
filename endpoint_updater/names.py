"""Names the stack, the functions, the command line and the local runner must agree on, defined once.

Dependency-free on purpose: the CDK app (infra/), the Lambda functions (this package is in their code),
the command line and the local runner all import it, and none of them may pull in another's dependencies.
"""

from __future__ import annotations

# The stack, as app.py deploys it, and the outputs the command line reads.
STACK_NAME = "EndpointUpdater"
STATE_MACHINE_OUTPUT = "StateMachineArn"
ROLLOUT_STATE_MACHINE_OUTPUT = "RolloutStateMachineArn"
TABLE_OUTPUT = "UpdatesTableName"
UPDATE_REQUEST_BUS_OUTPUT = "UpdateRequestBusName"
SERVICE_NAME = "endpoint-updater"
METRICS_NAMESPACE = "EndpointUpdater"

# Environment variables the stack sets on the functions (and the local runner in this process).
TABLE_ENV = "UPDATES_TABLE_NAME"
RETENTION_ENV = "RECORD_RETENTION_DAYS"
STATE_MACHINE_ENV = "STATE_MACHINE_ARN"
TOPIC_ENV = "NOTIFICATION_TOPIC_ARN"
DEPLOYMENTS_ENV = "MODEL_PACKAGE_DEPLOYMENTS"
GUARDRAILS_ENV = "CHANGE_GUARDRAILS"
"""The deployment's change guardrails, as JSON (endpoint_updater/core/guardrails.py); absent means the defaults."""
RESTORE_BACKOFF_ENV = "RESTORE_BACKOFF_SECONDS"
"""Seconds before the restore's second attempt (doubled before each later one); the local runner shortens it."""
# Read by the command line only: the state machine to use when the stack's output is not wanted.
CLI_STATE_MACHINE_ENV = "ENDPOINT_UPDATER_STATE_MACHINE_ARN"
CLI_ROLLOUT_STATE_MACHINE_ENV = "ENDPOINT_UPDATER_ROLLOUT_STATE_MACHINE_ARN"

DEFAULT_RECORD_RETENTION_DAYS = 90

# "Step Functions Execution Status Change" statuses (Step Functions API reference, DescribeExecution).
RUNNING = "RUNNING"
ENDED_STATUSES = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
"""An execution with one of these has ended; each gets its end-of-update message."""
RECOVERED_STATUSES = ("ABORTED", "TIMED_OUT", "FAILED")
"""After these the recovery function restores the scaling (a stop or a timeout runs no Catch; FAILED too, as
a safety net)."""


def execution_arn(state_machine_arn: str, name: str) -> str:
    """An execution's ARN from its state machine's and its name (the two differ only in these parts)."""
    return state_machine_arn.replace(":stateMachine:", ":execution:", 1) + ":" + name


# The events that start an update (infra/triggers.py's rules, the start function's parsing).
UPDATE_REQUESTED = "Endpoint Update Requested"
PACKAGE_STATE_CHANGE = "SageMaker Model Package State Change"
SAGEMAKER_SOURCE = "aws.sagemaker"
DEFAULT_UPDATE_REQUEST_SOURCE = "endpoint-updater"
REQUESTED_BY = "RequestedBy"
"""The field of an update request's detail where the sender says who asked (a person, a pipeline run)."""
REQUESTER = "Requester"
"""The workflow input field that records who asked: the event's account and source, and RequestedBy."""
NAME_CONFLICT_METRIC = "TriggerNameConflicts"
"""Counted when a triggering event's execution name is already taken by an execution with another input."""


def update_request_pattern(source: str, accounts: list[str]) -> dict[str, list[str]]:
    """The event pattern of the request bus's rule: update requests from `source`, sent by `accounts`."""
    return {"source": [source], "detail-type": [UPDATE_REQUESTED], "account": list(accounts)}


def package_approval_pattern(groups: list[str], account: str) -> dict[str, object]:
    """The default bus's rule: SageMaker's approvals of packages in `groups`, in this `account`."""
    return {"source": [SAGEMAKER_SOURCE], "detail-type": [PACKAGE_STATE_CHANGE], "account": [account],
            "detail": {"ModelPackageGroupName": sorted(groups), "ModelApprovalStatus": ["Approved"]}}

# How EventBridge retries delivering an event to a function, for every rule of the stack: its maximum
# (185 attempts over 24 hours), since a dropped recovery or trigger is lost work (EventBridge User Guide,
# "Event retry policy and using dead-letter queues").
EVENT_RETRY_ATTEMPTS = 185
EVENT_MAX_AGE_HOURS = 24

# SageMaker's endpoint events, which wake a workflow waiting for an update or a capacity change to end
# ("Automating Amazon SageMaker with Amazon EventBridge", SageMaker Developer Guide). The stack's rule and the
# local runner use the same pattern.
ENDPOINT_STATE_CHANGE = "SageMaker Endpoint State Change"
ENDPOINT_DEPLOYMENT_STATE_CHANGE = "SageMaker Endpoint Deployment State Change"


def endpoint_event_pattern(endpoint_name_patterns: list[str]) -> dict[str, object]:
    """The default bus's rule for SageMaker's endpoint events, for the endpoints this deployment may touch.

    `endpoint_name_patterns` are endpointNamePattern settings (IAM wildcards `*` and `?`). EventBridge's
    "wildcard" filter knows only `*` ("Content filtering in Amazon EventBridge event patterns", wildcard
    matching), so `?` becomes `*` and runs of `*` one: the rule may match a few more names than IAM allows, never
    fewer, and the function it invokes ignores an event for an endpoint no execution waits on."""
    values: list[object] = []
    for pattern in endpoint_name_patterns:
        if "*" in pattern or "?" in pattern:
            wildcard = pattern.replace("?", "*")
            while "**" in wildcard:
                wildcard = wildcard.replace("**", "*")
            values.append({"wildcard": wildcard})
        else:
            values.append(pattern)
    return {"source": [SAGEMAKER_SOURCE], "detail-type": [ENDPOINT_STATE_CHANGE, ENDPOINT_DEPLOYMENT_STATE_CHANGE],
            "detail": {"EndpointName": values}}
