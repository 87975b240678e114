"""`endpoint-updater plan --local`: where each value of the new config comes from, which deployment config
applies, and the UpdateEndpoint parameters."""

from __future__ import annotations

import boto3
from cli_support import ENDPOINT, invoke

from endpoint_updater.offline import emulation
from endpoint_updater.offline.runner import LocalRunner

NEW_MODEL = ("--endpoint", ENDPOINT, "--variant", "AllTraffic", "--model", "churn-v8")


def test_plan_shows_where_each_value_comes_from_and_the_retain_flags(emulator: LocalRunner) -> None:
    # Given the demo endpoint with its canary moved live to 0.05 of the traffic
    emulation.configure_capacity_change(ENDPOINT, seconds=0)
    boto3.client("sagemaker").update_endpoint_weights_and_capacities(
        EndpointName=ENDPOINT, DesiredWeightsAndCapacities=[{"VariantName": "Canary", "DesiredWeight": 0.05}])
    # When a new model is planned
    run = invoke("plan", "--local", *NEW_MODEL)
    # Then the plan shows the live weight as the canary's, and UpdateEndpoint's Retain flags
    assert run.code == 0, run.stderr
    lines = run.stdout.splitlines()
    assert any("Canary" in line and "InitialVariantWeight" in line and "0.05" in line and "live endpoint" in line
               for line in lines)
    assert any("AllTraffic" in line and "ModelName" in line and "churn-v8" in line and "request" in line
               for line in lines)
    assert 'UpdateEndpoint parameters: {"RetainAllVariantProperties": true}' in run.stdout
    assert "Deployment config: none" in run.stdout


def test_plan_json_shows_the_retained_deployment_config(emulator: LocalRunner) -> None:
    # Given the endpoint last updated with a linear blue/green policy
    sagemaker = boto3.client("sagemaker")
    linear = {"BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {
        "Type": "LINEAR", "WaitIntervalInSeconds": 300, "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 20}}}}
    config = sagemaker.describe_endpoint_config(EndpointConfigName=f"{ENDPOINT}-config-1")
    sagemaker.create_endpoint_config(EndpointConfigName="linear", ProductionVariants=config["ProductionVariants"])
    emulation.configure_update(ENDPOINT, seconds=0)
    sagemaker.update_endpoint(EndpointName=ENDPOINT, EndpointConfigName="linear", DeploymentConfig=linear)
    # When an update is planned without a DeploymentConfig
    run = invoke("plan", "--local", "--json", *NEW_MODEL)
    # Then the plan says the last one is retained, shows it, and UpdateEndpoint sends RetainDeploymentConfig
    assert run.code == 0, run.stderr
    plan = run.json()
    assert plan["DeploymentConfigSource"] == {"Source": "retained LastDeploymentConfig", "DeploymentConfig": linear}
    assert plan["UpdateEndpoint"]["RetainDeploymentConfig"] is True
    assert plan["UpdateEndpoint"]["EndpointConfigName"] == plan["NewConfig"]["EndpointConfigName"]
