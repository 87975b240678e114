"""One update per endpoint, one update per trigger event, and a restore that can run any number of times."""

from __future__ import annotations

import importlib
import json
from typing import Any

import boto3
import pytest

from endpoint_updater.core import store
from endpoint_updater.offline import emulation
from endpoint_updater.offline.runner import FunctionError, LocalRunner
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


def autoscaled() -> tuple[str, dict[str, Any]]:
    config = create_endpoint(ENDPOINT, (VariantSpec(count=2),))
    attach_scaling(ENDPOINT, "AllTraffic")
    return config, scaling_state(ENDPOINT)


def released(lock: store.Lock) -> bool:
    return lock.holder is None and lock.unrestored is None


def configs() -> list[str]:
    return sorted(c["EndpointConfigName"] for c in boto3.client("sagemaker").list_endpoint_configs()["EndpointConfigs"])


def writes(runner: LocalRunner, folder: str) -> list[str]:
    """The AWS calls of that function that change something (every call but Describe*, List* and Get*)."""
    return [call for f, call in runner.calls if f == folder
            and not call.split(":")[1].startswith(("Describe", "List", "Get"))]


def failed_restore_step(execution_arn: str, error: dict[str, str]) -> dict[str, Any]:
    """The input RestoreScaling gets from the Catch of an update that failed with `error`."""
    return {"ExecutionId": execution_arn, "Request": {**REQUEST, "TimeoutSeconds": 3600}, "Scaling": {},
            "Endpoint": {}, "Deadline": "2026-11-27T02:00:00+00:00", "Error": error}


def test_two_updates_started_together_one_updates_and_the_other_changes_nothing(runner: LocalRunner) -> None:
    # Given an autoscaled endpoint
    old_config, before = autoscaled()
    emulation.configure_update(ENDPOINT, seconds=1)
    # When two executions for it start at the same moment
    first = runner.start(REQUEST, name="first")
    second = runner.start({**REQUEST, "VariantChanges": [{"VariantName": "AllTraffic", "ModelName": "churn-v9"}]},
                          name="second")
    ended = {e.arn.rsplit(":", 1)[-1]: e for e in (runner.wait(first), runner.wait(second))}
    # Then exactly one updates the endpoint; the other fails fast, naming the holder, having changed nothing
    statuses = sorted(e.status for e in ended.values())
    assert statuses == ["FAILED", "SUCCEEDED"], {n: (e.status, e.cause) for n, e in ended.items()}
    winner = next(e for e in ended.values() if e.status == "SUCCEEDED")
    loser = next(e for e in ended.values() if e.status == "FAILED")
    assert loser.error == "EndpointUpdateInProgress"
    assert winner.arn in loser.cause
    assert loser.tasks_entered == ["ValidateAndSnapshot"]
    assert endpoint_state(ENDPOINT)["EndpointConfigName"] == winner.output["NewConfigName"] != old_config
    assert configs() == sorted([old_config, winner.output["NewConfigName"]])
    assert scaling_state(ENDPOINT) == before
    assert released(store.read_lock(ENDPOINT))
    # And the refused execution's recovery (FAILED is a recovered status) found nothing of its own to do
    assert loser.recovery["Recovered"] is False


def test_an_update_waits_for_no_one_once_the_previous_one_has_ended(runner: LocalRunner) -> None:
    _, before = autoscaled()
    assert runner.run(REQUEST, name="first").status == "SUCCEEDED"
    again = runner.run({**REQUEST, "VariantChanges": [{"VariantName": "AllTraffic", "ModelName": "churn-v9"}]},
                       name="second")
    assert again.status == "SUCCEEDED", again.cause
    assert scaling_state(ENDPOINT) == before


def test_the_same_trigger_event_delivered_twice_starts_one_update(runner: LocalRunner) -> None:
    # Given an "Endpoint Update Requested" event, delivered twice (EventBridge delivers at least once)
    _, before = autoscaled()
    event = {"version": "0", "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718", "source": "ml.platform",
             "detail-type": "Endpoint Update Requested", "account": "123456789012", "region": "us-east-1",
             "time": "2026-11-27T01:00:00Z", "resources": [], "detail": REQUEST}
    # When both deliveries reach the start function
    first = runner.deliver("start_update", event)
    second = runner.deliver("start_update", json.loads(json.dumps(event)))
    # Then one execution exists and runs: while it runs, StartExecution with the same name and input returns it
    assert first["Started"] is True and second["ExecutionArn"] == first["ExecutionArn"]
    assert runner.wait(first["ExecutionArn"]).status == "SUCCEEDED"
    again = runner.deliver("start_update", event)  # once it has finished, the name is refused: nothing starts
    assert again == {"ExecutionArn": first["ExecutionArn"], "Started": False}
    executions = runner.sfn.list_executions(stateMachineArn=runner.state_machine_arn)["executions"]
    assert [e["executionArn"] for e in executions] == [first["ExecutionArn"]]
    assert len(configs()) == 2 and scaling_state(ENDPOINT) == before
    # And another event is another update
    other = runner.deliver("start_update", {**event, "id": "0f4b1c9e-2a9c-4c55-9e55-3bd8a1f1c0de"})
    assert other["Started"] is True and other["ExecutionArn"] != first["ExecutionArn"]
    assert runner.wait(other["ExecutionArn"]).status == "SUCCEEDED"


def test_an_event_that_is_not_a_trigger_is_refused_with_the_allowed_kinds(runner: LocalRunner) -> None:
    with pytest.raises(FunctionError, match=r"detail-type: 'Something Else' is not a trigger.*Endpoint Update"):
        runner.deliver("start_update", {"id": "1", "source": "x", "detail-type": "Something Else", "detail": {}})
    assert runner.sfn.list_executions(stateMachineArn=runner.state_machine_arn)["executions"] == []


def test_the_restore_run_twice_changes_nothing_the_second_time(runner: LocalRunner) -> None:
    # Given an update stopped while waiting for the endpoint, and recovered
    _, before = autoscaled()
    emulation.configure_update(ENDPOINT, seconds=2)
    arn = runner.start(REQUEST)
    runner.wait_for_state(arn, "WaitForUpdateEvent")
    runner.stop(arn)
    stopped = runner.wait(arn)
    assert stopped.status == "ABORTED" and stopped.recovery["Recovered"] is True
    assert stopped.recovery["Changes"]  # it re-registered the target and re-created policies and actions
    assert scaling_state(ENDPOINT) == before
    # When the same status-change event arrives again, and the restore step runs again on the same record
    runner.calls.clear()
    assert runner.deliver("recover_scaling", runner.status_change_event(arn))["Recovered"] is False
    runner.deliver("restore_scaling", failed_restore_step(arn, {"Error": "Stopped"}))
    # Then the second restore reads and compares, and writes nothing to Application Auto Scaling or CloudWatch
    assert [c for c in writes(runner, "restore_scaling") if not c.startswith("dynamodb")] == []
    assert writes(runner, "recover_scaling") == []
    assert scaling_state(ENDPOINT) == before


def test_a_late_restore_of_an_execution_already_recovered_leaves_the_next_update_alone(runner: LocalRunner) -> None:
    # Given an update stopped while waiting, and recovered
    _, before = autoscaled()
    emulation.configure_update(ENDPOINT, seconds=1)
    stopped = runner.start(REQUEST, name="stopped")
    runner.wait_for_state(stopped, "WaitForUpdateEvent")
    runner.stop(stopped)
    assert runner.wait(stopped).recovery["Recovered"] is True
    runner.sleep(1.2)  # the update SageMaker accepted has finished
    # And the next update, which holds the endpoint and has deregistered its scaling
    following = runner.start({**REQUEST, "VariantChanges": [{"VariantName": "AllTraffic", "ModelName": "churn-v9"}]},
                             name="following")
    runner.wait_for_state(following, "WaitForUpdateEvent")
    during = scaling_state(ENDPOINT)
    assert during != before
    # When the stopped execution's restore step runs after all (a late attempt, or the execution redriven)
    answer = runner.deliver("restore_scaling", failed_restore_step(
        stopped, {"Error": "EndpointUpdateTimedOut", "Cause": "the endpoint was still updating"}))
    # Then it changes nothing, and says why: its scaling was already restored and the endpoint is taken
    assert answer["Failure"]["Error"] == "LockLost"
    assert f"execution {following} holds it now" in answer["Failure"]["Cause"]
    assert answer["Failure"]["Cause"].endswith("The update itself had failed: the endpoint was still updating")
    assert scaling_state(ENDPOINT) == during
    assert store.read_lock(ENDPOINT).holder == following
    # And the next update ends as if nothing had happened
    assert runner.wait(following).status == "SUCCEEDED"
    assert scaling_state(ENDPOINT) == before


def test_a_restore_whose_answer_was_lost_is_retried_and_the_update_succeeds(runner: LocalRunner) -> None:
    # Given the restore step's first attempt restores and releases, then its answer is lost
    _, before = autoscaled()

    def restore_then_lose_the_answer(event: dict[str, Any]) -> None:
        importlib.import_module("lambdas.restore_scaling.handler").restore_scaling(event)
        raise ConnectionResetError("the answer of the restore step was lost")

    runner.before_invoke("restore_scaling", restore_then_lose_the_answer)
    # When the update runs, Then the retried attempt recognises its own restore and the update succeeds
    done = runner.run(REQUEST)
    assert done.status == "SUCCEEDED", done.cause
    assert done.output["ScalingRestored"]["Targets"] == 1
    assert scaling_state(ENDPOINT) == before
    assert released(store.read_lock(ENDPOINT))


def test_a_restore_that_keeps_failing_fails_the_update_with_the_calls_to_make_by_hand(runner: LocalRunner) -> None:
    # Given registration refused every time
    _, before = autoscaled()
    emulation.inject_fault("application-autoscaling", "RegisterScalableTarget", "ValidationException",
                           "refused", times=1000)
    # When an update runs
    execution = runner.run(REQUEST)
    # Then the execution fails with ScalingRestoreFailed, and its cause holds the exact AWS calls and the snapshot
    assert execution.status == "FAILED" and execution.error == "ScalingRestoreFailed"
    assert "aws application-autoscaling register-scalable-target --cli-input-json '{" in execution.cause
    assert "aws application-autoscaling put-scaling-policy --cli-input-json" in execution.cause
    assert "aws cloudwatch put-metric-alarm --cli-input-json" in execution.cause
    assert "endpoint-updater restore --endpoint churn-prod" in execution.cause
    assert '"Snapshot"' not in execution.cause and "Snapshot: {" in execution.cause
    # And the lock is released, but the endpoint stays marked: the next update is refused until it is restored
    lock = store.read_lock(ENDPOINT)
    assert (lock.holder, lock.unrestored) == (None, execution.arn)
    assert execution.recovery["Error"] == "ScalingRestoreFailed"  # the recovery tried too
    refused = runner.run(REQUEST)
    assert refused.error == "ScalingRestorePending"
    assert "endpoint-updater restore --endpoint churn-prod" in refused.cause
    # When AWS accepts the calls again and the break-glass restore runs
    emulation.reset()
    from endpoint_updater.core.breakglass import restore_endpoint
    report = restore_endpoint(ENDPOINT)
    # Then the scaling is back, the mark is gone, and updates run again
    assert report["Restored"] is True and scaling_state(ENDPOINT) == before
    assert released(store.read_lock(ENDPOINT))
    assert runner.run(REQUEST).status == "SUCCEEDED"


def test_a_lock_whose_holder_ended_without_recovery_is_refused_then_restored_by_the_recovery(
        runner: LocalRunner) -> None:
    # Given an execution stopped while waiting, whose status-change event has not been handled yet
    _, before = autoscaled()
    emulation.configure_update(ENDPOINT, seconds=1)
    arn = runner.start(REQUEST)
    runner.wait_for_state(arn, "WaitForUpdateEvent")
    runner.stop(arn)
    assert runner.wait(arn, recover=False).status == "ABORTED"
    assert scaling_state(ENDPOINT) != before  # deregistered, and not yet restored
    runner.sleep(1.2)  # the update SageMaker accepted has finished
    # When another update starts, it is refused: the endpoint's scaling is not restored
    refused = runner.run(REQUEST)
    assert refused.error == "ScalingRestorePending", refused.cause
    assert arn in refused.cause
    # When the event is handled, the scaling comes back and the lock is free again
    assert runner.deliver("recover_scaling", runner.status_change_event(arn))["Recovered"] is True
    assert scaling_state(ENDPOINT) == before
    assert runner.run(REQUEST).status == "SUCCEEDED"


def test_a_lock_held_by_an_execution_no_longer_running_with_its_scaling_restored_is_taken_over(
        runner: LocalRunner) -> None:
    # Given a lock whose holder ended and whose scaling is restored, but whose release was lost
    _, before = autoscaled()
    done = runner.run(REQUEST, name="done")
    assert done.status == "SUCCEEDED"
    boto3.client("dynamodb").update_item(
        TableName="endpoint-updater-updates", Key=store.lock_key(ENDPOINT),
        UpdateExpression="SET Holder = :arn", ExpressionAttributeValues={":arn": {"S": done.arn}})
    # When the next update starts, Then it takes the lock over and runs
    again = runner.run({**REQUEST, "VariantChanges": [{"VariantName": "AllTraffic", "ModelName": "churn-v9"}]})
    assert again.status == "SUCCEEDED", again.cause
    assert scaling_state(ENDPOINT) == before
    assert released(store.read_lock(ENDPOINT))


def test_a_lock_held_by_an_execution_that_no_longer_exists_is_taken_over_once_its_scaling_is_restored(
        runner: LocalRunner) -> None:
    # Given a lock left by an execution DescribeExecution no longer knows (a state machine deleted and
    # deployed again), whose scaling was never restored
    _, before = autoscaled()
    gone = runner.state_machine_arn.replace(":stateMachine:", ":execution:") + ":deleted-long-ago"
    lock = boto3.client("dynamodb")
    lock.put_item(TableName="endpoint-updater-updates",
                  Item={**store.lock_key(ENDPOINT), "Holder": {"S": gone}, "Unrestored": {"S": gone}})
    # When an update starts, Then it is refused until the scaling is restored, naming the execution
    refused = runner.run(REQUEST)
    assert refused.error == "ScalingRestorePending", refused.cause
    assert f"{gone}, which no longer exists and has not restored it" in refused.cause
    assert scaling_state(ENDPOINT) == before
    # When its scaling has been restored (by an operator), Then the next update takes the lock over
    lock.update_item(TableName="endpoint-updater-updates", Key=store.lock_key(ENDPOINT),
                     UpdateExpression="REMOVE Unrestored")
    again = runner.run(REQUEST)
    assert again.status == "SUCCEEDED", again.cause
    assert scaling_state(ENDPOINT) == before
    assert released(store.read_lock(ENDPOINT))


def test_the_update_record_keeps_the_progress_and_the_outcome(runner: LocalRunner) -> None:
    old_config, _ = autoscaled()
    execution = runner.run({**REQUEST, "CapacityIncrease": {"Add": 1}})
    record = store.read_update(ENDPOINT, execution.arn)
    assert [event["Phase"] for event in record["History"]] == [
        "Locked", "ScalingDeregistered", "CapacityRaiseStarted", "CapacityRaised", "ConfigCreated", "UpdateStarted",
        "ScalingRestored"]
    # The raise is recorded as asked for, then as confirmed by the check
    assert [e.get("Detail") for e in record["History"] if e["Phase"].startswith("CapacityRaise")] == [
        "AllTraffic 2 -> 3", "AllTraffic 2 -> 3"]
    assert (record["Outcome"], record["PreviousConfigName"], record["NewConfigName"]) == (
        "Succeeded", old_config, execution.output["NewConfigName"])
    assert json.loads(record["Request"])["EndpointName"] == ENDPOINT
