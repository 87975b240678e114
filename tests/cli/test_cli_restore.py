"""`endpoint-updater restore`: the break-glass restore from the stored snapshot, against the emulator."""

from __future__ import annotations

import boto3
from cli_support import ENDPOINT, invoke, one_line_error

from endpoint_updater.cli import errors
from endpoint_updater.core import store
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
    # When the break-glass restore runs
    run = invoke("restore", "--local", "--json", "--endpoint", ENDPOINT)
    # Then the scaling is back as the last update captured it
    assert run.code == 0, run.stderr
    assert run.json()["Restored"] is True and run.json()["Changes"]
    assert scaling_state(ENDPOINT) == before
    # And a second run finds nothing to change
    again = invoke("restore", "--local", "--endpoint", ENDPOINT)
    assert again.code == 0 and "it was already as captured" in again.stdout


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
