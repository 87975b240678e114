"""One Logger for every function, with the execution id as correlation id; one decorator for every handler."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger

from updater import store
from updater.aws import translated_errors

logger = Logger(service="endpoint-updater")

Handler = Callable[[dict[str, Any], Any], Any]


def task_handler(step: Callable[[dict[str, Any]], Any], phase: str | None = None) -> Handler:
    """Wrap a step's logic as a Lambda handler.

    With a `phase`, the update's record in the updates table says it was reached once the step succeeds.

    The correlation id is the Step Functions execution id (carried as `ExecutionId`, or in
    `Execution.Id` for the first step), so one search follows one update across all functions.
    AWS errors leave the handler as the workflow's error classes.
    """

    @functools.wraps(step)
    @logger.inject_lambda_context(log_event=False, clear_state=True)
    def handler(event: dict[str, Any], context: Any) -> Any:
        execution_id = event.get("ExecutionId") or (event.get("Execution") or {}).get("Id")
        logger.set_correlation_id(execution_id)
        logger.info("step started", extra={"step": step.__module__})
        try:
            with translated_errors():
                result = step(event)
                if phase is not None:
                    store.progress(event["Request"]["EndpointName"], event["ExecutionId"], phase)
        except Exception as error:
            logger.warning("step failed", extra={"error": type(error).__name__, "reason": str(error)})
            raise
        logger.info("step finished", extra={"step": step.__module__})
        return result

    return handler
