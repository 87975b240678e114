"""Endpoints that host inference components, and variants with managed instance scaling, are refused by the
first state, before the lock and before any change (issue 11, item 5).

Their models and copy-count scaling live in the inference components, which the workflow neither captures
nor updates; a variant scaled to zero even reports DesiredInstanceCount 0, which a copied config cannot carry.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from endpoint_updater.cli import errors
from endpoint_updater.core import store
from endpoint_updater.offline.runner import LocalRunner
from endpoint_updater.offline.scenario import (
    attach_scaling,
    create_endpoint,
    create_inference_component_endpoint,
    endpoint_state,
    inference_component_scaling,
    scaling_state,
)

ENDPOINT = "llm-prod"
COMPONENTS = ("llm-prod-chat", "llm-prod-embed")
ERROR = "InferenceComponentsNotSupported"


def configs() -> list[str]:
    return sorted(c["EndpointConfigName"] for c in boto3.client("sagemaker").list_endpoint_configs()["EndpointConfigs"])


def everything(endpoint: str) -> dict[str, Any]:
    return {"endpoint": endpoint_state(endpoint), "configs": configs(), "variant scaling": scaling_state(endpoint),
            "component scaling": inference_component_scaling(COMPONENTS)}


def assert_nothing_changed(endpoint: str, before: dict[str, Any]) -> None:
    assert everything(endpoint) == before
    lock = store.read_lock(endpoint)
    assert (lock.holder, lock.unrestored, lock.last) == (None, None, None)


def scaled_to_zero(runner: LocalRunner) -> None:
    create_inference_component_endpoint(ENDPOINT, COMPONENTS)
    runner.sleep(5)  # the capacity change to zero instances ends
    assert endpoint_state(ENDPOINT)["EndpointStatus"] == "InService"


def test_an_inference_component_endpoint_scaled_to_zero_is_refused_and_nothing_changes(runner: LocalRunner) -> None:
    # Given an endpoint of two inference components, each with copy-count scaling, scaled in to zero instances
    scaled_to_zero(runner)
    before = everything(ENDPOINT)
    assert before["endpoint"]["Variants"]["AllTraffic"]["DesiredInstanceCount"] == 0
    assert len(before["component scaling"]["targets"]) == 2 and len(before["component scaling"]["policies"]) == 2
    # When an update is started (an instance type change, which a copied config would carry with count 0)
    execution = runner.run({"EndpointName": ENDPOINT, "PollIntervalSeconds": 1,
                            "VariantChanges": [{"VariantName": "AllTraffic", "InstanceType": "ml.g4dn.2xlarge"}]})
    # Then the first state refuses it, saying why and what to use instead
    assert execution.status == "FAILED"
    assert execution.error == ERROR
    assert execution.tasks_entered == ["ValidateAndSnapshot"]
    cause = execution.cause or ""
    assert "hosts inference components (llm-prod-chat, llm-prod-embed)" in cause
    assert "ManagedInstanceScaling" in cause and "name no model" in cause
    assert "UpdateInferenceComponent" in cause and "Nothing was changed" in cause
    # And nothing changed: the components' scaling is registered as before, no lock, no new config
    assert_nothing_changed(ENDPOINT, before)


def test_a_variant_with_managed_instance_scaling_is_refused_even_without_components(runner: LocalRunner) -> None:
    # Given a model-based variant that has ManagedInstanceScaling, and no inference component listed yet
    sagemaker = boto3.client("sagemaker")
    create_endpoint("churn-prod")
    attach_scaling("churn-prod", "AllTraffic")
    sagemaker.create_endpoint_config(EndpointConfigName="managed-config", ProductionVariants=[{
        "VariantName": "AllTraffic", "ModelName": "churn-v7", "InstanceType": "ml.m5.large",
        "InitialInstanceCount": 1,
        "ManagedInstanceScaling": {"Status": "ENABLED", "MinInstanceCount": 1, "MaxInstanceCount": 4}}])
    sagemaker.create_endpoint(EndpointName="managed", EndpointConfigName="managed-config")
    before = everything("managed")
    # When an update of its model is started
    execution = runner.run({"EndpointName": "managed", "PollIntervalSeconds": 1,
                            "VariantChanges": [{"VariantName": "AllTraffic", "ModelName": "churn-v8"}]})
    # Then it is refused by the first state, and nothing changed
    assert (execution.status, execution.error) == ("FAILED", ERROR)
    assert execution.tasks_entered == ["ValidateAndSnapshot"]
    assert "variant(s) AllTraffic use ManagedInstanceScaling" in (execution.cause or "")
    assert_nothing_changed("managed", before)


def test_a_dry_run_reports_the_refusal_in_its_plan(runner: LocalRunner) -> None:
    scaled_to_zero(runner)
    before = everything(ENDPOINT)
    execution = runner.run({"EndpointName": ENDPOINT, "PollIntervalSeconds": 1, "DryRun": True})
    assert execution.status == "SUCCEEDED", execution.cause
    assert execution.output["Refusal"]["Error"] == ERROR
    assert "UpdateInferenceComponent" in execution.output["Refusal"]["Cause"]
    assert execution.output["NewConfig"] is None
    # `plan` and `start --dry-run --wait` exit with the refusals' code: refused, nothing changed
    assert errors.exit_code_for(execution.output["Refusal"]["Error"]) == errors.REFUSED
    assert_nothing_changed(ENDPOINT, before)


@pytest.mark.parametrize("count", [1, 11])
def test_the_components_named_are_capped(runner: LocalRunner, count: int) -> None:
    names = tuple(f"llm-prod-c{i:02d}" for i in range(count))
    create_inference_component_endpoint(ENDPOINT, names, scale_to_zero=False)
    execution = runner.run({"EndpointName": ENDPOINT, "PollIntervalSeconds": 1})
    assert execution.error == ERROR
    assert ("and 1 more" in (execution.cause or "")) is (count == 11)
