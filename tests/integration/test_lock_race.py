"""The race the lock's conditional write exists for: two updates that both found the endpoint free.

`store.check_free` only fails fast; between an execution's check and its write another execution may take
the lock. `store.acquire` must then refuse the late one (EndpointUpdateInProgress, naming the holder) and
change nothing: the lock stays the holder's, and the late execution has no update record.

The interleavings are driven deterministically: by calling the store's functions in order, and, for whole
executions, by running the other execution's first step inside the late one's, between its check and its
write (the local runner invokes functions one at a time, so a step can only be interleaved from within).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import boto3
import pytest

from endpoint_updater.core import store
from endpoint_updater.core.errors import EndpointUpdateInProgress, ScalingRestorePending, UpdateRecordNotFound
from endpoint_updater.offline import emulation
from endpoint_updater.offline.runner import LocalRunner
from endpoint_updater.offline.scenario import (
    VariantSpec,
    attach_scaling,
    create_endpoint,
    endpoint_state,
    scaling_state,
)

ENDPOINT = "churn-prod"
TABLE = "endpoint-updater-updates"
EXECUTIONS = "arn:aws:states:us-east-1:123456789012:execution:endpoint-updater:"
REQUEST = {"EndpointName": ENDPOINT, "PollIntervalSeconds": 1,
           "VariantChanges": [{"VariantName": "AllTraffic", "ModelName": "churn-v8"}]}
OTHER_REQUEST = {**REQUEST, "VariantChanges": [{"VariantName": "AllTraffic", "ModelName": "churn-v9"}]}


def execution(name: str) -> str:
    return EXECUTIONS + name


def snapshot_of(name: str) -> dict[str, Any]:
    return {"Targets": [{"ResourceId": f"endpoint/{ENDPOINT}/variant/AllTraffic", "Captured": name}],
            "Policies": [], "ScheduledActions": [], "Alarms": []}


def record_of(name: str) -> dict[str, str]:
    return {"PreviousConfigName": f"{ENDPOINT}-config-1", "NewConfigName": f"{ENDPOINT}-{name}"}


def lock_item() -> dict[str, Any]:
    """The lock record exactly as stored (every attribute, timestamps included)."""
    item: dict[str, Any] = boto3.client("dynamodb").get_item(
        TableName=TABLE, Key=store.lock_key(ENDPOINT), ConsistentRead=True).get("Item", {})
    return item


def busy(holder: str) -> str:
    return (f"endpoint {ENDPOINT} is being updated by execution {holder}; "
            "start this update again when that one has finished")


def assert_no_record(execution_arn: str) -> None:
    with pytest.raises(UpdateRecordNotFound):
        store.read_update(ENDPOINT, execution_arn)


def test_two_executions_that_both_found_the_lock_free_one_takes_it_and_the_other_changes_nothing(
        runner: LocalRunner) -> None:
    first, second = execution("first"), execution("second")
    # Given two executions that both read the endpoint's lock as free
    assert store.check_free(ENDPOINT, first) is None
    assert store.check_free(ENDPOINT, second) is None
    # When both write it, one after the other
    store.acquire(ENDPOINT, first, None, record_of("first"), snapshot_of("first"))
    taken = lock_item()
    with pytest.raises(EndpointUpdateInProgress) as refused:
        store.acquire(ENDPOINT, second, None, record_of("second"), snapshot_of("second"))
    # Then the first holds the lock, and the second is refused with the documented error, naming the holder
    assert str(refused.value) == busy(first)
    assert store.read_lock(ENDPOINT) == store.Lock(ENDPOINT, holder=first, unrestored=first, last=first)
    # And nothing was changed for the second: the lock record is as the first left it, no record of its own
    assert lock_item() == taken
    assert_no_record(second)
    assert store.snapshot(ENDPOINT, first) == snapshot_of("first")
    assert store.read_update(ENDPOINT, first)["NewConfigName"] == f"{ENDPOINT}-first"


def test_an_execution_retrying_its_own_write_keeps_the_lock(runner: LocalRunner) -> None:
    # The condition lets the holder write again (a retried first step): the refusal above is not a blanket one
    first = execution("first")
    store.acquire(ENDPOINT, first, None, record_of("first"), snapshot_of("first"))
    store.acquire(ENDPOINT, first, None, record_of("first"), snapshot_of("first"))
    assert store.read_lock(ENDPOINT) == store.Lock(ENDPOINT, holder=first, unrestored=first, last=first)


# Lock records another execution may have left between a late execution's check and its write, and what
# that late write must be refused with. The holder's own mark (Unrestored) is absent in some of them, so the
# condition on the holder is tested on its own, not only through the one on the unrestored mark.
TAKEN_MEANWHILE = {
    "held, scaling not restored yet": ({"Holder": "winner", "Unrestored": "winner"}, None,
                                       EndpointUpdateInProgress),
    "held, unrestored mark cleared": ({"Holder": "winner"}, None, EndpointUpdateInProgress),
    "held by another than the stale holder it replaced": ({"Holder": "winner"}, "stale", EndpointUpdateInProgress),
    # The other execution took the lock, failed to restore its scaling and released it, still marked
    "released, another's scaling not restored": ({"Unrestored": "winner"}, None, ScalingRestorePending),
    "released, another's scaling not restored, stale holder": ({"Unrestored": "winner"}, "stale",
                                                               ScalingRestorePending),
}


@pytest.mark.parametrize(("lock", "stale", "error"), list(TAKEN_MEANWHILE.values()), ids=list(TAKEN_MEANWHILE))
def test_a_write_after_another_execution_took_the_lock_is_refused_and_changes_nothing(
        runner: LocalRunner, lock: dict[str, str], stale: str | None, error: type[Exception]) -> None:
    late = execution("late")
    # Given a lock record another execution wrote after the late one's check
    boto3.client("dynamodb").put_item(TableName=TABLE, Item={
        **store.lock_key(ENDPOINT), "LastUpdate": {"S": execution("winner")},
        **{key: {"S": execution(value)} for key, value in lock.items()}})
    before = lock_item()
    # When the late execution writes the lock (as the holder it found stale, if any)
    with pytest.raises(error) as refused:
        store.acquire(ENDPOINT, late, stale and execution(stale), record_of("late"), snapshot_of("late"))
    # Then it is refused, naming the other execution, and nothing changed
    assert execution("winner") in str(refused.value)
    if error is EndpointUpdateInProgress:
        assert str(refused.value) == busy(execution("winner"))
    assert lock_item() == before
    assert_no_record(late)


def test_an_update_whose_lock_was_taken_between_its_check_and_its_write_fails_having_changed_nothing(
        runner: LocalRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given an autoscaled endpoint
    old_config = create_endpoint(ENDPOINT, (VariantSpec(count=2),))
    attach_scaling(ENDPOINT, "AllTraffic")
    before = scaling_state(ENDPOINT)
    emulation.configure_update(ENDPOINT, seconds=1)
    # And a second update that starts after the first one's check found the lock free, and whose first step
    # runs to its end (taking the lock) before the first one's write
    real_acquire = store.acquire
    winner: list[str] = []

    def acquire_after_another_update_took_the_lock(endpoint: str, execution_arn: str, stale_holder: str | None,
                                                  record: dict[str, Any], snapshot: dict[str, Any]) -> None:
        if not winner:
            assert store.read_lock(endpoint).holder is None  # the late execution found it free, and still is
            arn = runner.start(OTHER_REQUEST, name="winner")
            winner.append(arn)
            started = runner.sfn.describe_execution(executionArn=arn)["startDate"].astimezone(dt.UTC)
            runner.deliver("validate_and_snapshot", {"Input": OTHER_REQUEST, "Execution": {
                "Id": arn, "Name": "winner", "StartTime": started.isoformat(timespec="milliseconds")}})
            assert store.read_lock(endpoint).holder == arn
        real_acquire(endpoint, execution_arn, stale_holder, record, snapshot)

    monkeypatch.setattr(store, "acquire", acquire_after_another_update_took_the_lock)
    # When the first update runs
    late = runner.run(REQUEST, name="late")
    assert winner, "the first step no longer takes the lock through store.acquire: the race was not driven"
    # Then it fails at its first step with the documented error, naming the running execution that holds the lock
    assert (late.status, late.error) == ("FAILED", "EndpointUpdateInProgress"), late.cause
    assert late.cause is not None and busy(winner[0]) in late.cause
    assert late.tasks_entered == ["ValidateAndSnapshot"]
    # And it changed nothing: no record of its own, its recovery found nothing to do
    assert_no_record(late.arn)
    assert late.recovery["Recovered"] is False
    # And the other update, which holds the lock, runs to its end undisturbed
    done = runner.wait(winner[0])
    assert done.status == "SUCCEEDED", done.cause
    assert endpoint_state(ENDPOINT)["EndpointConfigName"] == done.output["NewConfigName"] != old_config
    configs = boto3.client("sagemaker").list_endpoint_configs()["EndpointConfigs"]
    assert sorted(c["EndpointConfigName"] for c in configs) == sorted([old_config, done.output["NewConfigName"]])
    assert scaling_state(ENDPOINT) == before
    assert store.read_lock(ENDPOINT) == store.Lock(ENDPOINT, holder=None, unrestored=None, last=winner[0])
