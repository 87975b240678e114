"""The two triggers, executed end to end: an "Endpoint Update Requested" event, and an approved model
package deployed through a Model made from it. And the end-of-update message of every execution."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest

from endpoint_updater.core.model_package import model_name
from endpoint_updater.offline import emulation
from endpoint_updater.offline.runner import FunctionError, LocalRunner
from endpoint_updater.offline.scenario import (
    VariantSpec,
    approved_model_package,
    attach_scaling,
    create_endpoint,
    endpoint_state,
    package_state_change_event,
    scaling_state,
)

ENDPOINT = "churn-prod"
GROUP = "churn-models"
DEPLOYMENTS = {GROUP: {"EndpointName": ENDPOINT, "VariantName": "AllTraffic", "PollIntervalSeconds": 1,
                       "CapacityIncrease": {"Add": 1}}}


@pytest.fixture
def deploying() -> Iterator[LocalRunner]:
    """The workflow deployed with one model package group mapped to churn-prod's AllTraffic variant."""
    with LocalRunner(model_package_deployments=DEPLOYMENTS) as runner:
        yield runner


def variant_model() -> str:
    config = endpoint_state(ENDPOINT)["EndpointConfigName"]
    described = boto3.client("sagemaker").describe_endpoint_config(EndpointConfigName=config)
    return str(next(v["ModelName"] for v in described["ProductionVariants"] if v["VariantName"] == "AllTraffic"))


def test_an_approved_model_package_is_deployed_once_however_often_its_event_arrives(deploying: LocalRunner) -> None:
    # Given an autoscaled endpoint serving churn-v7, and a package of the configured group just approved
    create_endpoint(ENDPOINT, (VariantSpec(count=2),))
    attach_scaling(ENDPOINT, "AllTraffic")
    before = scaling_state(ENDPOINT)
    package = approved_model_package(GROUP)
    event = package_state_change_event(package)
    # When SageMaker's event reaches the start function twice
    first = deploying.deliver("start_update", event)
    second = deploying.deliver("start_update", {**event, "id": "another-delivery-of-the-same-approval"})
    # Then one execution runs, and the endpoint serves a Model made from the package
    assert first["Started"] is True and second["ExecutionArn"] == first["ExecutionArn"]
    execution = deploying.wait(first["ExecutionArn"])
    assert execution.status == "SUCCEEDED", execution.cause
    assert "CreateModel" in execution.states_entered
    assert variant_model() == model_name(package)
    sagemaker = boto3.client("sagemaker")
    created = sagemaker.describe_model(ModelName=model_name(package))
    assert created["PrimaryContainer"]["ModelPackageName"] == package
    assert created["ExecutionRoleArn"] == sagemaker.describe_model(ModelName="churn-v7")["ExecutionRoleArn"]
    # And the group's settings applied (a capacity raise), and the scaling is as before
    assert "RaiseCapacity" in execution.states_entered
    assert scaling_state(ENDPOINT) == before
    assert deploying.deliver("start_update", event) == {"ExecutionArn": first["ExecutionArn"], "Started": False}
    assert len(deploying.sfn.list_executions(stateMachineArn=deploying.state_machine_arn)["executions"]) == 1


def test_a_package_not_approved_is_refused_before_anything_changes(deploying: LocalRunner) -> None:
    create_endpoint(ENDPOINT, (VariantSpec(count=2),))
    attach_scaling(ENDPOINT, "AllTraffic")
    before = scaling_state(ENDPOINT)
    package = approved_model_package(GROUP, approve=False)
    execution = deploying.run({"EndpointName": ENDPOINT, "PollIntervalSeconds": 1,
                               "ModelPackage": {"ModelPackageArn": package, "VariantName": "AllTraffic"}})
    assert execution.status == "FAILED" and execution.error == "InvalidInput"
    assert "ModelPackage.ModelPackageArn" in execution.cause and "PendingManualApproval" in execution.cause
    assert execution.tasks_entered == ["ValidateAndSnapshot"]
    assert scaling_state(ENDPOINT) == before and variant_model() == "churn-v7"


def test_a_package_for_a_variant_the_endpoint_lacks_is_refused_naming_the_field(deploying: LocalRunner) -> None:
    create_endpoint(ENDPOINT, (VariantSpec(count=2),))
    package = approved_model_package(GROUP)
    execution = deploying.run({"EndpointName": ENDPOINT, "PollIntervalSeconds": 1,
                               "ModelPackage": {"ModelPackageArn": package, "VariantName": "Shadow"}})
    assert execution.error == "InvalidInput"
    assert "ModelPackage.VariantName: 'Shadow' is not one of the endpoint's production variants: AllTraffic" \
        in execution.cause
    assert variant_model() == "churn-v7"


def test_an_approval_in_a_group_this_stack_does_not_deploy_starts_nothing(deploying: LocalRunner) -> None:
    create_endpoint(ENDPOINT, (VariantSpec(count=2),))
    event = package_state_change_event(approved_model_package("fraud-models"))
    with pytest.raises(FunctionError, match="'fraud-models' is not deployed by this stack; configured groups: "
                                            "churn-models"):
        deploying.deliver("start_update", event)
    assert deploying.sfn.list_executions(stateMachineArn=deploying.state_machine_arn)["executions"] == []


def test_every_ended_update_gets_one_readable_message(runner: LocalRunner) -> None:
    # Given an endpoint, an update that succeeds, one that is rolled back, and one stopped while waiting
    old_config = create_endpoint(ENDPOINT, (VariantSpec(count=2),))
    attach_scaling(ENDPOINT, "AllTraffic")
    request = {"EndpointName": ENDPOINT, "PollIntervalSeconds": 1,
               "VariantChanges": [{"VariantName": "AllTraffic", "ModelName": "churn-v8"}]}
    succeeded = runner.run(request)
    emulation.configure_update(ENDPOINT, seconds=0.2, outcome="rollback")
    failed = runner.run({**request, "VariantChanges": [{"VariantName": "AllTraffic", "ModelName": "churn-v9"}]})
    emulation.configure_update(ENDPOINT, seconds=2)
    arn = runner.start({**request, "VariantChanges": [{"VariantName": "AllTraffic", "ModelName": "churn-v10"}]})
    runner.wait_for_state(arn, "WaitBeforeFirstPoll")
    runner.stop(arn)
    stopped = runner.wait(arn)
    # When the messages published to the topic are read
    messages = runner.published()
    # Then there is one per execution, naming the endpoint, the configs, the outcome, the reason and the link
    assert [m["Subject"] for m in messages] == [
        "endpoint-updater: churn-prod update succeeded", "endpoint-updater: churn-prod update failed",
        "endpoint-updater: churn-prod update was stopped"]
    ok, rolled_back, aborted = (str(m["Message"]) for m in messages)
    assert f"Config: {old_config} -> {succeeded.output['NewConfigName']}" in ok
    assert "Scaling: restored as before the update" in ok
    assert f"/states/home?region=us-east-1#/v2/executions/details/{succeeded.arn}" in ok
    assert "Reason: EndpointUpdateRolledBack: endpoint churn-prod is InService on" in rolled_back
    assert failed.arn in rolled_back
    assert "Outcome: update was stopped" in aborted and stopped.arn in aborted
    assert "Reason: ABORTED" in aborted or "Reason: Stopped" in aborted
