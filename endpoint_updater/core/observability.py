"""One Logger, Tracer and Metrics for every function, and one decorator for every handler.

Logs carry the Step Functions execution id as correlation id, so one search follows one update across all
functions. Traces go to X-Ray (the functions run with active tracing; Tracer patches boto3 so every AWS
call is a subsegment). Metrics are CloudWatch embedded-metric-format lines in the function's log, in the
METRICS_NAMESPACE namespace with the `service` dimension: the steps that know an outcome count it.
"""

from __future__ import annotations

import datetime as dt
import functools
import warnings
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

from endpoint_updater.core import clock
from endpoint_updater.core.aws import botocore_session_shared, translated_errors
from endpoint_updater.names import METRICS_NAMESPACE

SERVICE = "endpoint-updater"

logger = Logger(service=SERVICE)
with botocore_session_shared():
    tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE)
# A counting step that fails, or a dry run, publishes no metric: that is expected, not worth a warning.
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)

Handler = Callable[[dict[str, Any], Any], Any]
Step = Callable[[dict[str, Any]], Any]
Counter = Callable[[dict[str, Any], Any], None]
"""Called with a step's event and result when the step succeeds, to add its metrics."""


def task_handler(step: Step, *, count: Counter | None = None) -> Handler:
    """Wrap a step's logic as a Lambda handler.

    The correlation id is the Step Functions execution id (carried as `ExecutionId`, or in
    `Execution.Id` for the first step). AWS errors leave the handler as the workflow's error classes.
    A step given a `count` flushes the metrics it adds once per invocation; the others publish none.
    """

    def handler(event: dict[str, Any], context: Any) -> Any:
        execution_id = event.get("ExecutionId") or (event.get("Execution") or {}).get("Id")
        logger.set_correlation_id(execution_id)
        tracer.put_annotation("Step", step.__module__)
        logger.info("step started", extra={"step": step.__module__})
        try:
            with translated_errors():
                result = step(event)
        except Exception as error:
            logger.warning("step failed", extra={"error": type(error).__name__, "reason": str(error)})
            counted_failure(error)
            raise
        if count is not None:
            count(event, result)
        logger.info("step finished", extra={"step": step.__module__})
        return result

    # The response is not captured in the trace: it can carry the whole scaling snapshot, larger than the
    # 64 KB an X-Ray segment's metadata may hold.
    wrapped: Handler = tracer.capture_lambda_handler(handler, capture_response=False)
    if count is not None:
        wrapped = metrics.log_metrics(wrapped)
    wrapped = logger.inject_lambda_context(wrapped, log_event=False, clear_state=True)
    return functools.wraps(step)(wrapped)


def counted_failure(error: Exception) -> None:
    """Publish the metric an error class names (an alarm watches it), at once: the step is failing, and only a
    step given a `count` flushes the shared metrics."""
    name = getattr(error, "metric", None)
    if name:
        publish_now(name, MetricUnit.Count, 1)


def publish_now(name: str, unit: MetricUnit, value: float, dimensions: dict[str, str] | None = None,
                metadata: dict[str, str] | None = None) -> None:
    """One metric, printed at once as an embedded-metric line, unless metrics are disabled: Powertools'
    `single_metric` prints even then (POWERTOOLS_METRICS_DISABLED silences only the shared `metrics`' flush), and
    the command line's --local runs the functions in its own process, where that line would land in its output."""
    if is_metrics_disabled():
        return
    with single_metric(name=name, unit=unit, value=value, namespace=METRICS_NAMESPACE) as metric:
        metric.add_dimension(name="service", value=SERVICE)
        for key, dimension in (dimensions or {}).items():
            metric.add_dimension(name=key, value=dimension)
        for key, item in (metadata or {}).items():
            metric.add_metadata(key=key, value=item)


def update_started(event: dict[str, Any], result: dict[str, Any]) -> None:
    """The request and the endpoint passed validation: an update starts changing things (a dry run does not)."""
    if "Endpoint" not in result:
        return
    metrics.add_metric(name="UpdatesStarted", unit=MetricUnit.Count, value=1)
    metrics.add_metadata(key="EndpointName", value=result["Endpoint"]["EndpointName"])


def update_finished(event: dict[str, Any], result: dict[str, Any]) -> None:
    """The scaling is restored; the event carries `Error` when the update itself failed."""
    failed = "Failure" in result
    metrics.add_metric(name="UpdatesFailed" if failed else "UpdatesSucceeded", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="ScalingRestored", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="UpdateDuration", unit=MetricUnit.Seconds, value=round(update_age(event), 3))
    metrics.add_metadata(key="EndpointName", value=event["Request"]["EndpointName"])
    if failed:
        metrics.add_metadata(key="Error", value=result["Failure"]["Error"])


def update_age(event: dict[str, Any], now: dt.datetime | None = None) -> float:
    """Seconds since the execution started: validation set Deadline to start + Request.TimeoutSeconds."""
    started = dt.datetime.fromisoformat(event["Deadline"]) - dt.timedelta(seconds=event["Request"]["TimeoutSeconds"])
    return max(0.0, ((now or clock.now()) - started).total_seconds())
