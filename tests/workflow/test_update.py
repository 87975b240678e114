"""The real ASL file, executed end to end: happy paths, and what the workflow does when an update fails.

Every failing case ends with the scaling exactly as it was before the update: targets, policies,
scheduled actions, suspended state and the step-scaling alarms' actions.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from endpoint_updater.offline import emulation
from endpoint_updater.offline.runner import Execution, LocalRunner
from endpoint_updater.offline.scenario import (
    ScalingSpec,
    VariantSpec,
    attach_scaling,
    create_endpoint,
    endpoint_state,
    scaling_state,
)

ENDPOINT = "churn-prod"
FAST = {"PollIntervalSeconds": 1}
NEW_MODEL = {"VariantChanges": [{"VariantName": "AllTraffic", "ModelName": "churn-v8"}]}
TWO_VARIANTS = (VariantSpec(name="AllTraffic", count=2), VariantSpec(name="Canary", model="churn-v7", count=1))
BUDGET_WITHOUT_POLLS = 40
PER_POLL = 3


def update(runner: LocalRunner, **request: Any) -> Execution:
    return runner.run({"EndpointName": ENDPOINT, **FAST, **request})


DEFAULT_SCALING = ScalingSpec()
# Failing cases also carry a partly suspended target, so that a restore that loses SuspendedState fails them.
PARTLY_SUSPENDED = ScalingSpec(suspended={"DynamicScalingInSuspended": True, "DynamicScalingOutSuspended": False,
                                          "ScheduledScalingSuspended": False})


def autoscaled_endpoint(variants: tuple[VariantSpec, ...] = (VariantSpec(),), scaled: tuple[str, ...] = ("AllTraffic",),
                        spec: ScalingSpec = DEFAULT_SCALING) -> tuple[str, dict[str, Any]]:
    config = create_endpoint(ENDPOINT, variants)
    for variant in scaled:
        attach_scaling(ENDPOINT, variant, spec)
    return config, scaling_state(ENDPOINT)


def config_variants(config_name: str) -> dict[str, dict[str, Any]]:
    described = boto3.client("sagemaker").describe_endpoint_config(EndpointConfigName=config_name)
    return {v["VariantName"]: v for v in described["ProductionVariants"]}


def polls(execution: Execution) -> int:
    return sum(name.startswith("Wait") for name in execution.states_entered)


# -- happy paths ---------------------------------------------------------------------------------------

def test_new_model_on_one_autoscaled_variant(runner: LocalRunner) -> None:
    # Given an endpoint with a target, a target-tracking and a step policy, an alarm and a scheduled action
    old_config, before = autoscaled_endpoint()
    assert before["targets"] and before["policies"] and before["scheduled_actions"] and before["alarms"]
    # When the model is updated
    execution = update(runner, **NEW_MODEL)
    # Then the endpoint runs a new config with the new model, and the scaling is exactly as before
    assert execution.status == "SUCCEEDED", execution.cause
    state = endpoint_state(ENDPOINT)
    assert state["EndpointStatus"] == "InService"
    assert state["EndpointConfigName"] == execution.output["NewConfigName"] != old_config
    assert config_variants(state["EndpointConfigName"])["AllTraffic"]["ModelName"] == "churn-v8"
    assert scaling_state(ENDPOINT) == before
    # And the output says what changed and what was restored
    assert execution.output["PreviousConfigName"] == old_config
    assert {"VariantName": "AllTraffic", "Field": "ModelName", "From": "churn-v7", "To": "churn-v8"} in \
        execution.output["Changes"]
    assert execution.output["ScalingRestored"] == {"Targets": 1, "Policies": 2, "ScheduledActions": 1, "Alarms": 1}
    assert execution.transitions <= BUDGET_WITHOUT_POLLS + PER_POLL * polls(execution)
    print(f"happy path: {execution.transitions} state transitions, {polls(execution)} poll(s)")


def test_two_variants_both_changed(runner: LocalRunner) -> None:
    _, before = autoscaled_endpoint(TWO_VARIANTS, scaled=("AllTraffic", "Canary"))
    execution = update(runner, VariantChanges=[
        {"VariantName": "AllTraffic", "ModelName": "churn-v8"},
        {"VariantName": "Canary", "ModelName": "churn-v9", "InstanceType": "ml.c5.xlarge"}])
    assert execution.status == "SUCCEEDED", execution.cause
    variants = config_variants(endpoint_state(ENDPOINT)["EndpointConfigName"])
    assert variants["AllTraffic"]["ModelName"] == "churn-v8"
    assert (variants["Canary"]["ModelName"], variants["Canary"]["InstanceType"]) == ("churn-v9", "ml.c5.xlarge")
    assert scaling_state(ENDPOINT) == before
    assert len(before["targets"]) == 2


def test_only_some_variants_autoscaled(runner: LocalRunner) -> None:
    _, before = autoscaled_endpoint(TWO_VARIANTS, scaled=("AllTraffic",))
    execution = update(runner, VariantChanges=[{"VariantName": "Canary", "ModelName": "churn-v9"}],
                       CapacityIncrease={"Add": 1})
    assert execution.status == "SUCCEEDED", execution.cause
    variants = config_variants(endpoint_state(ENDPOINT)["EndpointConfigName"])
    # The autoscaled variant was raised (2 -> 3); the other one was not.
    assert variants["AllTraffic"]["InitialInstanceCount"] == 3
    assert variants["Canary"]["InitialInstanceCount"] == 1
    assert scaling_state(ENDPOINT) == before


def test_endpoint_without_autoscaling_updates_normally(runner: LocalRunner) -> None:
    create_endpoint(ENDPOINT)
    execution = update(runner, **NEW_MODEL, CapacityIncrease={"Add": 1})
    assert execution.status == "SUCCEEDED", execution.cause
    assert "RaiseCapacity" not in execution.states_entered
    assert config_variants(endpoint_state(ENDPOINT)["EndpointConfigName"])["AllTraffic"]["ModelName"] == "churn-v8"
    assert scaling_state(ENDPOINT)["targets"] == []
    assert execution.output["ScalingRestored"]["Targets"] == 0


@pytest.mark.parametrize(("increase", "expected"), [({"Add": 2}, 4), ({"Percent": 50}, 3)])
def test_capacity_raise_before_the_update(runner: LocalRunner, increase: dict[str, int], expected: int) -> None:
    # Given an autoscaled variant at 2 instances, with room up to 6
    _, before = autoscaled_endpoint(spec=ScalingSpec(max_capacity=6))
    # When the update asks for a precautionary raise
    execution = update(runner, **NEW_MODEL, CapacityIncrease=increase)
    # Then the raise happened first, and the new config starts at the raised count
    assert execution.status == "SUCCEEDED", execution.cause
    assert execution.states_entered.index("RaiseCapacity") < execution.states_entered.index("CreateEndpointConfig")
    assert "CheckCapacity" in execution.states_entered
    assert config_variants(endpoint_state(ENDPOINT)["EndpointConfigName"])["AllTraffic"]["InitialInstanceCount"] \
        == expected
    assert endpoint_state(ENDPOINT)["Variants"]["AllTraffic"]["DesiredInstanceCount"] == expected
    assert scaling_state(ENDPOINT) == before


def test_serverless_variant_gets_its_new_model(runner: LocalRunner) -> None:
    create_endpoint(ENDPOINT, (VariantSpec(name="Serverless", serverless=True),))
    execution = update(runner, VariantChanges=[{"VariantName": "Serverless", "ModelName": "churn-v8"}])
    assert execution.status == "SUCCEEDED", execution.cause
    variant = config_variants(endpoint_state(ENDPOINT)["EndpointConfigName"])["Serverless"]
    assert variant["ModelName"] == "churn-v8"
    assert "InitialInstanceCount" not in variant and variant["ServerlessConfig"]["MemorySizeInMB"] == 2048


def test_deployment_config_is_passed_to_update_endpoint(runner: LocalRunner) -> None:
    _, before = autoscaled_endpoint()
    deployment = {"RollingUpdatePolicy": {"MaximumBatchSize": {"Type": "INSTANCE_COUNT", "Value": 1},
                                          "WaitIntervalInSeconds": 60}}
    execution = update(runner, **NEW_MODEL, DeploymentConfig=deployment)
    assert execution.status == "SUCCEEDED", execution.cause
    described = boto3.client("sagemaker").describe_endpoint(EndpointName=ENDPOINT)
    assert described["LastDeploymentConfig"] == deployment
    assert scaling_state(ENDPOINT) == before


def test_suspended_scaling_stays_suspended(runner: LocalRunner) -> None:
    suspended = {"DynamicScalingInSuspended": True, "DynamicScalingOutSuspended": False,
                 "ScheduledScalingSuspended": True}
    _, before = autoscaled_endpoint(spec=ScalingSpec(suspended=suspended))
    execution = update(runner, **NEW_MODEL)
    assert execution.status == "SUCCEEDED", execution.cause
    after = scaling_state(ENDPOINT)
    assert after == before
    assert after["targets"][0]["SuspendedState"] == suspended


# -- failures: the update fails, the scaling is restored ---------------------------------------------

def assert_failed_and_restored(execution: Execution, before: dict[str, Any], error: str) -> None:
    assert execution.status == "FAILED"
    assert execution.error == error, execution.cause
    assert "RestoreScaling" in execution.states_entered
    assert scaling_state(ENDPOINT) == before


# (task function, AWS call made to fail permanently, whether the step runs only with a capacity raise)
STEPS = [
    ("deregister_scaling", ("application-autoscaling", "DeregisterScalableTarget"), False),
    ("raise_capacity", ("sagemaker", "UpdateEndpointWeightsAndCapacities"), True),
    ("check_endpoint", None, True),
    ("check_endpoint", None, False),
    ("create_endpoint_config", ("sagemaker", "CreateEndpointConfig"), False),
    ("update_endpoint", ("sagemaker", "UpdateEndpoint"), False),
]


@pytest.mark.parametrize(("folder", "call", "with_raise"), STEPS,
                         ids=[f"{s[0]}{'-capacity' if s[2] else ''}" for s in STEPS])
def test_a_crash_at_any_step_restores_the_scaling(runner: LocalRunner, folder: str, call: Any,
                                                  with_raise: bool) -> None:
    _, before = autoscaled_endpoint(spec=PARTLY_SUSPENDED)
    runner.crash(folder, RuntimeError(f"{folder} crashed"), times=10)
    extra = {"CapacityIncrease": {"Add": 1}} if with_raise else {}
    execution = update(runner, **NEW_MODEL, **extra)
    assert_failed_and_restored(execution, before, "RuntimeError")
    assert f"{folder} crashed" in (execution.cause or "")


@pytest.mark.parametrize(("folder", "call", "with_raise"), [s for s in STEPS if s[1]],
                         ids=[s[0] for s in STEPS if s[1]])
def test_a_permanent_aws_error_at_any_step_restores_the_scaling(runner: LocalRunner, folder: str, call: Any,
                                                                with_raise: bool) -> None:
    old_config, before = autoscaled_endpoint(spec=PARTLY_SUSPENDED)
    service, operation = call
    emulation.inject_fault(service, operation, "ValidationException", "refused by the emulator", times=10)
    extra = {"CapacityIncrease": {"Add": 1}} if with_raise else {}
    execution = update(runner, **NEW_MODEL, **extra)
    assert_failed_and_restored(execution, before, "AwsRequestFailed")
    assert operation in (execution.cause or "") and "refused by the emulator" in (execution.cause or "")
    assert endpoint_state(ENDPOINT)["EndpointConfigName"] == old_config


@pytest.mark.parametrize(("service", "operation", "code"), [
    ("sagemaker", "UpdateEndpoint", "ThrottlingException"),
    ("sagemaker", "DescribeEndpoint", "ThrottlingException"),
    ("application-autoscaling", "DeregisterScalableTarget", "ConcurrentUpdateException"),
    ("application-autoscaling", "RegisterScalableTarget", "ConcurrentUpdateException"),
])
def test_a_transient_error_is_retried_and_the_update_succeeds(runner: LocalRunner, service: str, operation: str,
                                                              code: str) -> None:
    # Given more failures in a row than the SDK retries by itself (the runner gives it 2 attempts)
    _, before = autoscaled_endpoint()
    emulation.inject_fault(service, operation, code, "try again", times=3)
    # When the workflow runs, Then the state machine's Retry carries it through
    execution = update(runner, **NEW_MODEL)
    assert execution.status == "SUCCEEDED", execution.cause
    assert scaling_state(ENDPOINT) == before
    failed_attempts = [e for e in execution.events if e["type"] == "LambdaFunctionFailed"]
    assert failed_attempts and all(
        e["lambdaFunctionFailedEventDetails"]["error"] == "AwsTransientError" for e in failed_attempts)


def test_a_crash_of_the_restore_is_retried(runner: LocalRunner) -> None:
    _, before = autoscaled_endpoint()
    runner.crash("restore_scaling", times=1)
    execution = update(runner, **NEW_MODEL)
    assert execution.status == "SUCCEEDED", execution.cause
    assert scaling_state(ENDPOINT) == before


@pytest.mark.parametrize(("outcome", "error", "reason_in_cause"), [
    ("rollback", "EndpointUpdateRolledBack", "the update was rolled back"),
    ("silent_rollback", "EndpointUpdateRolledBack", "no FailureReason given"),
    ("fail", "EndpointUpdateFailed", "is Failed"),
    ("rollback_failed", "EndpointUpdateRollbackFailed", "mix of the old and the new config"),
])
def test_an_update_that_does_not_land_fails_and_restores(runner: LocalRunner, outcome: str, error: str,
                                                         reason_in_cause: str) -> None:
    # Given an update that SageMaker will not complete on the new config
    old_config, before = autoscaled_endpoint(spec=PARTLY_SUSPENDED)
    emulation.configure_update(ENDPOINT, seconds=0.5, outcome=outcome, failure_reason="model container crashed")
    # When the workflow runs it
    execution = update(runner, **NEW_MODEL)
    # Then the execution fails with a cause a person can act on, and the scaling is restored
    assert_failed_and_restored(execution, before, error)
    assert reason_in_cause in (execution.cause or "")
    assert "Scaling restored as before the update" in (execution.cause or "")
    if outcome in ("rollback", "silent_rollback"):
        assert endpoint_state(ENDPOINT) ["EndpointConfigName"] == old_config
        assert f"InService on {old_config}" in (execution.cause or "")


def test_timeout_stops_waiting_restores_and_fails(runner: LocalRunner) -> None:
    _, before = autoscaled_endpoint()
    emulation.configure_update(ENDPOINT, outcome="stuck")
    execution = update(runner, **NEW_MODEL, TimeoutSeconds=3)
    assert_failed_and_restored(execution, before, "EndpointUpdateTimedOut")
    assert "TimeoutSeconds" in (execution.cause or "")


def test_endpoint_not_in_service_is_refused_and_nothing_changes(runner: LocalRunner) -> None:
    old_config, before = autoscaled_endpoint()
    emulation.set_endpoint_status(ENDPOINT, "Updating")
    configs_before = boto3.client("sagemaker").list_endpoint_configs()["EndpointConfigs"]
    execution = update(runner, **NEW_MODEL)
    assert execution.status == "FAILED"
    assert execution.error == "EndpointNotInService"
    assert "is Updating" in (execution.cause or "")
    assert execution.tasks_entered == ["ValidateAndSnapshot"]
    assert scaling_state(ENDPOINT) == before
    assert boto3.client("sagemaker").list_endpoint_configs()["EndpointConfigs"] == configs_before
    assert endpoint_state(ENDPOINT)["EndpointConfigName"] == old_config


def test_a_deadline_hours_away_is_reached_after_the_polls_real_time_would_make(runner: LocalRunner) -> None:
    # Given an update that never ends, a deadline of two hours and a poll every 20 minutes
    _, before = autoscaled_endpoint()
    emulation.configure_update(ENDPOINT, outcome="stuck")
    # When the workflow runs it
    execution = update(runner, **NEW_MODEL, Completion="polling", TimeoutSeconds=7200, InitialPollDelaySeconds=1200,
                       PollIntervalSeconds=1200)
    # Then the Deadline the functions compare and the Wait states agree on the time: the first poll at or
    # after the deadline, the sixth, ends the update, and the history spans the two hours
    assert_failed_and_restored(execution, before, "EndpointUpdateTimedOut")
    assert execution.states_entered.count("CheckUpdate") == 6
    stamps = [event["timestamp"] for event in execution.events]
    assert 7200 <= (stamps[-1] - stamps[0]).total_seconds() < 7200 + 1200


def test_recent_production_variant_fields_are_carried_into_the_new_config(runner: LocalRunner) -> None:
    # Given an endpoint whose variant sets fields only a recent botocore knows (the pinned one, which the
    # functions' layer ships: tests/unit/test_sdk_model_fields.py)
    recent = {"InferenceAmiVersion": "al2-ami-sagemaker-inference-gpu-2",
              "CapacityReservationConfig": {"CapacityReservationPreference": "capacity-reservations-only",
                                            "MlReservationArn": "arn:aws:sagemaker:us-east-1:123456789012:"
                                                                "training-plan/churn-plan"}}
    create_endpoint("churn-staging")  # the models churn-v7 to churn-v10
    sagemaker = boto3.client("sagemaker")
    sagemaker.create_endpoint_config(
        EndpointConfigName=f"{ENDPOINT}-config-1",
        ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": "churn-v7", "InstanceType": "ml.g4dn.xlarge",
                             "InitialInstanceCount": 2, "InitialVariantWeight": 1.0, **recent}])
    sagemaker.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName=f"{ENDPOINT}-config-1")

    # When the model is updated
    execution = update(runner, **NEW_MODEL)

    # Then the new config carries them as they were, beside the new model
    assert execution.status == "SUCCEEDED", execution.output
    new = config_variants(endpoint_state(ENDPOINT)["EndpointConfigName"])["AllTraffic"]
    assert new["ModelName"] == "churn-v8"
    assert {field: new.get(field) for field in recent} == recent
