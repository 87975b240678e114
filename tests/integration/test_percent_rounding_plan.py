"""The plan (and the dry run an execution ends with) shows the raised counts rounded up, and the new
endpoint config starts each raised variant at that count."""

from __future__ import annotations

import pytest

from endpoint_updater.core import plan, shapes
from endpoint_updater.core.request import parse_request
from endpoint_updater.offline.runner import LocalRunner
from endpoint_updater.offline.scenario import ScalingSpec, VariantSpec, attach_scaling, create_endpoint

ENDPOINT = "churn-prod"


@pytest.mark.parametrize(("percent", "raised"), [
    (10, {"AllTraffic": 4, "Canary": 2}),   # 3.3 -> 4, 1.1 -> 2
    (50, {"AllTraffic": 5, "Canary": 2}),   # 4.5 -> 5, 1.5 -> 2
    (1, {"AllTraffic": 4, "Canary": 2}),    # 3.03 -> 4, 1.01 -> 2
])
def test_the_plan_rounds_a_fractional_raise_up(runner: LocalRunner, percent: int, raised: dict[str, int]) -> None:
    # Given two autoscaled variants at 3 and 1 instances, and one that is not autoscaled
    create_endpoint(ENDPOINT, (VariantSpec(name="AllTraffic", count=3), VariantSpec(name="Canary", count=1),
                               VariantSpec(name="Shadow", count=1)))
    attach_scaling(ENDPOINT, "AllTraffic", ScalingSpec(max_capacity=10))
    attach_scaling(ENDPOINT, "Canary", ScalingSpec(max_capacity=10))
    request = parse_request({"EndpointName": ENDPOINT, "CapacityIncrease": {"Percent": percent}, "DryRun": True},
                            shapes.variant_fields())
    # When the update is planned
    planned = plan.dry_run(request, f"{ENDPOINT}-next")
    # Then each autoscaled variant is raised to the rounded-up count, and the new config starts there
    assert planned["Refusal"] is None and planned["RaiseCapacity"] is True
    assert planned["CapacityRaise"] == [{"VariantName": "AllTraffic", "From": 3, "To": raised["AllTraffic"]},
                                        {"VariantName": "Canary", "From": 1, "To": raised["Canary"]}]
    counts = {v["VariantName"]: v["InitialInstanceCount"] for v in planned["NewConfig"]["ProductionVariants"]}
    assert counts == {**raised, "Shadow": 1}
