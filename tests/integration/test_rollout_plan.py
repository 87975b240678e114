"""The rollout's plan against the emulator: targets resolved, each endpoint planned as its update would be, and
nothing changed."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from endpoint_updater.core import rollout
from endpoint_updater.core.errors import InvalidInput, RolloutTargetsNotFound
from endpoint_updater.offline.runner import LocalRunner
from endpoint_updater.offline.scenario import (
    VariantSpec,
    attach_scaling,
    create_endpoint,
    create_fleet,
    create_inference_component_endpoint,
    endpoint_state,
    scaling_state,
)

NEW_MODEL = {"VariantChanges": [{"VariantName": "AllTraffic", "ModelName": "churn-v8"}]}
START = "2030-01-01T00:00:00Z"


def plan(runner: LocalRunner, raw: dict[str, Any], name: str = "fleet-v8") -> dict[str, Any]:
    arn = runner.rollout_state_machine_arn.replace(":stateMachine:", ":execution:") + ":" + name
    return rollout.plan(raw, arn, START, runner.state_machine_arn)


def outcomes(state: dict[str, Any]) -> dict[str, tuple[str, str | None]]:
    return {r["EndpointName"]: (r["Outcome"], r["Error"]) for r in state["Report"]["Endpoints"]}


def everything(names: list[str]) -> dict[str, Any]:
    sagemaker = boto3.client("sagemaker")
    return {"endpoints": {name: endpoint_state(name) for name in names},
            "scaling": {name: scaling_state(name) for name in names},
            "configs": sorted(c["EndpointConfigName"] for c in sagemaker.list_endpoint_configs()["EndpointConfigs"]),
            "models": sorted(m["ModelName"] for m in sagemaker.list_models()["Models"])}


def test_mixed_endpoints_are_planned_one_by_one_as_their_update_would_be(runner: LocalRunner) -> None:
    # Given endpoints of every kind the fleet may hold
    create_fleet(["fleet-ok"])
    create_endpoint("fleet-no-scaling")
    create_endpoint("fleet-serverless", (VariantSpec(serverless=True),))
    create_endpoint("fleet-blue-only", (VariantSpec(name="Blue"),))
    create_inference_component_endpoint("fleet-components")
    names = ["fleet-ok", "fleet-no-scaling", "fleet-serverless", "fleet-blue-only", "fleet-components"]
    runner.sleep(600)  # the components endpoint's scale-in to zero ends
    before = everything(names)
    # When a new instance type is planned for all of them
    bigger = {"VariantChanges": [{"VariantName": "AllTraffic", "InstanceType": "ml.m5.xlarge"}]}
    state = plan(runner, {"Targets": {"NamePattern": "fleet-*"}, "DryRun": True, "Change": bigger})
    # Then each is planned or refused as its own update's first step would, the refusals listed with their reason
    found = outcomes(state)
    assert found == {
        "fleet-ok": ("PLANNED", None), "fleet-no-scaling": ("PLANNED", None),
        "fleet-serverless": ("REFUSED", "InvalidInput"), "fleet-blue-only": ("REFUSED", "InvalidInput"),
        "fleet-components": ("REFUSED", "InferenceComponentsNotSupported")}
    causes = {r["EndpointName"]: r["Cause"] for r in state["Report"]["Endpoints"]}
    assert "is not a variant of endpoint fleet-blue-only; its variants: Blue" in causes["fleet-blue-only"]
    assert "variant AllTraffic is serverless and has no InstanceType" in causes["fleet-serverless"]
    # And only the planned ones are in the waves, with their plan
    assert {r["EndpointName"]: r["Wave"] for r in state["Report"]["Endpoints"]}["fleet-serverless"] is None
    planned = {r["EndpointName"]: r["Plan"] for r in state["Report"]["Endpoints"]}
    assert planned["fleet-ok"]["Changes"] == [{"VariantName": "AllTraffic", "Field": "InstanceType",
                                               "From": "ml.m5.large", "To": "ml.m5.xlarge"}]
    assert state["Next"] == "Done"
    # And nothing was changed, nothing started
    assert everything(names) == before
    assert runner.sfn.list_executions(stateMachineArn=runner.state_machine_arn)["executions"] == []


def test_targets_by_name_pattern_and_tags_after_the_explicit_list(runner: LocalRunner) -> None:
    # Given tagged and untagged endpoints
    create_fleet(["churn-eu-1", "churn-us-2", "churn-us-1"], endpoint_tags={"team": "churn"})
    create_fleet(["churn-us-9", "fraud-us-1"])
    create_fleet(["fraud-eu-1"], endpoint_tags={"team": "churn"})
    # When the rollout names one endpoint and matches the others by pattern and tag
    state = plan(runner, {"Endpoints": ["fraud-us-1"], "Change": NEW_MODEL, "DryRun": True,
                          "Targets": {"NamePattern": "churn-*-?", "Tags": {"team": "churn"}}})
    # Then the explicit one comes first, then the matches by name, each once; what was resolved is recorded
    assert state["Report"]["Targets"]["Resolved"] == ["fraud-us-1", "churn-eu-1", "churn-us-1", "churn-us-2"]
    assert [r["EndpointName"] for r in state["Report"]["Endpoints"]] == state["Report"]["Targets"]["Resolved"]
    assert [w["Size"] for w in state["Report"]["Waves"]] == [1, 3]


def test_targets_that_match_nothing_are_refused(runner: LocalRunner) -> None:
    create_fleet(["churn-1"])
    with pytest.raises(RolloutTargetsNotFound, match=r"matches no endpoint; check NamePattern and Tags"):
        plan(runner, {"Targets": {"NamePattern": "fraud-*"}, "Change": NEW_MODEL})


def test_an_endpoint_already_running_the_change_is_skipped(runner: LocalRunner) -> None:
    # Given two endpoints, one already on the new model
    create_fleet(["churn-1"])
    create_fleet(["churn-2"], (VariantSpec(model="churn-v8"),))
    # When the rollout is planned
    state = plan(runner, {"Endpoints": ["churn-1", "churn-2"], "Change": NEW_MODEL})
    # Then that one is skipped and only the other is in a wave
    assert outcomes(state) == {"churn-1": ("PENDING", None), "churn-2": ("SKIPPED", None)}
    assert [item["Target"]["EndpointName"] for item in state["Wave"]["Items"]] == ["churn-1"]
    assert state["Wave"]["Items"][0]["ExecutionName"] == "fleet-v8-churn-1"


def test_waves_that_could_outlast_the_rollout_are_refused_naming_the_fields(runner: LocalRunner) -> None:
    create_fleet([f"churn-{i}" for i in range(6)])
    with pytest.raises(InvalidInput, match=r"Waves, Change.TimeoutSeconds: 6 waves of up to 86400 s"):
        plan(runner, {"Targets": {"NamePattern": "churn-*"}, "Waves": {"BatchSize": 1, "BakeSeconds": 86400},
                      "Change": {**NEW_MODEL, "TimeoutSeconds": 86400}})


def test_the_scaling_of_an_endpoint_reads_right_among_more_than_a_hundred_targets(runner: LocalRunner) -> None:
    # Given more scalable targets than two pages of DescribeScalableTargets hold (a fleet)
    for index in range(101):
        create_endpoint(f"churn-{index:03d}")
        attach_scaling(f"churn-{index:03d}", "AllTraffic")
    # Then each endpoint's scaling is read, its own target only
    state = scaling_state("churn-100")
    assert [t["ResourceId"] for t in state["targets"]] == ["endpoint/churn-100/variant/AllTraffic"]
    assert [p["PolicyName"] for p in state["policies"]] == ["AllTraffic-burst-step", "AllTraffic-invocations-target"]
