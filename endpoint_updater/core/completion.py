"""Learning that an update (or a capacity raise) has ended: SageMaker's endpoint events, and polls.

With `Completion` "events" the workflow waits in a callback task (`.waitForTaskToken`). The await function it
invokes stores the task token with the update record, then looks at the endpoint once itself: an event sent
before the token was stored is covered by that look. SageMaker's "SageMaker Endpoint State Change" and
"SageMaker Endpoint Deployment State Change" events invoke the resume function. Both end in `resolve`: the
event is only a hint (its delivery is best effort: late, repeated, out of order or lost, and it carries no
FailureReason), so DescribeEndpoint decides, through the same check the polling path runs. Done, or one of
the check's errors: the one caller that claims the token sends the outcome (SendTaskSuccess with the check's
result, which has the shape of CheckEndpoint's output, or SendTaskFailure with the check's error name and a
cause in the Lambda runtime's JSON, as a function's error reads). Still busy: nothing, the next event or the
safety-net poll decides.

A token Step Functions no longer waits for (the wait timed out and the safety-net poll went on; a duplicate)
is refused with TaskTimedOut, InvalidToken or TaskDoesNotExist ("SendTaskSuccess" API reference, Errors):
nothing else is done.

Every path that learns of the end publishes `CompletionDetectionDelay`: seconds from the endpoint's
LastModifiedTime (its final status) to that moment, with the dimension `Path`.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import ClientError

from endpoint_updater.core import clock, endpoint, store
from endpoint_updater.core.aws import client, error_code
from endpoint_updater.core.errors import (
    CapacityRaiseFailed,
    EndpointNotFound,
    EndpointUpdateFailed,
    EndpointUpdateRollbackFailed,
    EndpointUpdateRolledBack,
    EndpointUpdateTimedOut,
)
from endpoint_updater.core.observability import logger, publish_now
from endpoint_updater.core.request import DEFAULT_POLL_INTERVAL_SECONDS

EVENTS = "events"
POLLING = "polling"
PHASES = ("Update", "Capacity")

# The `Path` dimension of the detection delay: how the workflow learned that the endpoint's change ended.
PATH_EVENT = "event"
PATH_AWAIT = "await"
PATH_SAFETY_NET = "safety-net"
PATH_POLLING = "polling"
DETECTION_DELAY_METRIC = "CompletionDetectionDelay"

# What the check raises when the wait is over without success: sent with SendTaskFailure under the same name.
CHECK_ERRORS = (EndpointUpdateRolledBack, EndpointUpdateFailed, EndpointUpdateRollbackFailed, EndpointUpdateTimedOut,
                CapacityRaiseFailed, EndpointNotFound)
# "SendTaskSuccess" / "SendTaskFailure" API reference, Errors: the token is not (or no longer) awaited.
STALE_TOKEN_ERRORS = frozenset({"TaskTimedOut", "InvalidToken", "TaskDoesNotExist"})


def run_check(params: dict[str, Any], description: dict[str, Any] | None = None) -> dict[str, Any]:
    """The check of CheckUpdate/CheckCapacity, from their Parameters (which a callback wait hands on as `Check`)."""
    # An execution started before a field was passed here waits its own way, whatever this says.
    return endpoint.check(params["EndpointName"], params["ExpectedConfigName"], params["Deadline"],
                          interval=params.get("PollIntervalSeconds", DEFAULT_POLL_INTERVAL_SECONDS),
                          capacity=params.get("Capacity"), execution_arn=params.get("ExecutionId"),
                          safety_interval=params.get("SafetyIntervalSeconds"), description=description)


def poll(params: dict[str, Any]) -> dict[str, Any]:
    """CheckEndpoint: one poll, the polling loop's or the events path's safety net."""
    path = PATH_SAFETY_NET if params.get("Completion") == EVENTS else PATH_POLLING
    description = endpoint.describe_endpoint(params["EndpointName"])
    try:
        result = run_check(params, description)
    except CHECK_ERRORS as error:
        if not isinstance(error, EndpointUpdateTimedOut):
            detected(description, path)
        raise
    if result["Done"]:
        detected(description, path)
    return result


def await_endpoint(task_token: str, phase: str, check: dict[str, Any], execution_arn: str) -> dict[str, Any]:
    """The callback wait's function: store the token first, then look once (an event that came before the token
    was stored found nothing to resume)."""
    if phase not in PHASES:
        raise ValueError(f"Phase {phase!r}: give one of {', '.join(PHASES)}")
    waiting = store.Waiting(endpoint=check["EndpointName"], execution_arn=execution_arn, task_token=task_token,
                            phase=phase, check=check, since=clock.now().isoformat(timespec="seconds"))
    store.store_waiting(waiting)
    return resolve(waiting, PATH_AWAIT)


def resume(event: dict[str, Any]) -> dict[str, Any]:
    """The resume function: SageMaker's event names an endpoint; resolve the wait of the execution that holds its
    lock, if it waits. Anything else (no such wait, an event for an endpoint no update runs on) changes nothing."""
    detail = event.get("detail") if isinstance(event, dict) else None
    if not isinstance(detail, dict):
        detail = {}
    name = detail.get("EndpointName")
    if not isinstance(name, str) or not name:
        logger.warning("event without an EndpointName ignored", extra={"event_id": (event or {}).get("id")})
        return {"Resumed": False, "Reason": "the event names no endpoint"}
    waiting = store.read_waiting(name)
    if waiting is None:
        logger.info("no execution waits for this endpoint's event",
                    extra={"endpoint": name, "status": detail.get("EndpointStatus")})
        return {"Resumed": False, "Reason": f"no execution waits for an event of endpoint {name}"}
    logger.set_correlation_id(waiting.execution_arn)
    return resolve(waiting, PATH_EVENT)


def resolve(waiting: store.Waiting, path: str) -> dict[str, Any]:
    """DescribeEndpoint decides: busy, nothing; done or failed, claim the token and send the outcome."""
    description: dict[str, Any] | None = None
    failure: Exception | None = None
    try:
        description = endpoint.describe_endpoint(waiting.endpoint)
        result = run_check(waiting.check, description)
    except CHECK_ERRORS as error:
        failure = error
    else:
        if not result["Done"]:
            return {"Resumed": False, "Reason": f"endpoint {waiting.endpoint} is still {result['EndpointStatus']}"}
    if not store.claim_waiting(waiting):
        return {"Resumed": False, "Reason": "the wait was resumed already (a duplicate, or a concurrent look)"}
    sfn = client("stepfunctions")
    try:
        if failure is None:
            sfn.send_task_success(taskToken=waiting.task_token, output=json.dumps(result))
        else:
            sfn.send_task_failure(taskToken=waiting.task_token, error=type(failure).__name__,
                                  cause=failure_cause(failure))
    except ClientError as error:
        code = error_code(error)
        if code in STALE_TOKEN_ERRORS:
            logger.info("stale task token ignored", extra={"endpoint": waiting.endpoint, "error": code})
            return {"Resumed": False, "Reason": f"Step Functions no longer waits for this token ({code})"}
        store.unclaim_waiting(waiting)
        raise
    outcome = "succeeded" if failure is None else type(failure).__name__
    logger.info("wait resumed", extra={"endpoint": waiting.endpoint, "phase": waiting.phase, "path": path,
                                       "outcome": outcome})
    if description is not None and not isinstance(failure, EndpointUpdateTimedOut):
        detected(description, path)
    return {"Resumed": True, "Outcome": outcome, "Path": path}


def failure_cause(error: Exception) -> str:
    """A failure's cause as the Lambda runtime writes a function's error, so that the state machine reads its
    message the same way (IsFunctionError, ReadErrorMessage) whichever way the error arrived."""
    return json.dumps({"errorType": type(error).__name__, "errorMessage": str(error)})


def detection_delay(description: dict[str, Any], now: dt.datetime | None = None) -> float:
    """Seconds from the endpoint's last status change to now (0 when the clocks disagree)."""
    changed = description.get("LastModifiedTime")
    if isinstance(changed, str):
        changed = dt.datetime.fromisoformat(changed)
    if not isinstance(changed, dt.datetime):
        return 0.0
    if changed.tzinfo is None:
        changed = changed.replace(tzinfo=dt.UTC)
    return max(0.0, ((now or clock.now()) - changed).total_seconds())


def detected(description: dict[str, Any], path: str) -> None:
    """Publish the detection delay at once: most of the functions that learn of the end flush no metrics."""
    publish_now(DETECTION_DELAY_METRIC, MetricUnit.Seconds, round(detection_delay(description), 3),
                dimensions={"Path": path}, metadata={"EndpointName": str(description.get("EndpointName", ""))})
