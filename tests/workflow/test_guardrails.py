"""The deployment's change guardrails refuse a request in the first state, naming the guardrail and the setting
that controls it, before anything changes; a dry run reports the same refusal in its plan."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from endpoint_updater.core.model_package import model_name
from endpoint_updater.offline.runner import LocalRunner
from endpoint_updater.offline.scenario import (
    VariantSpec,
    approved_model_package,
    attach_scaling,
    create_endpoint,
    endpoint_state,
    scaling_state,
)

ENDPOINT = "churn-prod"
# Narrower than the defaults where the defaults allow everything (models and instance types).
GUARDRAILS = {"modelNamePattern": "churn-*", "allowedInstanceTypes": ["ml.m5.*", "ml.c5.*"]}


@pytest.fixture(scope="module")
def deployed() -> Iterator[tuple[LocalRunner, dict[str, Any]]]:
    with LocalRunner(guardrails=GUARDRAILS) as runner:
        create_endpoint(ENDPOINT, (VariantSpec(name="AllTraffic"),))
        attach_scaling(ENDPOINT, "AllTraffic")
        # An endpoint already serving a model outside the model pattern.
        create_endpoint("legacy-prod", (VariantSpec(name="AllTraffic", model="legacy-v1"),))
        # A model outside the pattern that exists, so that the guardrail refuses it rather than the check that a
        # requested model exists.
        create_endpoint("fraud-prod", (VariantSpec(name="AllTraffic", model="fraud-v3"),))
        yield runner, world()


def world() -> dict[str, Any]:
    configs = boto3.client("sagemaker").list_endpoint_configs()["EndpointConfigs"]
    return {"scaling": scaling_state(ENDPOINT), "endpoint": endpoint_state(ENDPOINT),
            "configs": sorted(c["EndpointConfigName"] for c in configs)}


def change(**fields: Any) -> dict[str, Any]:
    return {"EndpointName": ENDPOINT, "VariantChanges": [{"VariantName": "AllTraffic", **fields}]}


REFUSED = pytest.mark.parametrize(("request_input", "where", "setting"), [
    (change(EnableSSMAccess=True), "VariantChanges[0].EnableSSMAccess", "allowedVariantFields"),
    (change(CoreDumpConfig={"DestinationS3Uri": "s3://someone-elses-bucket/dumps",
                            "KmsKeyId": "arn:aws:kms:us-east-1:210987654321:key/1234abcd-12ab-34cd-56ef-1234567890ab"}),
     "VariantChanges[0].CoreDumpConfig", "allowedVariantFields"),
    (change(CapacityReservationConfig={
        "CapacityReservationPreference": "capacity-reservations-only",
        "MlReservationArn": "arn:aws:sagemaker:us-east-1:123456789012:training-plan/other-team"}),
     "VariantChanges[0].CapacityReservationConfig", "allowedVariantFields"),
    (change(ModelName="fraud-v3"), "VariantChanges[0].ModelName", "modelNamePattern: churn-*"),
    (change(InstanceType="ml.p5.48xlarge"), "VariantChanges[0].InstanceType", "allowedInstanceTypes: ml.m5.*"),
    (change(InitialInstanceCount=100), "VariantChanges[0].InitialInstanceCount", "maxInstancesPerVariant: 20"),
    ({"EndpointName": ENDPOINT, "CapacityIncrease": {"Add": 1000}}, "CapacityIncrease", "maxCapacityIncrease: 10"),
], ids=["ssm-access", "core-dumps", "capacity-reservation", "model", "instance-type", "instance-count",
        "capacity-increase"])


@REFUSED
def test_a_change_outside_the_guardrails_is_refused_before_anything_changes(
        deployed: tuple[LocalRunner, dict[str, Any]], request_input: dict[str, Any], where: str, setting: str) -> None:
    # Given the deployed endpoint and its state
    runner, before = deployed
    # When a request asks for a change the guardrails do not allow
    execution = runner.run({**request_input, "PollIntervalSeconds": 1})
    # Then the first state refuses it, naming the field, the guardrail and its setting
    assert execution.status == "FAILED"
    assert execution.error == "ChangeNotAllowed"
    assert execution.tasks_entered == ["ValidateAndSnapshot"]
    assert f"{where}:" in (execution.cause or "")
    assert setting in (execution.cause or "")
    # And nothing changed: no scaling deregistered, no config created, no lock left behind
    assert world() == before
    assert not [call for folder, call in runner.calls if folder == "validate_and_snapshot"
                and call.split(":")[1].startswith(("Create", "Put", "Update", "Register", "Deregister", "Delete",
                                                   "TransactWrite"))]


@REFUSED
def test_a_dry_run_reports_the_guardrail_refusal_in_its_plan(
        deployed: tuple[LocalRunner, dict[str, Any]], request_input: dict[str, Any], where: str, setting: str) -> None:
    runner, before = deployed
    execution = runner.run({**request_input, "DryRun": True})
    assert execution.status == "SUCCEEDED", execution.cause
    refusal = execution.output["Refusal"]
    assert refusal["Error"] == "ChangeNotAllowed"
    assert f"{where}:" in refusal["Cause"] and setting in refusal["Cause"]
    assert world() == before


def test_a_change_inside_the_guardrails_is_planned(deployed: tuple[LocalRunner, dict[str, Any]]) -> None:
    # Given the same guardrails
    runner, before = deployed
    # When a request stays inside them (an allowed model, instance type, count and raise)
    execution = runner.run({**change(ModelName="churn-v8", InstanceType="ml.c5.xlarge", InitialInstanceCount=3),
                            "CapacityIncrease": {"Add": 2}, "DryRun": True})
    # Then it is planned, not refused
    assert execution.status == "SUCCEEDED", execution.cause
    assert execution.output["Refusal"] is None
    assert world() == before


def test_every_variant_of_the_new_config_is_held_to_the_model_and_instance_type_guardrails(
        deployed: tuple[LocalRunner, dict[str, Any]]) -> None:
    # Given an endpoint already serving a model outside the model pattern
    runner, _ = deployed
    # When a request changes only the variant's instance count
    execution = runner.run({"EndpointName": "legacy-prod", "DryRun": True,
                            "VariantChanges": [{"VariantName": "AllTraffic", "InitialInstanceCount": 3}]})
    # Then it is refused: the new config would still name that model, and IAM's ModelArn condition on
    # CreateEndpointConfig sees every model of the config
    refusal = execution.output["Refusal"]
    assert refusal["Error"] == "ChangeNotAllowed"
    assert "VariantChanges[0].ModelName: model legacy-v1" in refusal["Cause"]


def test_a_model_package_cannot_borrow_a_role_outside_the_execution_role_patterns(
        deployed: tuple[LocalRunner, dict[str, Any]]) -> None:
    # Given an endpoint whose variant serves a model running under a role the patterns do not name (the first
    # half of laundering a role: point a variant at a model that has it)
    runner, _ = deployed
    sagemaker = boto3.client("sagemaker")
    admin = "arn:aws:iam::123456789012:role/platform-admin"
    sagemaker.create_model(ModelName="churn-borrowed", ExecutionRoleArn=admin,
                           PrimaryContainer={"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/churn:x"})
    create_endpoint("borrow-prod", (VariantSpec(name="AllTraffic", model="churn-borrowed"),))
    attach_scaling("borrow-prod", "AllTraffic")
    before = scaling_state("borrow-prod")
    package = approved_model_package("churn-models")
    # When an approved package is deployed to that variant (the second half: its container would get the role)
    execution = runner.run({"EndpointName": "borrow-prod", "PollIntervalSeconds": 1,
                            "ModelPackage": {"ModelPackageArn": package, "VariantName": "AllTraffic"}})
    # Then the first step refuses it, before anything changes, naming the guardrail's setting; no model has the
    # role
    assert execution.status == "FAILED"
    assert execution.error == "ChangeNotAllowed"
    assert execution.tasks_entered == ["ValidateAndSnapshot"]
    assert "executionRolePatterns" in (execution.cause or "") and admin in (execution.cause or "")
    assert ("create_model", "sagemaker:CreateModel") not in runner.calls
    assert model_name(package) not in {m["ModelName"] for m in sagemaker.list_models()["Models"]}
    # And the scaling is as before, on the old config
    assert scaling_state("borrow-prod") == before
    assert endpoint_state("borrow-prod")["EndpointConfigName"] == "borrow-prod-config-1"
    # And a dry run reports the same refusal
    dry = runner.run({"EndpointName": "borrow-prod", "DryRun": True,
                      "ModelPackage": {"ModelPackageArn": package, "VariantName": "AllTraffic"}})
    assert dry.status == "SUCCEEDED", dry.cause
    assert dry.output["Refusal"]["Error"] == "ChangeNotAllowed" and admin in dry.output["Refusal"]["Cause"]
