"""Turning a triggering event into one execution: its input, and a name derived from the event.

EventBridge delivers at least once. Step Functions keeps execution names unique per state machine for 90
days (StartExecution answers ExecutionAlreadyExists, or returns the running execution for the same name and
input), so an execution named after the event that asked for it runs once however often it arrives.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from typing import Any

from botocore.exceptions import ClientError

from endpoint_updater.core.aws import client, error_code
from endpoint_updater.core.errors import InvalidInput
from endpoint_updater.core.observability import logger
from endpoint_updater.names import (
    DEPLOYMENTS_ENV,
    PACKAGE_STATE_CHANGE,
    STATE_MACHINE_ENV,
    UPDATE_REQUESTED,
    execution_arn,
)

"""JSON: model package group name -> {"EndpointName": ..., "VariantName": ..., optional workflow input fields}."""
NAME_LIMIT = 80
_NOT_ALLOWED = re.compile(r"[^0-9A-Za-z_-]")


def execution_name(prefix: str, identity: str, readable: str = "") -> str:
    """At most 80 characters of 0-9A-Za-z-_: a readable part for people and a hash of `identity` for
    uniqueness."""
    digest = hashlib.sha256(identity.encode()).hexdigest()[:20]
    head = _NOT_ALLOWED.sub("-", f"{prefix}-{readable}" if readable else prefix)
    return f"{head[:NAME_LIMIT - len(digest) - 1]}-{digest}"


def start(event: dict[str, Any]) -> dict[str, Any]:
    """Start the execution a triggering event asks for; a duplicate delivery starts nothing."""
    workflow_input, name = request_from(event)
    state_machine = os.environ[STATE_MACHINE_ENV]
    try:
        arn = client("stepfunctions").start_execution(
            stateMachineArn=state_machine, name=name, input=json.dumps(workflow_input))["executionArn"]
    except ClientError as error:
        if error_code(error) != "ExecutionAlreadyExists":
            raise
        arn = execution_arn(state_machine, name)
        logger.info("duplicate trigger: the update was started already", extra={"execution": arn})
        return {"ExecutionArn": arn, "Started": False}
    logger.info("update started", extra={"execution": arn, "event": event.get("id")})
    return {"ExecutionArn": arn, "Started": True}


def request_from(event: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The workflow input and the execution name for a triggering EventBridge event."""
    kind = event.get("detail-type")
    if kind == UPDATE_REQUESTED:
        detail = event.get("detail")
        if not isinstance(detail, dict):
            raise InvalidInput("detail: an \"Endpoint Update Requested\" event's detail must be the workflow input, "
                               "a JSON object with at least EndpointName")
        endpoint = str(detail.get("EndpointName", ""))
        # The event id is what EventBridge keeps for a redelivered event.
        return detail, execution_name("requested", f"{event.get('source')}/{event.get('id')}", endpoint)
    if kind == PACKAGE_STATE_CHANGE:
        return _approved_package(event.get("detail") or {})
    raise InvalidInput(f"detail-type: {kind!r} is not a trigger of this workflow; allowed: {UPDATE_REQUESTED!r}, "
                       f"{PACKAGE_STATE_CHANGE!r}")


def _approved_package(detail: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """An approved package of a configured group: deploy it to the group's endpoint and variant. The execution
    is named after the package version, so every event about the same approval starts one update."""
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
    workflow_input = {**target, "ModelPackage": {"ModelPackageArn": arn, "VariantName": variant}}
    return workflow_input, execution_name("approved", str(arn), str(target["EndpointName"]))
