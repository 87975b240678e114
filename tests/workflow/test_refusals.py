"""Bad input is refused by the first state, with an error naming the field, and nothing changes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from endpoint_updater.core.errors import cause_message
from endpoint_updater.offline.runner import LocalRunner
from endpoint_updater.offline.scenario import (
    VariantSpec,
    attach_scaling,
    create_endpoint,
    endpoint_state,
    scaling_state,
)

ENDPOINT = "churn-prod"
VARIANTS = (VariantSpec(name="AllTraffic"), VariantSpec(name="Serverless", serverless=True))
ROLLING = {"RollingUpdatePolicy": {"MaximumBatchSize": {"Type": "INSTANCE_COUNT", "Value": 1},
                                   "WaitIntervalInSeconds": 60}}


def change(**fields: Any) -> dict[str, Any]:
    return {"EndpointName": ENDPOINT, "VariantChanges": [{"VariantName": "AllTraffic", **fields}]}


@pytest.fixture(scope="module")
def deployed() -> Iterator[tuple[LocalRunner, dict[str, Any]]]:
    with LocalRunner() as runner:
        create_endpoint(ENDPOINT, VARIANTS)
        attach_scaling(ENDPOINT, "AllTraffic")
        yield runner, {"scaling": scaling_state(ENDPOINT), "endpoint": endpoint_state(ENDPOINT)}


@pytest.mark.parametrize(("request_input", "field", "allowed"), [
    ({}, "EndpointName", "required"),
    ({"EndpointName": ENDPOINT, "Foo": 1}, "Foo", "allowed fields: EndpointName"),
    ({"EndpointName": ENDPOINT, "VariantChanges": [{"VariantName": "Nope", "ModelName": "m"}]},
     "VariantChanges[0].VariantName", "its variants: AllTraffic, Serverless"),
    ({"EndpointName": ENDPOINT, "VariantChanges": [{"VariantName": "AllTraffic", "Model": "m"}]},
     "VariantChanges[0].Model", "allowed: "),
    ({"EndpointName": ENDPOINT, "CapacityIncrease": {"Add": -1}}, "CapacityIncrease.Add", "from 1 to"),
    ({"EndpointName": ENDPOINT, "CapacityIncrease": {"Add": 1, "Percent": 10}}, "CapacityIncrease",
     "exactly one of Add"),
    ({"EndpointName": ENDPOINT, "VariantChanges": [{"VariantName": "Serverless", "InstanceType": "ml.m5.large"}]},
     "VariantChanges[0].InstanceType", "is serverless"),
    ({"EndpointName": ENDPOINT, "VariantChanges": [{"VariantName": "AllTraffic", "InitialVariantWeight": "x"}]},
     "VariantChanges[0].InitialVariantWeight", "give a finite number of at least 0"),
    ({"EndpointName": ENDPOINT, "DeploymentConfig": {"BlueGreenUpdatePolicy": {"Bogus": 1}}},
     "DeploymentConfig.BlueGreenUpdatePolicy.Bogus", "allowed fields: TrafficRoutingConfiguration"),
    ({"EndpointName": "no-such-endpoint"}, None, "does not exist"),
    # Each input below once passed this state: it was deployed, or refused by AWS after the scaling was
    # deregistered.
    (change(InitialInstanceCount=True), "VariantChanges[0].InitialInstanceCount", "true is not allowed"),
    (change(InitialVariantWeight=float("inf")), "VariantChanges[0].InitialVariantWeight", "give a finite number"),
    (change(ModelName="churn-v99"), "VariantChanges[0].ModelName", "does not exist"),
    (change(ModelName=""), "VariantChanges[0].ModelName", "of at most 63 characters matching"),
    (change(InstanceType="ml.m5.huge"), "VariantChanges[0].InstanceType", "e.g. ml.m5.large"),
    (change(InitialInstanceCount=1_000_000_000), "VariantChanges[0].InitialInstanceCount", "from 1 to 1000"),
    (change(ModelName="m" * 100_000), "VariantChanges[0].ModelName", "(100000 characters)"),
    (change(ModelName="m" * 100_000), "the input", "give at most 16384 bytes"),
    ({"EndpointName": "a" + "-" * 70 + "b"}, "EndpointName", "at most 63"),
    ({"EndpointName": ENDPOINT + "\n"}, "EndpointName", "is not an endpoint name"),
    ({"EndpointName": ENDPOINT, "DeploymentConfig": ROLLING}, "DeploymentConfig.RollingUpdatePolicy",
     "rolling deployments exclude multi-variant endpoints"),
    ({"EndpointName": ENDPOINT, "DeploymentConfig": ROLLING}, "DeploymentConfig.RollingUpdatePolicy",
     "rolling deployments exclude serverless endpoints"),
    ({"EndpointName": ENDPOINT, "DeploymentConfig": {"RollingUpdatePolicy": {
        "MaximumBatchSize": {"Type": "CAPACITY_PERCENT", "Value": 60}, "WaitIntervalInSeconds": 60}}},
     "DeploymentConfig.RollingUpdatePolicy.MaximumBatchSize.Value", "give 5 to 50"),
], ids=["no-endpoint-name", "unknown-field", "unknown-variant", "unknown-variant-field", "negative-capacity",
        "add-and-percent", "instance-type-on-serverless", "bad-weight-type", "bad-deployment-config",
        "unknown-endpoint", "count-true", "weight-infinity", "model-missing", "model-empty", "instance-type-unknown",
        "count-a-billion", "model-name-100-kb", "input-over-16-kb", "endpoint-name-72-hyphens",
        "endpoint-name-newline", "rolling-on-multi-variant", "rolling-on-serverless", "rolling-batch-60-percent"])
def test_bad_input_is_refused_before_anything_changes(deployed: tuple[LocalRunner, dict[str, Any]],
                                                      request_input: dict[str, Any], field: str | None,
                                                      allowed: str) -> None:
    runner, before = deployed
    configs_before = boto3.client("sagemaker").list_endpoint_configs()["EndpointConfigs"]
    execution = runner.run({**request_input, "PollIntervalSeconds": 1} if request_input else {})
    assert execution.status == "FAILED"
    assert execution.error == ("InvalidInput" if field else "EndpointNotFound")
    assert execution.tasks_entered == ["ValidateAndSnapshot"]
    if field:
        assert f"{field}:" in (execution.cause or "")
    assert allowed in (execution.cause or "")
    # A refusal stays readable whatever the input: a value is shown cut, and no list runs to kilobytes.
    assert len(cause_message(execution.cause) or "") < 2000
    assert scaling_state(ENDPOINT) == before["scaling"]
    assert endpoint_state(ENDPOINT) == before["endpoint"]
    assert boto3.client("sagemaker").list_endpoint_configs()["EndpointConfigs"] == configs_before
