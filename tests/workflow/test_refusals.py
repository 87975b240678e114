"""Bad input is refused by the first state, with an error naming the field, and nothing changes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

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
     "VariantChanges[0]", "InitialVariantWeight"),
    ({"EndpointName": ENDPOINT, "DeploymentConfig": {"BlueGreenUpdatePolicy": {"Bogus": 1}}},
     "DeploymentConfig", "Bogus"),
    ({"EndpointName": "no-such-endpoint"}, None, "does not exist"),
], ids=["no-endpoint-name", "unknown-field", "unknown-variant", "unknown-variant-field", "negative-capacity",
        "add-and-percent", "instance-type-on-serverless", "bad-weight-type", "bad-deployment-config",
        "unknown-endpoint"])
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
    assert scaling_state(ENDPOINT) == before["scaling"]
    assert endpoint_state(ENDPOINT) == before["endpoint"]
    assert boto3.client("sagemaker").list_endpoint_configs()["EndpointConfigs"] == configs_before
