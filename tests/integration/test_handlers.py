"""Each handler on its own, against the emulated AWS (moto plus offline.emulation)."""

from __future__ import annotations

import datetime as dt
import importlib
import time
from typing import Any

import boto3
import pytest

from endpoint_updater.core import store
from endpoint_updater.core.errors import (
    AwsRequestFailed,
    EndpointConfigConflict,
    EndpointNotFound,
    EndpointNotInService,
    EndpointUpdateRolledBack,
    EndpointUpdateTimedOut,
    InvalidInput,
    LockLost,
)
from endpoint_updater.offline import emulation
from endpoint_updater.offline.runner import LocalRunner, _LambdaContext
from endpoint_updater.offline.scenario import (
    ScalingSpec,
    VariantSpec,
    attach_scaling,
    create_endpoint,
    endpoint_state,
    scaling_state,
)

ENDPOINT = "churn-prod"
EXECUTION = {"Id": "arn:aws:states:us-east-1:123456789012:execution:endpoint-updater:run-1", "Name": "run-1",
             "StartTime": "2026-11-26T23:57:26.123Z"}


def call(folder: str, event: dict[str, Any]) -> Any:
    module = importlib.import_module(f"lambdas.{folder}.handler")
    return module.handler(event, _LambdaContext(folder, f"arn:aws:lambda:us-east-1:123456789012:function:{folder}"))


def validated(request: dict[str, Any] | None = None, start: str | None = None) -> dict[str, Any]:
    execution = {**EXECUTION, "StartTime": start or EXECUTION["StartTime"]}
    return dict(call("validate_and_snapshot", {"Input": {"EndpointName": ENDPOINT, **(request or {})},
                                               "Execution": execution}))


def wait_in_service(timeout: float = 10) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = endpoint_state(ENDPOINT)
        if state["EndpointStatus"] != "Updating":
            return state
        time.sleep(0.05)
    raise AssertionError("endpoint still Updating")


@pytest.fixture
def scaled(runner: LocalRunner) -> dict[str, Any]:
    """An endpoint whose AllTraffic variant (2 instances) is autoscaled; returns its scaling state."""
    create_endpoint(ENDPOINT, (VariantSpec(name="AllTraffic", count=2), VariantSpec(name="Canary", count=1)),
                    tags={"team": "churn"})
    attach_scaling(ENDPOINT, "AllTraffic", ScalingSpec(max_capacity=6))
    return scaling_state(ENDPOINT)


# -- validate_and_snapshot -------------------------------------------------------------------------------

def test_snapshot_captures_target_policies_scheduled_actions_and_alarms(scaled: dict[str, Any]) -> None:
    state = validated()
    snapshot = store.snapshot(ENDPOINT, EXECUTION["Id"])
    assert state["ScalableTargets"] == snapshot["Targets"]
    assert [t["ResourceId"] for t in snapshot["Targets"]] == [f"endpoint/{ENDPOINT}/variant/AllTraffic"]
    assert {p["Definition"]["PolicyType"] for p in snapshot["Policies"]} == {"TargetTrackingScaling", "StepScaling"}
    assert all("PolicyARN" not in p["Definition"] and "Alarms" not in p["Definition"] for p in snapshot["Policies"])
    assert len(snapshot["ScheduledActions"]) == 1 and "Timezone" in snapshot["ScheduledActions"][0]
    step_arn = next(p["PolicyARN"] for p in snapshot["Policies"] if p["Definition"]["PolicyType"] == "StepScaling")
    assert [step_arn in a["AlarmActions"] for a in snapshot["Alarms"]] == [True]


def test_validation_plans_the_update(scaled: dict[str, Any]) -> None:
    state = validated({"CapacityIncrease": {"Add": 1}, "TimeoutSeconds": 600})
    assert state["Plan"]["RaiseCapacity"] is True
    assert state["Plan"]["CapacityRaise"] == [{"VariantName": "AllTraffic", "From": 2, "To": 3}]
    assert state["Plan"]["NewConfig"]["EndpointConfigName"] == state["NewConfigName"]
    assert state["Endpoint"]["EndpointConfigName"] == endpoint_state(ENDPOINT)["EndpointConfigName"]
    assert state["NewConfigName"].startswith(f"{ENDPOINT}-20261126235726-")
    assert dt.datetime.fromisoformat(state["Deadline"]) == dt.datetime(2026, 11, 27, 0, 7, 26, 123000, dt.UTC)
    assert validated()["Plan"]["RaiseCapacity"] is False


def test_validation_refuses_unknown_endpoint_and_busy_endpoint(scaled: dict[str, Any]) -> None:
    with pytest.raises(EndpointNotFound):
        call("validate_and_snapshot", {"Input": {"EndpointName": "nope"}, "Execution": EXECUTION})
    emulation.set_endpoint_status(ENDPOINT, "SystemUpdating")
    with pytest.raises(EndpointNotInService, match="SystemUpdating"):
        validated()


def test_validation_refuses_changes_the_api_would_refuse(scaled: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput, match=r"VariantChanges\[0\]: .*InitialInstanceCount"):
        validated({"VariantChanges": [{"VariantName": "Canary", "InitialInstanceCount": "two"}]})


# -- deregister_scaling ----------------------------------------------------------------------------------

def test_deregister_removes_the_targets_and_a_retry_is_harmless(scaled: dict[str, Any]) -> None:
    state = validated()
    assert call("deregister_scaling", state) == [f"endpoint/{ENDPOINT}/variant/AllTraffic"]
    after = scaling_state(ENDPOINT)
    assert after["targets"] == [] and after["policies"] == [] and after["scheduled_actions"] == []
    assert call("deregister_scaling", state) == [f"endpoint/{ENDPOINT}/variant/AllTraffic"]


# -- raise_capacity --------------------------------------------------------------------------------------

def test_raise_capacity_raises_autoscaled_variants_once(scaled: dict[str, Any]) -> None:
    state = validated({"CapacityIncrease": {"Percent": 100}})
    call("deregister_scaling", state)
    raises = call("raise_capacity", state)
    assert raises == [{"VariantName": "AllTraffic", "From": 2, "DesiredInstanceCount": 4}]
    assert wait_in_service()["Variants"]["AllTraffic"]["DesiredInstanceCount"] == 4
    assert wait_in_service()["Variants"]["Canary"]["DesiredInstanceCount"] == 1
    # A retry asks for nothing more
    assert call("raise_capacity", state) == []
    assert endpoint_state(ENDPOINT)["Variants"]["AllTraffic"]["DesiredInstanceCount"] == 4


def test_raise_capacity_follows_the_plan(scaled: dict[str, Any]) -> None:
    # Given a validated update whose plan raises AllTraffic from 2 to 3
    state = validated({"CapacityIncrease": {"Add": 1}})
    assert state["Plan"]["CapacityRaise"] == [{"VariantName": "AllTraffic", "From": 2, "To": 3}]
    # When the plan is all the step is told of the raise (its targets and counts are not recomputed)
    state["Plan"]["CapacityRaise"] = [{"VariantName": "AllTraffic", "From": 2, "To": 5}]
    # Then it asks for the plan's count
    assert call("raise_capacity", state) == [{"VariantName": "AllTraffic", "From": 2, "DesiredInstanceCount": 5}]
    assert wait_in_service()["Variants"]["AllTraffic"]["DesiredInstanceCount"] == 5


@pytest.mark.parametrize("step", ["deregister_scaling", "raise_capacity", "update_endpoint"])
def test_a_step_whose_lock_was_taken_back_changes_nothing(scaled: dict[str, Any], step: str) -> None:
    # Given a validated update whose lock a recovery took back (the execution was stopped)
    state = validated({"CapacityIncrease": {"Add": 1}})
    store.release(ENDPOINT, EXECUTION["Id"], restored=False)
    before = {"scaling": scaling_state(ENDPOINT), "endpoint": endpoint_state(ENDPOINT)}
    # When a step of that execution still runs / Then it stops with LockLost and the endpoint is as it was
    with pytest.raises(LockLost, match=f"lock of endpoint {ENDPOINT} was taken back"):
        call(step, state)
    assert {"scaling": scaling_state(ENDPOINT), "endpoint": endpoint_state(ENDPOINT)} == before


# -- check_endpoint --------------------------------------------------------------------------------------

def test_check_reports_done_only_on_the_expected_config(scaled: dict[str, Any]) -> None:
    config = endpoint_state(ENDPOINT)["EndpointConfigName"]
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    event = {"EndpointName": ENDPOINT, "ExpectedConfigName": config, "Deadline": later}
    assert call("check_endpoint", event)["Done"] is True
    with pytest.raises(EndpointUpdateRolledBack, match=f"InService on {config}"):
        call("check_endpoint", {**event, "ExpectedConfigName": "another-config"})


def test_check_waits_while_busy_and_stops_at_the_deadline(scaled: dict[str, Any]) -> None:
    emulation.set_endpoint_status(ENDPOINT, "Updating")
    config = endpoint_state(ENDPOINT)["EndpointConfigName"]
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    event = {"EndpointName": ENDPOINT, "ExpectedConfigName": config, "Deadline": later}
    assert call("check_endpoint", event)["Done"] is False
    with pytest.raises(EndpointUpdateTimedOut):
        call("check_endpoint", {**event, "Deadline": dt.datetime.now(dt.UTC).isoformat()})


# -- create_endpoint_config ------------------------------------------------------------------------------

def test_new_config_copies_the_current_one_with_the_changes(scaled: dict[str, Any]) -> None:
    state = validated({"VariantChanges": [{"VariantName": "Canary", "ModelName": "churn-v9"}]})
    sagemaker = boto3.client("sagemaker")
    old = sagemaker.describe_endpoint_config(EndpointConfigName=state["Endpoint"]["EndpointConfigName"])
    result = call("create_endpoint_config", state)
    new = sagemaker.describe_endpoint_config(EndpointConfigName=result["EndpointConfigName"])
    assert result["EndpointConfigName"] == state["NewConfigName"]
    for field in set(old) - {"EndpointConfigName", "EndpointConfigArn", "CreationTime", "ProductionVariants",
                             "ResponseMetadata"}:
        assert new[field] == old[field], field
    variants = {v["VariantName"]: v for v in new["ProductionVariants"]}
    assert variants["Canary"]["ModelName"] == "churn-v9"
    assert variants["AllTraffic"]["ModelName"] == "churn-v7"
    assert {"Key": "team", "Value": "churn"} in sagemaker.list_tags(ResourceArn=new["EndpointConfigArn"])["Tags"]
    # A retry finds the same config and accepts it
    assert call("create_endpoint_config", state)["EndpointConfigName"] == result["EndpointConfigName"]


def test_a_config_of_that_name_with_other_content_is_a_conflict(scaled: dict[str, Any]) -> None:
    state = validated({"VariantChanges": [{"VariantName": "Canary", "ModelName": "churn-v9"}]})
    call("create_endpoint_config", state)
    state["Request"]["VariantChanges"] = [{"VariantName": "Canary", "ModelName": "churn-v10"}]
    with pytest.raises(EndpointConfigConflict):
        call("create_endpoint_config", state)


# -- update_endpoint -------------------------------------------------------------------------------------

def test_update_starts_and_a_retry_during_the_update_is_accepted(scaled: dict[str, Any]) -> None:
    emulation.configure_update(ENDPOINT, seconds=5)
    state = validated({"VariantChanges": [{"VariantName": "Canary", "ModelName": "churn-v9"}]})
    call("create_endpoint_config", state)
    call("update_endpoint", state)
    assert endpoint_state(ENDPOINT)["EndpointStatus"] == "Updating"
    assert call("update_endpoint", state) == {"EndpointConfigName": state["NewConfigName"]}


def test_update_refused_by_sagemaker_is_a_permanent_error(scaled: dict[str, Any]) -> None:
    state = validated()
    with pytest.raises(AwsRequestFailed, match="UpdateEndpoint"):
        call("update_endpoint", state)  # its config was never created


def test_update_sends_the_plans_request_and_rebuilds_it_for_an_older_plan(scaled: dict[str, Any]) -> None:
    # Given a validated update setting the canary's weight
    emulation.configure_update(ENDPOINT, seconds=5)
    state = validated({"VariantChanges": [{"VariantName": "Canary", "InitialVariantWeight": 0.5}]})
    call("create_endpoint_config", state)
    planned = state["Plan"]["UpdateEndpoint"]
    # When the update starts from a plan made before the plan carried UpdateEndpoint's request
    del state["Plan"]["UpdateEndpoint"]
    call("update_endpoint", state)
    # Then the same request is sent
    assert emulation.update_requests(ENDPOINT) == [planned]
    assert planned["RetainAllVariantProperties"] is True
    assert planned["ExcludeRetainedVariantProperties"] == [{"VariantPropertyType": "DesiredWeight"}]


# -- restore_scaling -------------------------------------------------------------------------------------

def test_restore_puts_everything_back_and_a_second_run_changes_nothing(scaled: dict[str, Any]) -> None:
    state = validated()
    call("deregister_scaling", state)
    assert scaling_state(ENDPOINT) != scaled
    failed = {**state, "Error": {"Error": "EndpointUpdateFailed",
                                 "Cause": '{"errorMessage": "endpoint churn-prod is Failed: boom"}'}}
    result = call("restore_scaling", failed)
    assert scaling_state(ENDPOINT) == scaled
    assert result["Failure"]["Error"] == "EndpointUpdateFailed"
    assert result["Failure"]["Cause"].startswith("endpoint churn-prod is Failed: boom. Scaling restored")
    policies = boto3.client("application-autoscaling").describe_scaling_policies(ServiceNamespace="sagemaker")
    arns = sorted(p["PolicyARN"] for p in policies["ScalingPolicies"])
    call("restore_scaling", failed)
    again = boto3.client("application-autoscaling").describe_scaling_policies(ServiceNamespace="sagemaker")
    assert sorted(p["PolicyARN"] for p in again["ScalingPolicies"]) == arns
    assert scaling_state(ENDPOINT) == scaled
