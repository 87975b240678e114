"""The lock's functions one by one, in every state the lock can be in: what `check_free` answers, what a
release changes, what `finish` records, the snapshot's size limit, and how `restore_and_release` fences.

The workflow suites reach these through whole executions; these tests pin each decision on its own, fast
enough to run against every mutant of endpoint_updater/core (`make mutate`).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import boto3
import pytest

from endpoint_updater.core import aws, recovery, scaling, store
from endpoint_updater.core.errors import (
    EndpointUpdateInProgress,
    InvalidInput,
    LockLost,
    ScalingRestoreFailed,
    ScalingRestorePending,
)
from endpoint_updater.offline import emulation
from endpoint_updater.offline.runner import LocalRunner
from endpoint_updater.offline.scenario import VariantSpec, attach_scaling, create_endpoint, scaling_state

ENDPOINT = "churn-prod"
TABLE = "endpoint-updater-updates"
EXECUTIONS = "arn:aws:states:us-east-1:123456789012:execution:endpoint-updater:"
ME, OTHER = EXECUTIONS + "me", EXECUTIONS + "other"
EMPTY = {"Targets": [], "Policies": [], "ScheduledActions": [], "Alarms": []}


def put_lock(**attributes: str) -> None:
    boto3.client("dynamodb").put_item(TableName=TABLE, Item={
        **store.lock_key(ENDPOINT), **{key: {"S": value} for key, value in attributes.items()}})


def lock_item() -> dict[str, Any]:
    item: dict[str, Any] = boto3.client("dynamodb").get_item(
        TableName=TABLE, Key=store.lock_key(ENDPOINT), ConsistentRead=True).get("Item", {})
    return item


def pending(execution_arn: str, ended: str = "") -> str:
    return (f"the scaling of endpoint {ENDPOINT} was deregistered by execution {execution_arn}, which{ended} has not "
            f"restored it; restore it first: endpoint-updater restore --endpoint {ENDPOINT}")


# -- check_free ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("lock", [{}, {"Holder": ME, "Unrestored": ME}, {"Unrestored": ME}],
                         ids=["free", "held by itself", "its own scaling not restored"])
def test_check_free_lets_an_execution_through_a_lock_that_is_free_or_its_own(
        runner: LocalRunner, lock: dict[str, str]) -> None:
    put_lock(**lock)
    assert store.check_free(ENDPOINT, ME) is None


def test_check_free_refuses_a_released_lock_whose_scaling_another_execution_did_not_restore(
        runner: LocalRunner) -> None:
    put_lock(Unrestored=OTHER)
    with pytest.raises(ScalingRestorePending) as refused:
        store.check_free(ENDPOINT, ME)
    assert str(refused.value) == pending(OTHER)


def test_check_free_names_the_running_holder(runner: LocalRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    put_lock(Holder=OTHER, Unrestored=OTHER)
    asked: list[str] = []
    monkeypatch.setattr(store, "execution_status", lambda arn: asked.append(arn) or "RUNNING")
    with pytest.raises(EndpointUpdateInProgress) as refused:
        store.check_free(ENDPOINT, ME)
    assert str(refused.value) == (f"endpoint {ENDPOINT} is being updated by execution {OTHER}; "
                                  "start this update again when that one has finished")
    assert asked == [OTHER]


def test_check_free_refuses_a_holder_gone_without_restoring_and_says_it_is_gone(runner: LocalRunner) -> None:
    # An ARN DescribeExecution does not know: ExecutionDoesNotExist, reported as GONE
    put_lock(Holder=OTHER, Unrestored=OTHER)
    with pytest.raises(ScalingRestorePending) as refused:
        store.check_free(ENDPOINT, ME)
    assert str(refused.value) == pending(OTHER, " no longer exists and")


def test_check_free_refuses_a_holder_that_ended_without_restoring_and_says_how_it_ended(
        runner: LocalRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    put_lock(Holder=OTHER, Unrestored=OTHER)
    monkeypatch.setattr(store, "execution_status", lambda arn: "TIMED_OUT")
    with pytest.raises(ScalingRestorePending) as refused:
        store.check_free(ENDPOINT, ME)
    assert str(refused.value) == pending(OTHER, " ended TIMED_OUT and")


def test_check_free_hands_over_a_holder_that_ended_with_its_scaling_restored(runner: LocalRunner) -> None:
    put_lock(Holder=OTHER)
    assert store.check_free(ENDPOINT, ME) == OTHER


def test_the_lock_is_read_strongly_consistent(runner: LocalRunner) -> None:
    # An eventually consistent read could miss a lock taken a moment ago; the emulator cannot show that, so
    # the request itself is checked
    requests: list[dict[str, Any]] = []
    aws.client("dynamodb").meta.events.register(
        "provide-client-params.dynamodb.GetItem", lambda params, **_: requests.append(dict(params)))
    store.read_lock(ENDPOINT)
    assert [r.get("ConsistentRead") for r in requests] == [True]


# -- release ----------------------------------------------------------------------------------------------

def test_a_release_by_another_execution_changes_nothing(runner: LocalRunner) -> None:
    put_lock(Holder=OTHER, Unrestored=OTHER)
    before = lock_item()
    assert store.release(ENDPOINT, ME, restored=True) is False
    assert lock_item() == before


def test_a_release_by_the_holder_clears_what_names_it(runner: LocalRunner) -> None:
    put_lock(Holder=ME, Unrestored=ME)
    assert store.release(ENDPOINT, ME, restored=False) is True
    assert store.read_lock(ENDPOINT) == store.Lock(ENDPOINT, holder=None, unrestored=ME)


def test_a_restored_release_after_a_fence_reports_the_mark_it_cleared(runner: LocalRunner) -> None:
    # The holder was cleared already (the recovery's fence); the unrestored mark is still this execution's
    put_lock(Unrestored=ME)
    assert store.release(ENDPOINT, ME, restored=True) is True
    assert store.read_lock(ENDPOINT) == store.Lock(ENDPOINT, holder=None, unrestored=None)


# -- acquire: the snapshot's size limit -------------------------------------------------------------------

def snapshot_of_size(size: int) -> dict[str, Any]:
    """A snapshot whose compact, key-sorted JSON (as stored) is exactly `size` bytes."""
    snapshot: dict[str, Any] = {**EMPTY, "Padding": ""}
    body = len(json.dumps(snapshot, separators=(",", ":"), sort_keys=True))
    snapshot["Padding"] = "x" * (size - body)
    return snapshot


def test_a_snapshot_at_the_size_limit_is_stored_and_one_byte_more_is_refused(runner: LocalRunner) -> None:
    limit = store.SNAPSHOT_LIMIT_BYTES
    with pytest.raises(InvalidInput) as refused:
        store.acquire(ENDPOINT, OTHER, None, {}, snapshot_of_size(limit + 1))
    assert str(refused.value) == (f"the scaling snapshot of endpoint {ENDPOINT} is {(limit + 1) // 1024} KB, over "
                                  f"the {limit // 1024} KB a record can hold; nothing was changed")
    assert lock_item() == {}
    store.acquire(ENDPOINT, ME, None, {}, snapshot_of_size(limit))
    assert store.snapshot(ENDPOINT, ME) == snapshot_of_size(limit)


def test_a_write_refused_for_another_execution_s_unrestored_scaling_names_the_endpoint(runner: LocalRunner) -> None:
    put_lock(Unrestored=OTHER)
    with pytest.raises(ScalingRestorePending) as refused:
        store.acquire(ENDPOINT, ME, None, {}, EMPTY)
    assert str(refused.value) == pending(OTHER)


def test_acquire_stores_the_update_record_at_its_first_phase(runner: LocalRunner) -> None:
    store.acquire(ENDPOINT, ME, None, {"NewConfigName": f"{ENDPOINT}-next"}, EMPTY)
    record = store.read_update(ENDPOINT, ME)
    assert (record["ExecutionArn"], record["Phase"], record["NewConfigName"]) == (ME, "Locked", f"{ENDPOINT}-next")
    assert dt.datetime.fromisoformat(record["StartedAt"]).tzinfo is not None
    assert record["History"] == [{"Phase": "Locked", "At": record["StartedAt"]}]
    assert record["Snapshot"] == EMPTY


# -- finish -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("restored", "phase"), [(True, "ScalingRestored"), (False, "ScalingRestoreFailed")])
def test_finish_records_the_outcome_and_its_detail(runner: LocalRunner, restored: bool, phase: str) -> None:
    store.acquire(ENDPOINT, ME, None, {}, EMPTY)
    detail = "r" * 5000
    store.finish(ENDPOINT, ME, "Failed", detail, restored=restored)
    record = store.read_update(ENDPOINT, ME)
    assert (record["Phase"], record["Outcome"]) == (phase, "Failed")
    assert record["Reason"] == detail[:4000]
    last = record["History"][-1]
    assert (last["Phase"], last["Detail"]) == (phase, f"Failed: {detail}"[:2000])
    assert last["At"] == record["FinishedAt"]
    assert ("ExpiresAt" in record) is restored


def test_finish_without_detail_records_the_outcome_alone(runner: LocalRunner) -> None:
    store.acquire(ENDPOINT, ME, None, {}, EMPTY)
    store.finish(ENDPOINT, ME, "Succeeded", restored=True)
    record = store.read_update(ENDPOINT, ME)
    assert record["History"][-1]["Detail"] == "Succeeded" and "Reason" not in record


# -- scaling.deregister -----------------------------------------------------------------------------------

def test_deregister_stops_once_the_lock_is_lost_and_says_what_it_did(runner: LocalRunner) -> None:
    # Given an autoscaled endpoint whose lock another execution holds
    create_endpoint(ENDPOINT, (VariantSpec(count=2),))
    attach_scaling(ENDPOINT, "AllTraffic")
    before = scaling_state(ENDPOINT)
    targets = scaling.capture(ENDPOINT, ["AllTraffic"])["Targets"]
    store.acquire(ENDPOINT, OTHER, None, {}, EMPTY)
    # When this execution's deregistration runs, Then it stops before its first call and says so
    with pytest.raises(LockLost) as lost:
        scaling.deregister(ENDPOINT, ME, targets)
    assert str(lost.value) == (f"the lock of endpoint {ENDPOINT} was taken back from execution {ME}; "
                               "deregistered so far: []")
    assert scaling_state(ENDPOINT) == before


# -- recovery.restore_and_release -------------------------------------------------------------------------

@pytest.fixture
def deregistered(runner: LocalRunner) -> dict[str, Any]:
    """An autoscaled endpoint whose scaling ME captured (holding the lock) and deregistered; the state before."""
    create_endpoint(ENDPOINT, (VariantSpec(count=2),))
    attach_scaling(ENDPOINT, "AllTraffic")
    before = scaling_state(ENDPOINT)
    snapshot = scaling.capture(ENDPOINT, ["AllTraffic"])
    store.acquire(ENDPOINT, ME, None, {}, snapshot)
    scaling.deregister(ENDPOINT, ME, snapshot["Targets"])
    return before


@pytest.mark.parametrize("fence", [False, True])
def test_restore_and_release_restores_records_and_releases(
        deregistered: dict[str, Any], monkeypatch: pytest.MonkeyPatch, fence: bool) -> None:
    holders: list[str | None] = []
    restore_verified = recovery.restore_verified
    monkeypatch.setattr(recovery, "restore_verified",
                        lambda *args: holders.append(store.read_lock(ENDPOINT).holder) or restore_verified(*args))
    if fence:
        recovery.restore_and_release(ENDPOINT, ME, "Stopped", "the execution was stopped", fence=True)
    else:
        recovery.restore_and_release(ENDPOINT, ME, "Stopped", "the execution was stopped")
    # The fence clears the holder before the restore; without it the execution holds the lock throughout
    assert holders == [None if fence else ME]
    assert scaling_state(ENDPOINT) == deregistered
    record = store.read_update(ENDPOINT, ME)
    assert (record["Phase"], record["Outcome"], record["Reason"]) == (
        "ScalingRestored", "Stopped", "the execution was stopped")
    assert store.read_lock(ENDPOINT) == store.Lock(ENDPOINT, holder=None, unrestored=None, last=ME)


def test_a_fenced_restore_that_fails_releases_the_lock_and_keeps_the_endpoint_marked(
        deregistered: dict[str, Any]) -> None:
    emulation.inject_fault("application-autoscaling", "RegisterScalableTarget", "ValidationException", "refused",
                           times=1000)
    with pytest.raises(ScalingRestoreFailed) as failed:
        recovery.restore_and_release(ENDPOINT, ME, "TimedOut", fence=True)
    record = store.read_update(ENDPOINT, ME)
    assert (record["Phase"], record["Outcome"]) == ("ScalingRestoreFailed", "TimedOut")
    assert record["Reason"] == str(failed.value)[:1000] and len(record["Reason"]) == 1000
    assert "ExpiresAt" not in record
    assert store.read_lock(ENDPOINT) == store.Lock(ENDPOINT, holder=None, unrestored=ME, last=ME)
