"""The plan says where each value of the new config comes from, which deployment config the update runs
with, and the exact UpdateEndpoint request: plan.build on data, without AWS."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from endpoint_updater.core import plan, scaling
from endpoint_updater.core.plan import Survey
from endpoint_updater.core.request import Request

ENDPOINT = "churn-prod"
NEW = "churn-prod-20261126235726-1a2b3c"
CONFIG = {
    "EndpointConfigName": "churn-prod-config-1",
    "EndpointConfigArn": "arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/churn-prod-config-1",
    "ProductionVariants": [
        {"VariantName": "AllTraffic", "ModelName": "churn-v7", "InstanceType": "ml.m5.large",
         "InitialInstanceCount": 2, "InitialVariantWeight": 1.0},
        {"VariantName": "Canary", "ModelName": "churn-v7", "InstanceType": "ml.m5.large",
         "InitialInstanceCount": 1, "InitialVariantWeight": 1.0},
        {"VariantName": "Serverless", "ModelName": "churn-v7",
         "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5, "ProvisionedConcurrency": 1}},
    ],
    "DataCaptureConfig": {"EnableCapture": True, "InitialSamplingPercentage": 20, "DestinationS3Uri": "s3://c/"},
}
DESCRIPTION = {
    "EndpointName": ENDPOINT, "EndpointConfigName": "churn-prod-config-1", "EndpointStatus": "InService",
    "ProductionVariants": [
        {"VariantName": "AllTraffic", "CurrentWeight": 1.0, "DesiredWeight": 1.0, "CurrentInstanceCount": 4,
         "DesiredInstanceCount": 4},
        {"VariantName": "Canary", "CurrentWeight": 0.1, "DesiredWeight": 0.1, "CurrentInstanceCount": 1,
         "DesiredInstanceCount": 1},
        {"VariantName": "Serverless", "CurrentWeight": 1.0, "DesiredWeight": 1.0,
         "DesiredServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5, "ProvisionedConcurrency": 3}},
    ],
}
GUARDRAILS = {"BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {
    "Type": "LINEAR", "WaitIntervalInSeconds": 300, "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 20}}},
    "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "churn-prod-errors"}]}}


def survey(last_deployment: dict[str, Any] | None = None, autoscaled: bool = True) -> Survey:
    description = copy.deepcopy(DESCRIPTION)
    if last_deployment:
        description["LastDeploymentConfig"] = last_deployment
    targets = [{"ResourceId": scaling.resource_id(ENDPOINT, "AllTraffic"), "ScalableDimension": scaling.INSTANCE_COUNT,
                "MinCapacity": 1, "MaxCapacity": 8}] if autoscaled else []
    return Survey(description=description, config=copy.deepcopy(CONFIG), tags=[],
                  snapshot={"Targets": targets, "Policies": [], "ScheduledActions": [], "Alarms": []})


def sources(built: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(row["VariantName"], row["Property"]): row for row in built["NewConfigSources"]}


def test_each_variant_property_names_where_its_value_comes_from() -> None:
    # Given a canary moved live to 0.1, AllTraffic scaled to 4 and 3 provisioned serverless concurrency
    request = Request(EndpointName=ENDPOINT, VariantChanges=[{"VariantName": "AllTraffic", "ModelName": "churn-v8"}])
    # When the update is planned
    rows = sources(plan.build(request, survey(), NEW))
    # Then each value is the request's, the live endpoint's (with the live field) or the current config's
    assert rows["AllTraffic", "ModelName"] == {"VariantName": "AllTraffic", "Property": "ModelName",
                                               "Value": "churn-v8", "Source": "request"}
    assert rows["Canary", "InitialVariantWeight"] == {"VariantName": "Canary", "Property": "InitialVariantWeight",
                                                      "Value": 0.1, "Source": "live endpoint",
                                                      "LiveField": "DesiredWeight"}
    assert rows["AllTraffic", "InitialInstanceCount"]["Value"] == 4
    assert rows["AllTraffic", "InitialInstanceCount"]["LiveField"] == "DesiredInstanceCount"
    assert rows["Canary", "ModelName"]["Source"] == rows["AllTraffic", "InstanceType"]["Source"] == "current config"
    assert rows["Serverless", "ServerlessConfig.ProvisionedConcurrency"]["Value"] == 3
    assert rows["Serverless", "ServerlessConfig.ProvisionedConcurrency"]["Source"] == "live endpoint"
    assert rows["Serverless", "ServerlessConfig.MemorySizeInMB"]["Source"] == "current config"
    # And every property of every new variant has exactly one row
    built = plan.build(request, survey(), NEW)
    assert len(built["NewConfigSources"]) == sum(
        len(v) - 1 + (len(v["ServerlessConfig"]) - 1 if "ServerlessConfig" in v else 0)
        for v in built["NewConfig"]["ProductionVariants"])


def test_the_new_config_carries_the_live_weights() -> None:
    request = Request(EndpointName=ENDPOINT, VariantChanges=[{"VariantName": "AllTraffic", "ModelName": "churn-v8"}])
    built = plan.build(request, survey(), NEW)
    weights = {v["VariantName"]: v["InitialVariantWeight"] for v in built["NewConfig"]["ProductionVariants"]}
    assert weights == {"AllTraffic": 1.0, "Canary": 0.1, "Serverless": 1.0}
    assert {"VariantName": "Canary", "Field": "InitialVariantWeight", "From": 1.0, "To": 0.1} in built["Changes"]


def test_a_count_after_the_capacity_raise_says_so() -> None:
    request = Request(EndpointName=ENDPOINT, CapacityIncrease={"Add": 2})
    rows = sources(plan.build(request, survey(), NEW))
    assert rows["AllTraffic", "InitialInstanceCount"]["Value"] == 6
    assert rows["AllTraffic", "InitialInstanceCount"]["LiveField"] == "DesiredInstanceCount after the capacity raise"
    assert rows["Canary", "InitialInstanceCount"]["LiveField"] == "DesiredInstanceCount"


@pytest.mark.parametrize(("change", "excluded"), [
    ({"ModelName": "churn-v8"}, None),
    ({"InitialInstanceCount": 3}, [{"VariantPropertyType": "DesiredInstanceCount"}]),
    ({"InitialVariantWeight": 0.5}, [{"VariantPropertyType": "DesiredWeight"}]),
    ({"InitialInstanceCount": 3, "InitialVariantWeight": 0.5},
     [{"VariantPropertyType": "DesiredInstanceCount"}, {"VariantPropertyType": "DesiredWeight"}]),
])
def test_update_endpoint_retains_every_variant_property_but_those_the_request_sets(
        change: dict[str, Any], excluded: list[dict[str, str]] | None) -> None:
    request = Request(EndpointName=ENDPOINT, VariantChanges=[{"VariantName": "Canary", **change}])
    built = plan.build(request, survey(), NEW)
    assert built["UpdateEndpoint"]["RetainAllVariantProperties"] is True
    assert built["UpdateEndpoint"].get("ExcludeRetainedVariantProperties") == excluded
    assert built["UpdateEndpoint"]["EndpointConfigName"] == NEW == built["NewConfig"]["EndpointConfigName"]
    rows = sources(built)
    assert all(rows["Canary", field]["Source"] == "request" for field in change)


def test_a_serverless_config_change_is_sent_without_retain_with_the_reason() -> None:
    request = Request(EndpointName=ENDPOINT, VariantChanges=[
        {"VariantName": "Serverless", "ServerlessConfig": {"MemorySizeInMB": 4096, "MaxConcurrency": 5}}])
    built = plan.build(request, survey(), NEW)
    assert built["UpdateEndpoint"]["RetainAllVariantProperties"] is False
    assert "ExcludeRetainedVariantProperties" not in built["UpdateEndpoint"]
    assert any("ServerlessConfig of Serverless" in reason for reason in built["UpdateEndpointReasons"])


def test_the_last_deployment_config_is_retained_and_shown() -> None:
    built = plan.build(Request(EndpointName=ENDPOINT), survey(last_deployment=GUARDRAILS), NEW)
    assert built["DeploymentConfigSource"] == {"Source": "retained LastDeploymentConfig",
                                               "DeploymentConfig": GUARDRAILS}
    assert built["UpdateEndpoint"]["RetainDeploymentConfig"] is True
    assert "DeploymentConfig" not in built["UpdateEndpoint"]


def test_a_request_deployment_config_replaces_the_last_one() -> None:
    rolling = {"RollingUpdatePolicy": {"MaximumBatchSize": {"Type": "INSTANCE_COUNT", "Value": 1},
                                       "WaitIntervalInSeconds": 60}}
    built = plan.build(Request(EndpointName=ENDPOINT, DeploymentConfig=rolling), survey(last_deployment=GUARDRAILS),
                       NEW)
    assert built["DeploymentConfigSource"] == {"Source": "request", "DeploymentConfig": rolling,
                                               "Replaces": GUARDRAILS}
    assert built["UpdateEndpoint"]["DeploymentConfig"] == rolling
    assert "RetainDeploymentConfig" not in built["UpdateEndpoint"]


def test_without_a_last_deployment_config_nothing_is_retained() -> None:
    built = plan.build(Request(EndpointName=ENDPOINT), survey(), NEW)
    assert built["DeploymentConfigSource"] == {"Source": "none", "DeploymentConfig": None}
    assert "RetainDeploymentConfig" not in built["UpdateEndpoint"]
    assert "DeploymentConfig" not in built["UpdateEndpoint"]


def test_a_refused_plan_has_the_new_keys_empty() -> None:
    refused = plan.refused(Request(EndpointName=ENDPOINT), ValueError("no"))
    assert refused["NewConfigSources"] == [] and refused["UpdateEndpoint"] is None
    assert refused["DeploymentConfigSource"] is None
