"""Turning a triggering event into one execution: its input, and a name derived from the event.

EventBridge delivers at least once. Step Functions keeps execution names unique per state machine for 90
days (StartExecution answers ExecutionAlreadyExists, or returns the running execution for the same name and
input), so an execution named after the event that asked for it runs once however often it arrives.

A name can be predicted, so anyone allowed to call StartExecution could take it first with another input (a
dry run, say) and have the real event dropped as a duplicate. So the name also carries a digest of the
input, and a name found taken is only a duplicate when the existing execution's input is the same; otherwise
the start fails loudly (ExecutionNameConflict, and the TriggerNameConflicts metric).

The input records who asked (`Requester`): the event's account, which EventBridge sets to the sender's
account, its source and, for an update request, its id and the `RequestedBy` the sender wrote.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import ClientError

from endpoint_updater.core.aws import client, error_code
from endpoint_updater.core.errors import ExecutionNameConflict, InvalidInput
from endpoint_updater.core.observability import logger, metrics
from endpoint_updater.names import (
    DEPLOYMENTS_ENV,
    NAME_CONFLICT_METRIC,
    PACKAGE_STATE_CHANGE,
    REQUESTED_BY,
    REQUESTER,
    STATE_MACHINE_ENV,
    UPDATE_REQUESTED,
    execution_arn,
)

"""JSON: model package group name -> {"EndpointName": ..., "VariantName": ..., optional workflow input fields}."""
NAME_LIMIT = 80
REQUESTED_BY_LIMIT = 256
_NOT_ALLOWED = re.compile(r"[^0-9A-Za-z_-]")


def execution_name(prefix: str, identity: str, readable: str = "") -> str:
    """At most 80 characters of 0-9A-Za-z-_: a readable part for people and a hash of `identity` for
    uniqueness."""
    digest = hashlib.sha256(identity.encode()).hexdigest()[:20]
    head = _NOT_ALLOWED.sub("-", f"{prefix}-{readable}" if readable else prefix)
    return f"{head[:NAME_LIMIT - len(digest) - 1]}-{digest}"


def canonical(workflow_input: dict[str, Any]) -> str:
    return json.dumps(workflow_input, sort_keys=True, separators=(",", ":"))


def start(event: dict[str, Any]) -> dict[str, Any]:
    """Start the execution a triggering event asks for; a duplicate delivery starts nothing."""
    workflow_input, name = request_from(event)
    state_machine = os.environ[STATE_MACHINE_ENV]
    sfn = client("stepfunctions")
    try:
        arn = sfn.start_execution(stateMachineArn=state_machine, name=name, input=json.dumps(workflow_input))[
            "executionArn"]
    except ClientError as error:
        if error_code(error) != "ExecutionAlreadyExists":
            raise
        arn = execution_arn(state_machine, name)
        existing = sfn.describe_execution(executionArn=arn)
        if _parsed(existing.get("input")) != workflow_input:
            _name_taken(event, arn)
        logger.info("duplicate trigger: the update was started already", extra={"execution": arn})
        return {"ExecutionArn": arn, "Started": False}
    logger.info("update started", extra={"execution": arn, "event": event.get("id")})
    return {"ExecutionArn": arn, "Started": True}


def _parsed(text: Any) -> Any:
    try:
        return json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return None


def _name_taken(event: dict[str, Any], arn: str) -> None:
    """The name this event's execution needs was taken with another input: counted, logged and raised, so the
    TriggerNameConflicts and TriggerFailed alarms fire. The metric is flushed here because the error ends the
    invocation."""
    metrics.add_metric(name=NAME_CONFLICT_METRIC, unit=MetricUnit.Count, value=1)
    metrics.add_metadata(key="Execution", value=arn)
    metrics.flush_metrics()
    logger.error("trigger name taken by an execution with another input",
                 extra={"execution": arn, "event": event.get("id"), "source": event.get("source")})
    raise ExecutionNameConflict(
        f"execution {arn} exists with another input than {event.get('detail-type')!r} event {event.get('id')} "
        f"from {event.get('source')} (account {event.get('account')}) asks for: it was not started. The name may "
        "have been taken on purpose; compare the existing execution's input and who started it (CloudTrail "
        "StartExecution), then start the update by hand if it is wanted")


def request_from(event: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The workflow input and the execution name for a triggering EventBridge event."""
    kind = event.get("detail-type")
    if kind == UPDATE_REQUESTED:
        detail = event.get("detail")
        if not isinstance(detail, dict):
            raise InvalidInput("detail: an \"Endpoint Update Requested\" event's detail must be the workflow input, "
                               "a JSON object with at least EndpointName")
        workflow_input = {key: value for key, value in detail.items() if key != REQUESTED_BY}
        workflow_input[REQUESTER] = _requester(event, detail)
        endpoint = str(detail.get("EndpointName", ""))
        # The event id is what EventBridge keeps for a redelivered event, and the input is the same then.
        identity = f"{event.get('source')}/{event.get('id')}/{canonical(workflow_input)}"
        return workflow_input, execution_name("requested", identity, endpoint)
    if kind == PACKAGE_STATE_CHANGE:
        return _approved_package(event.get("detail") or {}, _requester(event, {}))
    raise InvalidInput(f"detail-type: {kind!r} is not a trigger of this workflow; allowed: {UPDATE_REQUESTED!r}, "
                       f"{PACKAGE_STATE_CHANGE!r}")


def _requester(event: dict[str, Any], detail: dict[str, Any]) -> dict[str, str]:
    """Who asked, as the workflow input records it. Account and source come from the event (EventBridge sets
    the account to the sender's); RequestedBy is what the sender wrote. An approval's record leaves out the
    event id: every event about the same approval must give the same input."""
    if REQUESTER in detail:
        raise InvalidInput(f"detail.{REQUESTER}: set by the start function from the event; say who asked with "
                           f"detail.{REQUESTED_BY}")
    requester = {key: str(event[field]) for key, field in (("Account", "account"), ("Source", "source"))
                 if event.get(field)}
    if event.get("detail-type") == UPDATE_REQUESTED and event.get("id"):
        requester["EventId"] = str(event["id"])
    if REQUESTED_BY in detail:
        asked = detail[REQUESTED_BY]
        if not isinstance(asked, str) or not 1 <= len(asked) <= REQUESTED_BY_LIMIT:
            raise InvalidInput(f"detail.{REQUESTED_BY}: {asked!r} is not allowed; give who asked (a person, a "
                               f"pipeline run) as text of 1 to {REQUESTED_BY_LIMIT} characters")
        requester[REQUESTED_BY] = asked
    return requester


def _approved_package(detail: dict[str, Any], requester: dict[str, str]) -> tuple[dict[str, Any], str]:
    """An approved package of a configured group: deploy it to the group's endpoint and variant. The execution
    is named after the package version (and the input), so every event about the same approval starts one
    update."""
    group, arn = detail.get("ModelPackageGroupName"), detail.get("ModelPackageArn")
    if detail.get("ModelApprovalStatus") != "Approved":
        raise InvalidInput(f"detail.ModelApprovalStatus: {detail.get('ModelApprovalStatus')!r}; only 'Approved' "
                           "packages are deployed")
    deployments = json.loads(os.environ.get(DEPLOYMENTS_ENV) or "{}")
    if group not in deployments:
        raise InvalidInput(f"detail.ModelPackageGroupName: {group!r} is not deployed by this stack; configured "
                           f"groups: {', '.join(sorted(deployments)) or 'none'}")
    target = dict(deployments[group])
    variant = target.pop("VariantName")
    workflow_input = {**target, "ModelPackage": {"ModelPackageArn": arn, "VariantName": variant},
                      REQUESTER: requester}
    return workflow_input, execution_name("approved", f"{arn}/{canonical(workflow_input)}",
                                          str(target["EndpointName"]))
