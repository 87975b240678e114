"""`endpoint-updater restore`: the break-glass restore from the stored snapshot, against the emulator."""

from __future__ import annotations

from typing import Any

import boto3
from cli_support import ENDPOINT, invoke, one_line_error

from endpoint_updater.cli import errors
from endpoint_updater.core import recovery, store
from endpoint_updater.offline.runner import LocalRunner
from endpoint_updater.offline.scenario import scaling_state


def test_restore_puts_back_scaling_lost_after_an_update_and_a_second_run_changes_nothing(
        emulator: LocalRunner) -> None:
    # Given an update that ran, and then the endpoint's scaling deregistered by hand
    assert invoke("start", "--local", "--wait", "--endpoint", ENDPOINT, "--variant", "AllTraffic",
                  "--model", "churn-v8").code == 0
    before = scaling_state(ENDPOINT)
    boto3.client("application-autoscaling").deregister_scalable_target(
        ServiceNamespace="sagemaker", ResourceId=f"endpoint/{ENDPOINT}/variant/AllTraffic",
        ScalableDimension="sagemaker:variant:DesiredInstanceCount")
    assert scaling_state(ENDPOINT) != before
    # When the break-glass restore runs, forced since that update's own restore had finished
    run = invoke("restore", "--local", "--json", "--force", "--endpoint", ENDPOINT)
    # Then the scaling is back as the last update captured it
    assert run.code == 0, run.stderr
    assert run.json()["Restored"] is True and run.json()["Changes"]
    assert scaling_state(ENDPOINT) == before
    # And a second run finds nothing to change
    again = invoke("restore", "--local", "--force", "--endpoint", ENDPOINT)
    assert again.code == 0 and "it was already as captured" in again.stdout
    unforced = invoke("restore", "--local", "--endpoint", ENDPOINT)
    assert unforced.code == 0 and "nothing to change" in unforced.stdout


def test_restore_of_an_endpoint_never_updated_is_one_line_and_exit_4(emulator: LocalRunner) -> None:
    run = invoke("restore", "--local", "--endpoint", ENDPOINT)
    assert run.code == errors.NOT_FOUND
    assert "no update of endpoint churn-prod is recorded" in one_line_error(run)


def test_restore_proceeds_when_the_lock_holder_no_longer_exists(emulator: LocalRunner) -> None:
    # Given an update that ran, its scaling lost since, and a lock left by an execution Step Functions no
    # longer knows (a state machine deleted and deployed again)
    started = invoke("start", "--local", "--wait", "--json", "--endpoint", ENDPOINT, "--variant", "AllTraffic",
                     "--model", "churn-v8")
    assert started.code == 0, started.stderr
    before = scaling_state(ENDPOINT)
    boto3.client("application-autoscaling").deregister_scalable_target(
        ServiceNamespace="sagemaker", ResourceId=f"endpoint/{ENDPOINT}/variant/AllTraffic",
        ScalableDimension="sagemaker:variant:DesiredInstanceCount")
    gone = emulator.state_machine_arn.replace(":stateMachine:", ":execution:") + ":deleted-long-ago"
    boto3.client("dynamodb").update_item(
        TableName="endpoint-updater-updates", Key=store.lock_key(ENDPOINT),
        UpdateExpression="SET Holder = :gone", ExpressionAttributeValues={":gone": {"S": gone}})
    # When the break-glass restore runs without --force
    run = invoke("restore", "--local", "--json", "--endpoint", ENDPOINT)
    # Then it restores the last update's snapshot and frees the endpoint
    assert run.code == 0, run.stderr
    assert run.json()["Execution"] == started.json()["executionArn"]
    assert scaling_state(ENDPOINT) == before
    lock = store.read_lock(ENDPOINT)
    assert lock.holder is None and lock.unrestored is None


TARGET = {"ServiceNamespace": "sagemaker", "ResourceId": f"endpoint/{ENDPOINT}/variant/AllTraffic",
          "ScalableDimension": "sagemaker:variant:DesiredInstanceCount"}


def changed_by_hand_after_an_update() -> tuple[str, dict[str, Any], dict[str, Any]]:
    """An update that ended restored, then MaxCapacity raised by hand and the scheduled action deleted."""
    started = invoke("start", "--local", "--wait", "--json", "--endpoint", ENDPOINT, "--variant", "AllTraffic",
                     "--model", "churn-v8")
    assert started.code == 0, started.stderr
    captured = scaling_state(ENDPOINT)
    autoscaling = boto3.client("application-autoscaling")
    autoscaling.register_scalable_target(**TARGET, MaxCapacity=9)
    autoscaling.delete_scheduled_action(**TARGET, ScheduledActionName="AllTraffic-business-hours")
    by_hand = scaling_state(ENDPOINT)
    assert by_hand != captured
    return started.json()["executionArn"], captured, by_hand


def test_restore_with_nothing_pending_changes_nothing_and_shows_what_it_would_revert(emulator: LocalRunner) -> None:
    # Given an update whose scaling was restored, and the operator's later changes by hand
    execution, captured, by_hand = changed_by_hand_after_an_update()
    record = store.read_update(ENDPOINT, execution)
    # When the break-glass restore runs without --force
    run = invoke("restore", "--local", "--endpoint", ENDPOINT)
    # Then it changes nothing: the hand-set MaxCapacity and the deleted scheduled action stay as left
    assert run.code == errors.REFUSED, run.stderr
    assert scaling_state(ENDPOINT) == by_hand
    assert store.read_update(ENDPOINT, execution) == record
    lock = store.read_lock(ENDPOINT)
    assert (lock.holder, lock.unrestored) == (None, None)
    # And it shows both differences, live against snapshot, and how to restore anyway
    text = " ".join(run.stdout.split())
    assert "No restore is pending for churn-prod" in text
    assert "MaxCapacity" in text and "AllTraffic-business-hours" in text
    assert "Nothing was changed" in text and "--force" in text
    # And the same as JSON
    as_json = invoke("restore", "--local", "--json", "--endpoint", ENDPOINT)
    assert as_json.code == errors.REFUSED
    report = as_json.json()
    assert (report["Restored"], report["RestorePending"], report["Changes"]) == (False, False, [])
    assert {"Kind": "ScalableTarget", "Name": f"{TARGET['ResourceId']} {TARGET['ScalableDimension']}",
            "Field": "MaxCapacity", "Live": 9,
            "Snapshot": captured["targets"][0]["MaxCapacity"]} in report["Differences"]
    deleted = [d for d in report["Differences"] if d["Kind"] == "ScheduledAction"]
    assert len(deleted) == 1 and deleted[0]["Live"] is None
    assert deleted[0]["Snapshot"]["ScheduledActionName"] == "AllTraffic-business-hours"
    assert len(report["Differences"]) == 2
    assert scaling_state(ENDPOINT) == by_hand


def test_restore_with_nothing_pending_and_force_restores_the_snapshot(emulator: LocalRunner) -> None:
    # Given the same later changes by hand
    _, captured, _ = changed_by_hand_after_an_update()
    # When the restore is forced
    run = invoke("restore", "--local", "--json", "--force", "--endpoint", ENDPOINT)
    # Then the snapshot is written back, as the restore always did
    assert run.code == 0, run.stderr
    assert run.json()["Restored"] is True and run.json()["RestorePending"] is False
    assert scaling_state(ENDPOINT) == captured


def test_restore_with_a_restore_pending_restores_without_force(emulator: LocalRunner) -> None:
    # Given an update whose restore did not finish: its lock released but left marked unrestored
    execution, captured, _ = changed_by_hand_after_an_update()
    boto3.client("dynamodb").update_item(
        TableName="endpoint-updater-updates", Key=store.lock_key(ENDPOINT),
        UpdateExpression="SET Unrestored = :me", ExpressionAttributeValues={":me": {"S": execution}})
    # When the break-glass restore runs without --force
    run = invoke("restore", "--local", "--json", "--endpoint", ENDPOINT)
    # Then it restores, as before
    assert run.code == 0, run.stderr
    assert run.json()["Restored"] is True and run.json()["RestorePending"] is True
    assert scaling_state(ENDPOINT) == captured
    assert store.read_lock(ENDPOINT).unrestored is None
    assert recovery.RESTORE_ATTEMPTS  # the workflow's own restore ran (verified, retried)
