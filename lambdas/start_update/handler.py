"""Start one workflow execution for a triggering event; a duplicate delivery starts nothing."""

from __future__ import annotations

import json
import os
from typing import Any

from botocore.exceptions import ClientError

from endpoint_updater.core import trigger
from endpoint_updater.core.aws import client, error_code
from endpoint_updater.core.observability import logger, task_handler
from endpoint_updater.names import STATE_MACHINE_ENV


def start_update(event: dict[str, Any]) -> dict[str, Any]:
    workflow_input, name = trigger.request_from(event)
    state_machine = os.environ[STATE_MACHINE_ENV]
    try:
        arn = client("stepfunctions").start_execution(
            stateMachineArn=state_machine, name=name, input=json.dumps(workflow_input))["executionArn"]
    except ClientError as error:
        if error_code(error) != "ExecutionAlreadyExists":
            raise
        arn = f"{state_machine.replace(':stateMachine:', ':execution:')}:{name}"
        logger.info("duplicate trigger: the update was started already", extra={"execution": arn})
        return {"ExecutionArn": arn, "Started": False}
    logger.info("update started", extra={"execution": arn, "event": event.get("id")})
    return {"ExecutionArn": arn, "Started": True}


handler = task_handler(start_update)
