"""The precautionary capacity raise and the deadline, on the real ASL file.

- UpdateEndpointWeightsAndCapacities changes "the capacity of one variant" (its API reference): each
  autoscaled variant is raised by its own call, and confirmed before the next one is asked for.
- The raise stops at the scalable target's MaxCapacity unless the request lifts it, and the plan says so.
- A raise that SageMaker rolls back (InService again at the old count) fails the update before anything else
  changes, and the scaling is restored.
- No Wait runs past the request's deadline: a timeout is noticed within one poll interval.
"""

from __future__ import annotations

from typing import Any

import boto3

from endpoint_updater.core import store
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
NEW_MODEL = {"VariantChanges": [{"VariantName": "AllTraffic", "ModelName": "churn-v8"}]}
TWO_VARIANTS = (VariantSpec(name="AllTraffic", count=2), VariantSpec(name="Canary", count=1))
RAISE = ("raise_capacity", "sagemaker:UpdateEndpointWeightsAndCapacities")


def autoscaled(variants: tuple[VariantSpec, ...] = (VariantSpec(count=2),), max_capacity: int = 6,
               scaled: tuple[str, ...] = ("AllTraffic",)) -> tuple[str, dict[str, Any]]:
    config = create_endpoint(ENDPOINT, variants)
    for variant in scaled:
        attach_scaling(ENDPOINT, variant, ScalingSpec(max_capacity=max_capacity))
    return config, scaling_state(ENDPOINT)


def update(runner: LocalRunner, **request: Any) -> Execution:
    return runner.run({"EndpointName": ENDPOINT, "PollIntervalSeconds": 1, **NEW_MODEL, **request})


def new_config_counts(execution: Execution) -> dict[str, int]:
    described = boto3.client("sagemaker").describe_endpoint_config(
        EndpointConfigName=execution.output["NewConfigName"])
    return {v["VariantName"]: v["InitialInstanceCount"] for v in described["ProductionVariants"]}


# Emulated time runs at real speed while a function runs: on a loaded machine the steps before a Wait may
# take seconds. What is asserted is the Wait itself: it ends at the deadline at the latest (a Wait takes
# whole seconds, rounded up), plus the moment it takes the interpreter to enter the next state: within one
# interval of 2 s.
SLACK = 2.0


def seconds_since_start(execution: Execution, state: str) -> float:
    """When `state` was last entered, in emulated seconds after the execution started."""
    entered = [e["timestamp"] for e in execution.events
               if e["type"].endswith("StateEntered") and e["stateEnteredEventDetails"]["name"] == state]
    return float((entered[-1] - execution.events[0]["timestamp"]).total_seconds())


# -- one variant per call, each confirmed --------------------------------------------------------------

def test_two_autoscaled_variants_are_raised_by_one_call_each_confirmed_before_the_next(runner: LocalRunner) -> None:
    # Given two autoscaled variants, at 2 and 1 instances
    _, before = autoscaled(TWO_VARIANTS, scaled=("AllTraffic", "Canary"))
    emulation.configure_capacity_change(ENDPOINT, seconds=3)
    # When the update asks for one more instance each
    execution = update(runner, CapacityIncrease={"Add": 1})
    # Then it succeeded with two raise calls, each followed by checks until confirmed before the next raise
    assert execution.status == "SUCCEEDED", execution.cause
    assert runner.calls.count(RAISE) == 2
    states = [s for s in execution.states_entered if s in ("RaiseCapacity", "CheckCapacity", "CreateEndpointConfig")]
    second = states.index("RaiseCapacity", 1)
    assert states[0] == "RaiseCapacity" and "CheckCapacity" in states[1:second]
    assert "CheckCapacity" in states[second:] and states[-1] == "CreateEndpointConfig"
    # And both were raised, the new config starts at the raised counts, and the scaling is as before
    assert new_config_counts(execution) == {"AllTraffic": 3, "Canary": 2}
    assert scaling_state(ENDPOINT) == before
    # And the update's record has each raise confirmed, in turn
    history = store.read_update(ENDPOINT, execution.arn)["History"]
    assert [(e["Phase"], e.get("Detail")) for e in history if e["Phase"].startswith("CapacityRaise")] == [
        ("CapacityRaiseStarted", "AllTraffic 2 -> 3"), ("CapacityRaised", "AllTraffic 2 -> 3"),
        ("CapacityRaiseStarted", "Canary 1 -> 2"), ("CapacityRaised", "Canary 1 -> 2")]


def test_the_emulated_api_refuses_the_capacity_of_two_variants_in_one_call(runner: LocalRunner) -> None:
    # Given an endpoint with two variants
    autoscaled(TWO_VARIANTS)
    sagemaker = boto3.client("sagemaker")
    # When one call asks to resize both / Then it is refused, as the API reference allows one variant's capacity
    try:
        sagemaker.update_endpoint_weights_and_capacities(EndpointName=ENDPOINT, DesiredWeightsAndCapacities=[
            {"VariantName": "AllTraffic", "DesiredInstanceCount": 3},
            {"VariantName": "Canary", "DesiredInstanceCount": 2}])
    except sagemaker.exceptions.ClientError as error:
        assert error.response["Error"]["Code"] == "ValidationException"
        assert "capacity of one variant" in str(error)
    else:
        raise AssertionError("two variants' capacity accepted in one call")
    assert endpoint_state(ENDPOINT)["EndpointStatus"] == "InService"
    # While weights of both, with the capacity of one, are accepted
    sagemaker.update_endpoint_weights_and_capacities(EndpointName=ENDPOINT, DesiredWeightsAndCapacities=[
        {"VariantName": "AllTraffic", "DesiredWeight": 0.5, "DesiredInstanceCount": 3},
        {"VariantName": "Canary", "DesiredWeight": 0.5}])


# -- MaxCapacity -----------------------------------------------------------------------------------------

def test_the_raise_stops_at_max_capacity_and_the_plan_says_so(runner: LocalRunner) -> None:
    # Given a variant at 2 instances whose scalable target allows at most 3
    _, before = autoscaled(max_capacity=3)
    # When the plan and the update ask for 2 more
    plan = update(runner, CapacityIncrease={"Add": 2}, DryRun=True).output
    execution = update(runner, CapacityIncrease={"Add": 2})
    # Then the plan shows the requested and the planned count, and why
    [raised] = plan["CapacityRaise"]
    assert {k: raised[k] for k in ("VariantName", "From", "To", "Requested", "MaxCapacity")} == {
        "VariantName": "AllTraffic", "From": 2, "To": 3, "Requested": 4, "MaxCapacity": 3}
    assert "capped at the scalable target's MaxCapacity 3" in raised["Reason"]
    assert "AboveMaxCapacity" in raised["Reason"]
    # And the update raised to the cap only
    assert execution.status == "SUCCEEDED", execution.cause
    assert new_config_counts(execution) == {"AllTraffic": 3}
    assert endpoint_state(ENDPOINT)["Variants"]["AllTraffic"]["DesiredInstanceCount"] == 3
    assert scaling_state(ENDPOINT) == before


def test_a_variant_already_at_max_capacity_is_not_raised(runner: LocalRunner) -> None:
    # Given a variant already at its target's MaxCapacity
    autoscaled(max_capacity=2)
    # When the update asks for a raise / Then the plan lists it unraised, and no raise is made
    plan = update(runner, CapacityIncrease={"Percent": 50}, DryRun=True).output
    assert plan["RaiseCapacity"] is False
    assert plan["CapacityRaise"][0]["To"] == 2 and "already at or above" in plan["CapacityRaise"][0]["Reason"]
    execution = update(runner, CapacityIncrease={"Percent": 50})
    assert execution.status == "SUCCEEDED", execution.cause
    assert "RaiseCapacity" not in execution.states_entered


def test_above_max_capacity_when_the_request_says_so(runner: LocalRunner) -> None:
    # Given a variant at 2 instances whose scalable target allows at most 3
    _, before = autoscaled(max_capacity=3)
    increase = {"Add": 2, "AboveMaxCapacity": True}
    # When the request lifts the cap
    plan = update(runner, CapacityIncrease=increase, DryRun=True).output
    execution = update(runner, CapacityIncrease=increase)
    # Then the plan raises to 4 and says the restore brings the count back within the target's range
    [raised] = plan["CapacityRaise"]
    assert (raised["To"], raised["Requested"], raised["MaxCapacity"]) == (4, 4, 3)
    assert "RegisterScalableTarget moves the count back" in raised["Reason"]
    # And the update started at 4; re-registering the target moved it back to its MaxCapacity
    assert execution.status == "SUCCEEDED", execution.cause
    assert new_config_counts(execution) == {"AllTraffic": 4}
    assert endpoint_state(ENDPOINT)["Variants"]["AllTraffic"]["DesiredInstanceCount"] == 3
    assert scaling_state(ENDPOINT) == before


# -- a raise that rolls back -----------------------------------------------------------------------------

def test_a_rolled_back_raise_fails_the_update_before_anything_else_changes(runner: LocalRunner) -> None:
    # Given a raise that SageMaker will roll back: Updating, then InService again at the old count
    old_config, before = autoscaled()
    emulation.configure_capacity_change(ENDPOINT, seconds=2, outcome="rollback")
    configs = boto3.client("sagemaker").list_endpoint_configs()["EndpointConfigs"]
    # When the update asks for a raise
    execution = update(runner, CapacityIncrease={"Add": 1})
    # Then it fails with CapacityRaiseFailed, naming the variant and its counts
    assert execution.status == "FAILED"
    assert execution.error == "CapacityRaiseFailed", execution.cause
    assert "variant AllTraffic has DesiredInstanceCount 2, CurrentInstanceCount 2" in (execution.cause or "")
    assert "Scaling restored as before the update" in (execution.cause or "")
    # And nothing after the raise happened: no new config, no UpdateEndpoint; the scaling is restored
    assert "CreateEndpointConfig" not in execution.states_entered
    assert not [call for call in runner.calls if call[1] in ("sagemaker:CreateEndpointConfig",
                                                              "sagemaker:UpdateEndpoint")]
    assert boto3.client("sagemaker").list_endpoint_configs()["EndpointConfigs"] == configs
    state = endpoint_state(ENDPOINT)
    assert (state["EndpointStatus"], state["EndpointConfigName"]) == ("InService", old_config)
    assert state["Variants"]["AllTraffic"]["DesiredInstanceCount"] == 2
    assert scaling_state(ENDPOINT) == before
    assert "CapacityRaised" not in [e["Phase"] for e in store.read_update(ENDPOINT, execution.arn)["History"]]


# -- the deadline ----------------------------------------------------------------------------------------

def test_a_timeout_shorter_than_the_initial_delay_is_noticed_within_one_interval(runner: LocalRunner) -> None:
    # Given an update that never ends, TimeoutSeconds 2 and a first poll asked for after 12 s
    _, before = autoscaled()
    emulation.configure_update(ENDPOINT, outcome="stuck")
    # When the workflow runs it
    execution = update(runner, Completion="polling", TimeoutSeconds=2, InitialPollDelaySeconds=12,
                       PollIntervalSeconds=2)
    # Then it times out, and the poll that noticed came at the deadline, within one interval (2 s): the wait
    # before it ended at the deadline instead of 12 s after UpdateEndpoint
    assert execution.status == "FAILED"
    assert execution.error == "EndpointUpdateTimedOut", execution.cause
    waited_from = seconds_since_start(execution, "WaitBeforeFirstPoll")
    noticed = seconds_since_start(execution, "CheckUpdate")
    assert noticed <= max(2, waited_from) + SLACK
    assert execution.states_entered.count("CheckUpdate") == 1
    assert scaling_state(ENDPOINT) == before


def test_a_capacity_wait_does_not_run_past_the_deadline(runner: LocalRunner) -> None:
    # Given a raise that takes an hour, TimeoutSeconds 30 and polls ten minutes apart
    _, before = autoscaled()
    emulation.configure_capacity_change(ENDPOINT, seconds=3600)
    # When the workflow runs it
    execution = update(runner, CapacityIncrease={"Add": 1}, Completion="polling", TimeoutSeconds=30,
                       PollIntervalSeconds=600)
    # Then the check after the first (shortened) wait times out, at the deadline and not ten minutes later
    assert execution.error == "EndpointUpdateTimedOut", execution.cause
    assert execution.states_entered.count("CheckCapacity") == 1
    assert seconds_since_start(execution, "CheckCapacity") <= 30 + SLACK
    assert "CreateEndpointConfig" not in execution.states_entered
    assert scaling_state(ENDPOINT) == before
