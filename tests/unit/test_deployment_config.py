"""The deployment guardrails rules against an endpoint: the boundaries the SageMaker pages state, in both directions."""

from __future__ import annotations

from typing import Any

import pytest

from endpoint_updater.core.deployment_config import check, check_for_endpoint


def endpoint(*variants: tuple[str, int | None, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A config and a description with (name, live instance count or None for serverless, instance type)."""
    config = {"ProductionVariants": [
        {"VariantName": name, "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5}} if count is None
        else {"VariantName": name, "InstanceType": kind, "InitialInstanceCount": 1} for name, count, kind in variants]}
    description = {"ProductionVariants": [{"VariantName": name, "DesiredInstanceCount": count}
                                          for name, count, _ in variants if count is not None]}
    return config, description


def traffic(kind: str, **sizes: Any) -> dict[str, Any]:
    return {"BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {"Type": kind, "WaitIntervalInSeconds": 60,
                                                                      **sizes}}}


def rolling(batch: int, kind: str = "INSTANCE_COUNT", **more: Any) -> dict[str, Any]:
    return {"RollingUpdatePolicy": {"MaximumBatchSize": {"Type": kind, "Value": batch}, "WaitIntervalInSeconds": 60,
                                    **more}}


def problems(deployment: dict[str, Any], *variants: tuple[str, int | None, str],
             changes: list[dict[str, Any]] | None = None) -> list[str]:
    assert check(deployment) == []
    config, description = endpoint(*variants)
    return check_for_endpoint(deployment, config, description, changes or [])


FOUR = ("AllTraffic", 4, "ml.m5.large")


@pytest.mark.parametrize(("deployment", "allowed"), [
    (traffic("CANARY", CanarySize={"Type": "INSTANCE_COUNT", "Value": 2}), True),  # 50% of 4
    (traffic("CANARY", CanarySize={"Type": "INSTANCE_COUNT", "Value": 3}), False),
    (traffic("LINEAR", LinearStepSize={"Type": "INSTANCE_COUNT", "Value": 1}), True),  # 25%
    (traffic("LINEAR", LinearStepSize={"Type": "INSTANCE_COUNT", "Value": 3}), False),
    (rolling(1), True),  # 25%
    (rolling(2), True),  # 50%
    (rolling(3), False),
    (rolling(1, RollbackMaximumBatchSize={"Type": "INSTANCE_COUNT", "Value": 4}), True),
    (rolling(1, RollbackMaximumBatchSize={"Type": "INSTANCE_COUNT", "Value": 5}), False),
    (traffic("ALL_AT_ONCE"), True),
])
def test_sizes_in_instances_are_checked_against_the_variant_s_instances(deployment: dict[str, Any],
                                                                       allowed: bool) -> None:
    assert (problems(deployment, FOUR) == []) is allowed


def test_a_requested_count_is_the_one_checked() -> None:
    # Given a canary of 2 instances, half of the 4 running / When the request starts the new config with 3
    found = problems(traffic("CANARY", CanarySize={"Type": "INSTANCE_COUNT", "Value": 2}), FOUR,
                     changes=[{"VariantName": "AllTraffic", "InitialInstanceCount": 3}])
    # Then the canary is two thirds of the new fleet: refused, with what is allowed
    assert found == ["DeploymentConfig.BlueGreenUpdatePolicy.TrafficRoutingConfiguration.CanarySize.Value: 2 is not "
                     "allowed for variant AllTraffic of 3 instances; with INSTANCE_COUNT give 1 to 1 (at most 50% "
                     "of the variant's instances)"]


def test_a_rolling_update_needs_one_instance_based_variant() -> None:
    assert "exclude multi-variant endpoints" in " ".join(problems(rolling(1), FOUR, ("Canary", 2, "ml.m5.large")))
    assert "exclude serverless endpoints" in " ".join(problems(rolling(50, "CAPACITY_PERCENT"), ("A", None, "")))


def test_inf1_endpoints_take_no_traffic_shifting() -> None:
    inf1 = ("AllTraffic", 2, "ml.inf1.xlarge")
    assert "Inf1" in " ".join(problems(traffic("LINEAR", LinearStepSize={"Type": "CAPACITY_PERCENT", "Value": 50}),
                                       inf1))
    assert problems(traffic("ALL_AT_ONCE"), inf1) == []
    # Changing the instance type away from Inf1 is what counts
    assert problems(rolling(1), inf1, changes=[{"VariantName": "AllTraffic", "InstanceType": "ml.m5.large"}]) == []


@pytest.mark.parametrize(("deployment", "expected"), [
    (traffic("CANARY"), "CanarySize: required with Type CANARY"),
    (traffic("LINEAR", CanarySize={"Type": "CAPACITY_PERCENT", "Value": 10}),
     "CanarySize: not used with Type LINEAR"),
    (traffic("CANARY", CanarySize={"Type": "CAPACITY_PERCENT", "Value": 51}), "give 1 to 50"),
    (traffic("LINEAR", LinearStepSize={"Type": "CAPACITY_PERCENT", "Value": 9}), "give 10 to 50"),
    (rolling(4, "CAPACITY_PERCENT"), "give 5 to 50"),
    ({**traffic("ALL_AT_ONCE"), **rolling(1)}, "give one of BlueGreenUpdatePolicy or RollingUpdatePolicy"),
])
def test_rules_that_need_no_endpoint(deployment: dict[str, Any], expected: str) -> None:
    assert expected in " ".join(check(deployment))


def test_the_example_canary_is_valid() -> None:
    import json
    from pathlib import Path

    example = json.loads((Path(__file__).resolve().parents[2] / "examples" / "blue-green-canary.json").read_text())
    assert problems(example["DeploymentConfig"], ("AllTraffic", 2, "ml.m5.large")) == []
