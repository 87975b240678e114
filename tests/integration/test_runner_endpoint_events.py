"""The local runner delivers the emulator's endpoint events as the stack would: PutEvents on the default bus, the
stack's rule (names.endpoint_event_pattern with the runner's endpoint name patterns), the resume function.

No execution here: the events come from SageMaker calls made by the test; what reaches the resume function, and
when on the emulated clock, is read from `runner.endpoint_event_deliveries`.
"""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest

from endpoint_updater.offline import emulation
from endpoint_updater.offline.runner import ASYNC_RETRY_WAITS_SECONDS, LocalRunner
from endpoint_updater.offline.scenario import create_endpoint

ENDPOINT = "churn-prod"
UPDATE_SECONDS = 600.0
REAL = 0.5
"""Seconds of real time a few calls may add to an emulated moment."""


@pytest.fixture
def churn_runner() -> Iterator[LocalRunner]:
    """The stack deployed with endpointNamePattern `churn-*`."""
    with LocalRunner(endpoint_name_patterns=("churn-*",)) as local:
        yield local


def update(runner: LocalRunner, endpoint: str = ENDPOINT, seconds: float = UPDATE_SECONDS) -> float:
    """Start an update of `seconds` through SageMaker's API; returns the emulated moment it started."""
    sm = boto3.client("sagemaker", region_name=runner.region)
    sm.create_endpoint_config(EndpointConfigName=f"{endpoint}-config-2", ProductionVariants=[
        {"VariantName": "AllTraffic", "ModelName": "churn-v8", "InstanceType": "ml.m5.large",
         "InitialInstanceCount": 2, "InitialVariantWeight": 1.0}])
    emulation.configure_update(endpoint, seconds=seconds)
    started = runner.clock.monotonic()
    sm.update_endpoint(EndpointName=endpoint, EndpointConfigName=f"{endpoint}-config-2")
    return started


def statuses(runner: LocalRunner) -> list[str]:
    return [d.event["detail"]["EndpointStatus"] for d in runner.endpoint_event_deliveries]


def test_an_update_s_events_reach_the_resume_function_at_their_moment_as_whole_events(
        churn_runner: LocalRunner) -> None:
    # Given an endpoint the stack's pattern matches, and events delivered after a fixed 2 s
    runner = churn_runner
    create_endpoint(ENDPOINT)
    runner.endpoint_events.configure(delay=2.0)
    runner.sleep(10)

    # When a 600 s update runs and the caller lets an hour pass
    started = update(runner)
    runner.sleep(3600)

    # Then the resume function got UPDATING 2 s after the call and IN_SERVICE 2 s after the update's end, each
    # as the whole event EventBridge gives a target, and answered each (no update waits: nothing to resume)
    # (to within the real time the calls themselves take: the clock runs at real speed while anything is busy)
    late = [d for d in runner.endpoint_event_deliveries if d.at >= started]
    assert [(d.event["detail"]["EndpointStatus"], pytest.approx(d.at - started, abs=REAL)) for d in late] == [
        ("UPDATING", 2.0), ("IN_SERVICE", UPDATE_SECONDS + 2.0)]
    event = late[-1].event
    assert (event["source"], event["detail-type"]) == ("aws.sagemaker", "SageMaker Endpoint State Change")
    assert set(event) >= {"version", "id", "account", "time", "region", "resources", "detail"}
    assert event["detail"]["EndpointConfigName"] == f"{ENDPOINT}-config-2"
    assert all(d.error is None and d.attempt == 1 for d in late)


def test_an_endpoint_outside_the_stack_s_pattern_is_sent_but_never_reaches_the_function(
        churn_runner: LocalRunner) -> None:
    runner = churn_runner
    create_endpoint("fraud-prod")
    update(runner, "fraud-prod", seconds=60)
    runner.sleep(600)

    assert [s.event["detail"]["EndpointStatus"] for s in runner.endpoint_events.sent_for("fraud-prod")] == [
        "CREATING", "IN_SERVICE", "UPDATING", "IN_SERVICE"]
    assert len(runner.endpoint_events.delivered_for("fraud-prod")) == 4
    assert runner.endpoint_event_deliveries == []


def test_every_endpoint_by_default(runner: LocalRunner) -> None:
    create_endpoint("fraud-prod")
    runner.sleep(10)
    assert sorted(statuses(runner)) == ["CREATING", "IN_SERVICE"]


def test_the_switches_apply_between_sagemaker_and_the_rule(churn_runner: LocalRunner) -> None:
    # Given every event duplicated
    runner = churn_runner
    runner.endpoint_events.configure(duplication=1.0)
    create_endpoint(ENDPOINT)
    update(runner, seconds=60)
    runner.sleep(600)

    # Then the function is invoked twice with each (the same change, as two events)
    assert sorted(statuses(runner)) == sorted(["CREATING", "IN_SERVICE", "UPDATING", "IN_SERVICE"] * 2)


def test_delivery_off_invokes_nothing(churn_runner: LocalRunner) -> None:
    churn_runner.endpoint_events.configure(delivery=False)
    create_endpoint(ENDPOINT)
    update(churn_runner, seconds=60)
    churn_runner.sleep(600)

    assert churn_runner.endpoint_event_deliveries == []


def test_a_resume_function_error_is_retried_twice_one_then_two_minutes_later_as_lambda_does(
        churn_runner: LocalRunner) -> None:
    # Given an endpoint, and the resume function failing its next three invocations
    runner = churn_runner
    create_endpoint(ENDPOINT)
    runner.sleep(10)
    runner.endpoint_events.configure(delay=1.0)
    runner.crash("resume_update", RuntimeError("resume crashed"), times=3)

    # When one event arrives (a status forced on the endpoint)
    started = runner.clock.monotonic()
    emulation.set_endpoint_status(ENDPOINT, "SystemUpdating")
    runner.sleep(600)

    # Then Lambda's asynchronous invocation tried it three times: at once, 1 min later, then 2 min after that
    attempts = [(d.attempt, pytest.approx(d.at - started, abs=REAL), d.error)
                for d in runner.endpoint_event_deliveries if d.at >= started]
    first, second = ASYNC_RETRY_WAITS_SECONDS
    assert attempts == [(1, 1.0, "RuntimeError"), (2, 1.0 + first, "RuntimeError"),
                        (3, 1.0 + first + second, "RuntimeError")]

