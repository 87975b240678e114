"""The real ASL file, end to end: an update keeps every live property the request does not change.

UpdateEndpoint without RetainAllVariantProperties resets each variant's weight and count to the new config's
InitialVariantWeight/InitialInstanceCount, and without RetainDeploymentConfig it drops the endpoint's
LastDeploymentConfig (traffic shifting, auto-rollback alarms). The emulator does both, as the API reference
says; these tests prove the workflow keeps them.
"""

from __future__ import annotations

from typing import Any

import boto3

from endpoint_updater.offline import emulation
from endpoint_updater.offline.runner import Execution, LocalRunner
from endpoint_updater.offline.scenario import (
    VariantSpec,
    attach_scaling,
    create_endpoint,
    endpoint_state,
    scaling_state,
)

ENDPOINT = "churn-prod"
FAST = {"PollIntervalSeconds": 1, "InitialPollDelaySeconds": 1}
TWO_VARIANTS = (VariantSpec(name="AllTraffic", count=2), VariantSpec(name="Canary", count=1))
CANARY_POLICY = {
    "BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {
        "Type": "CANARY", "WaitIntervalInSeconds": 600, "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 10}}},
    "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "churn-prod-errors"}]},
}


def update(runner: LocalRunner, **request: Any) -> Execution:
    return runner.run({"EndpointName": ENDPOINT, **FAST, **request})


def move_weights(**weights: float) -> None:
    """An operator's UpdateEndpointWeightsAndCapacities, applied at once."""
    emulation.configure_capacity_change(ENDPOINT, seconds=0)
    boto3.client("sagemaker").update_endpoint_weights_and_capacities(
        EndpointName=ENDPOINT,
        DesiredWeightsAndCapacities=[{"VariantName": name, "DesiredWeight": w} for name, w in weights.items()])


def weights() -> dict[str, float]:
    return {name: v["DesiredWeight"] for name, v in endpoint_state(ENDPOINT)["Variants"].items()}


def deployed_with_guardrails() -> None:
    """The endpoint's last update ran with a canary policy and an auto-rollback alarm (LastDeploymentConfig)."""
    sagemaker = boto3.client("sagemaker")
    config = sagemaker.describe_endpoint_config(EndpointConfigName=f"{ENDPOINT}-config-1")
    sagemaker.create_endpoint_config(EndpointConfigName=f"{ENDPOINT}-config-guarded",
                                     ProductionVariants=config["ProductionVariants"])
    boto3.client("cloudwatch").put_metric_alarm(
        AlarmName="churn-prod-errors", Namespace="AWS/SageMaker", MetricName="Invocation5XXErrors",
        Dimensions=[{"Name": "EndpointName", "Value": ENDPOINT}], Statistic="Sum", Period=60, EvaluationPeriods=1,
        Threshold=1.0, ComparisonOperator="GreaterThanOrEqualToThreshold")
    emulation.configure_update(ENDPOINT, seconds=0)
    sagemaker.update_endpoint(EndpointName=ENDPOINT, EndpointConfigName=f"{ENDPOINT}-config-guarded",
                              DeploymentConfig=CANARY_POLICY)
    assert sagemaker.describe_endpoint(EndpointName=ENDPOINT)["LastDeploymentConfig"] == CANARY_POLICY
    emulation.configure_update(ENDPOINT)


# -- item 1: traffic weights ---------------------------------------------------------------------------------

def test_a_canary_weight_moved_live_survives_a_model_update(runner: LocalRunner) -> None:
    # Given two autoscaled variants, and the canary moved to 0.1 of the traffic by an operator
    create_endpoint(ENDPOINT, TWO_VARIANTS)
    attach_scaling(ENDPOINT, "AllTraffic")
    before = scaling_state(ENDPOINT)
    move_weights(Canary=0.1)
    # When the model of the other variant is updated
    execution = update(runner, VariantChanges=[{"VariantName": "AllTraffic", "ModelName": "churn-v8"}])
    # Then the canary still takes 0.1 of the traffic, and the new config says so too
    assert execution.status == "SUCCEEDED", execution.cause
    assert weights() == {"AllTraffic": 1.0, "Canary": 0.1}
    new_config = boto3.client("sagemaker").describe_endpoint_config(
        EndpointConfigName=execution.output["NewConfigName"])
    assert {v["VariantName"]: v["InitialVariantWeight"] for v in new_config["ProductionVariants"]} == \
        {"AllTraffic": 1.0, "Canary": 0.1}
    assert scaling_state(ENDPOINT) == before
    # And UpdateEndpoint kept the live variant properties
    sent = emulation.update_requests(ENDPOINT)[-1]
    assert sent["RetainAllVariantProperties"] is True and "ExcludeRetainedVariantProperties" not in sent


def test_a_weight_the_request_sets_applies_and_the_other_live_weights_stay(runner: LocalRunner) -> None:
    # Given both variants' weights moved live
    create_endpoint(ENDPOINT, TWO_VARIANTS)
    move_weights(AllTraffic=0.9, Canary=0.1)
    # When the request sets the canary's weight
    execution = update(runner, VariantChanges=[{"VariantName": "Canary", "InitialVariantWeight": 0.5}])
    # Then the canary gets the requested weight, and the other variant keeps its live one
    assert execution.status == "SUCCEEDED", execution.cause
    assert weights() == {"AllTraffic": 0.9, "Canary": 0.5}
    assert emulation.update_requests(ENDPOINT)[-1]["ExcludeRetainedVariantProperties"] == [
        {"VariantPropertyType": "DesiredWeight"}]


def test_a_serverless_config_change_is_sent_without_retain_and_live_weights_stay(runner: LocalRunner) -> None:
    # Given an instance-based variant at a live weight of 0.3 beside a serverless one
    create_endpoint(ENDPOINT, (VariantSpec(name="AllTraffic"), VariantSpec(name="Serverless", serverless=True)))
    move_weights(AllTraffic=0.3)
    # When the serverless variant's config changes
    serverless = {"MemorySizeInMB": 4096, "MaxConcurrency": 10}
    execution = update(runner, VariantChanges=[{"VariantName": "Serverless", "ServerlessConfig": serverless}])
    # Then the requested config is deployed (no Retain that might keep the live one), and the weight stays
    assert execution.status == "SUCCEEDED", execution.cause
    variants = endpoint_state(ENDPOINT)["Variants"]
    assert variants["AllTraffic"]["DesiredWeight"] == 0.3
    assert variants["Serverless"]["DesiredServerlessConfig"] == serverless
    assert emulation.update_requests(ENDPOINT)[-1]["RetainAllVariantProperties"] is False


# -- item 2: deployment guardrails ---------------------------------------------------------------------------

def test_the_last_deployment_config_is_retained_by_an_update_without_one(runner: LocalRunner) -> None:
    # Given an endpoint last updated with a canary policy and an auto-rollback alarm
    create_endpoint(ENDPOINT)
    deployed_with_guardrails()
    # When the model is updated without a DeploymentConfig
    execution = update(runner, VariantChanges=[{"VariantName": "AllTraffic", "ModelName": "churn-v8"}])
    # Then UpdateEndpoint reused the last deployment config, which the endpoint still reports
    assert execution.status == "SUCCEEDED", execution.cause
    described = boto3.client("sagemaker").describe_endpoint(EndpointName=ENDPOINT)
    assert described.get("LastDeploymentConfig") == CANARY_POLICY
    sent = emulation.update_requests(ENDPOINT)[-1]
    assert sent["RetainDeploymentConfig"] is True and "DeploymentConfig" not in sent


def test_the_retained_auto_rollback_alarm_guards_the_update(runner: LocalRunner) -> None:
    # Given an endpoint last updated with an auto-rollback alarm, and that alarm firing
    create_endpoint(ENDPOINT)
    attach_scaling(ENDPOINT, "AllTraffic")
    deployed_with_guardrails()
    before = scaling_state(ENDPOINT)
    boto3.client("cloudwatch").set_alarm_state(AlarmName="churn-prod-errors", StateValue="ALARM",
                                               StateReason="5XX errors")
    # When the model is updated without a DeploymentConfig
    execution = update(runner, VariantChanges=[{"VariantName": "AllTraffic", "ModelName": "churn-v8"}])
    # Then the guardrail rolled the update back, and the workflow says so, with the scaling restored
    assert execution.status == "FAILED"
    assert execution.error == "EndpointUpdateRolledBack", execution.cause
    assert endpoint_state(ENDPOINT)["EndpointConfigName"] == f"{ENDPOINT}-config-guarded"
    assert scaling_state(ENDPOINT) == before


def test_a_deployment_config_in_the_request_replaces_the_retained_one(runner: LocalRunner) -> None:
    # Given an endpoint last updated with a canary policy
    create_endpoint(ENDPOINT)
    deployed_with_guardrails()
    # When the request gives its own deployment config
    rolling = {"RollingUpdatePolicy": {"MaximumBatchSize": {"Type": "INSTANCE_COUNT", "Value": 1},
                                       "WaitIntervalInSeconds": 60}}
    execution = update(runner, VariantChanges=[{"VariantName": "AllTraffic", "ModelName": "churn-v8"}],
                       DeploymentConfig=rolling)
    # Then UpdateEndpoint gets the request's, not the retained one
    assert execution.status == "SUCCEEDED", execution.cause
    sent = emulation.update_requests(ENDPOINT)[-1]
    assert sent["DeploymentConfig"] == rolling and "RetainDeploymentConfig" not in sent
    assert boto3.client("sagemaker").describe_endpoint(EndpointName=ENDPOINT)["LastDeploymentConfig"] == rolling
