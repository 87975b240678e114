"""The local runner itself: a stop is never lost, and nothing it started outlives it.

moto's backends are process-wide, so an interpreter thread left running by one runner would go on invoking
the functions and write into the next runner's account: the tests of one worker would then depend on their
order.
"""

from __future__ import annotations

import pytest

from endpoint_updater.core import store
from endpoint_updater.offline import emulation, moto_seam
from endpoint_updater.offline.runner import LocalRunner
from endpoint_updater.offline.scenario import (
    VariantSpec,
    attach_scaling,
    create_endpoint,
    endpoint_state,
    scaling_state,
)

ENDPOINT = "churn-prod"
REQUEST = {"EndpointName": ENDPOINT, "PollIntervalSeconds": 1,
           "VariantChanges": [{"VariantName": "AllTraffic", "ModelName": "churn-v8"}]}


@pytest.mark.parametrize("attempt", range(10))
def test_an_execution_stopped_as_soon_as_it_starts_runs_no_step(runner: LocalRunner, attempt: int) -> None:
    # Given an autoscaled endpoint
    config = create_endpoint(ENDPOINT, (VariantSpec(count=2),))
    attach_scaling(ENDPOINT, "AllTraffic")
    before = scaling_state(ENDPOINT)
    # When an execution is stopped right after StartExecution returned
    arn = runner.start(REQUEST, name=f"stopped-at-once-{attempt}")
    runner.stop(arn)
    # Then it ends ABORTED, and the endpoint, its scaling and its lock are as they were
    ended = runner.wait(arn)
    assert ended.status == "ABORTED", (ended.error, ended.cause, ended.states_entered)
    assert endpoint_state(ENDPOINT)["EndpointConfigName"] == config
    assert scaling_state(ENDPOINT) == before
    assert store.read_lock(ENDPOINT).holder is None


def test_a_runner_that_exits_leaves_no_interpreter_thread_running() -> None:
    first = len(moto_seam.interpreter_threads())
    with LocalRunner() as runner:
        create_endpoint(ENDPOINT, (VariantSpec(count=2),))
        attach_scaling(ENDPOINT, "AllTraffic")
        emulation.configure_update(ENDPOINT, seconds=30)
        # Given one execution that has just started and one waiting for the endpoint's update
        waiting = runner.start(REQUEST, name="waiting")
        runner.wait_for_state(waiting, "WaitForUpdateEvent")
        runner.start({**REQUEST, "EndpointName": "other"}, name="just-started")
    # When the runner has exited, then every thread its executions started has ended
    started = moto_seam.interpreter_threads()[first:]
    assert started, "the executions started no interpreter thread"
    assert [t.name for t in started if t.is_alive()] == []
