"""The two triggers, executed end to end: an "Endpoint Update Requested" event, and an approved model
package deployed through a Model made from it. And the end-of-update message of every execution."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest

from endpoint_updater.core import trigger
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


def update_request(detail: dict[str, object], bus: str | None) -> dict[str, object]:
    """A PutEvents entry of an update request, on `bus` (None: the default bus)."""
    entry: dict[str, object] = {"Source": "endpoint-updater", "DetailType": "Endpoint Update Requested",
                                "Detail": json.dumps(detail)}
    return {**entry, "EventBusName": bus} if bus else entry


def executions(runner: LocalRunner) -> list[dict[str, object]]:
    return list(runner.sfn.list_executions(stateMachineArn=runner.state_machine_arn)["executions"])


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
    runner.wait_for_state(arn, "WaitForUpdateEvent")
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


def test_an_update_request_on_the_request_bus_runs_and_says_who_asked(runner: LocalRunner) -> None:
    # Given an autoscaled endpoint
    create_endpoint(ENDPOINT, (VariantSpec(count=2),))
    attach_scaling(ENDPOINT, "AllTraffic")
    # When a pipeline puts an update request on the request bus, saying who asked
    (answer,) = runner.put_events([update_request(
        {"EndpointName": ENDPOINT, "PollIntervalSeconds": 1, "RequestedBy": "pipeline churn-deploy run 42",
         "VariantChanges": [{"VariantName": "AllTraffic", "ModelName": "churn-v8"}]}, runner.request_bus)])
    execution = runner.wait(answer["ExecutionArn"])
    # Then the update runs, and its input records the sender's account, the source, the event and who asked
    assert answer["Started"] is True and execution.status == "SUCCEEDED", execution.cause
    described = runner.sfn.describe_execution(executionArn=execution.arn)
    requester = json.loads(described["input"])["Requester"]
    assert requester == {"Account": "123456789012", "Source": "endpoint-updater", "EventId": requester["EventId"],
                         "RequestedBy": "pipeline churn-deploy run 42"}
    assert "RequestedBy" not in json.loads(described["input"])
    # And the end-of-update message says who asked
    (message,) = runner.published()
    assert (f"Requested by: pipeline churn-deploy run 42 (account 123456789012, source endpoint-updater, "
            f"event {requester['EventId']})") in str(message["Message"])


def test_an_update_request_on_the_default_bus_starts_nothing(runner: LocalRunner) -> None:
    # Given an endpoint
    create_endpoint(ENDPOINT, (VariantSpec(count=2),))
    # When the same request is put on the default bus, where any principal allowed PutEvents may send it
    answers = runner.put_events([update_request({"EndpointName": ENDPOINT}, None)])
    # Then no rule starts an update
    assert answers == [] and executions(runner) == []


def test_a_redelivered_update_request_starts_one_execution(runner: LocalRunner) -> None:
    create_endpoint(ENDPOINT, (VariantSpec(count=2),))
    event = {"version": "0", "id": "5d1c2f3e-0000-4000-8000-000000000042", "detail-type": "Endpoint Update Requested",
             "source": "endpoint-updater", "account": "123456789012", "region": "us-east-1",
             "detail": {"EndpointName": ENDPOINT, "DryRun": True, "RequestedBy": "alice"}}
    first = runner.deliver("start_update", event)
    runner.wait(first["ExecutionArn"])
    assert runner.deliver("start_update", event) == {"ExecutionArn": first["ExecutionArn"], "Started": False}
    assert len(executions(runner)) == 1


def test_a_sender_cannot_write_the_requester_itself(runner: LocalRunner) -> None:
    event = {"id": "e-1", "detail-type": "Endpoint Update Requested", "source": "endpoint-updater",
             "account": "123456789012",
             "detail": {"EndpointName": ENDPOINT, "Requester": {"Account": "999999999999"}}}
    with pytest.raises(FunctionError, match=r"detail\.Requester: set by the start function"):
        runner.deliver("start_update", event)
    assert executions(runner) == []


def test_an_approval_whose_name_was_taken_with_another_input_fails_loudly(
        deploying: LocalRunner, capsys: pytest.CaptureFixture[str]) -> None:
    # Given an approved package, and someone who started the execution name its approval will need, first, with
    # another input (a dry run)
    create_endpoint(ENDPOINT, (VariantSpec(count=2),))
    event = package_state_change_event(approved_model_package(GROUP))
    _, name = trigger.request_from(event)
    squatter = deploying.run({"EndpointName": ENDPOINT, "DryRun": True}, name=name)
    capsys.readouterr()
    # When SageMaker's approval event arrives
    with pytest.raises(FunctionError) as refused:
        deploying.deliver("start_update", event)
    # Then the start fails with its own error naming the execution, and counts the conflict for its alarm
    assert refused.value.error_type == "ExecutionNameConflict"
    assert squatter.arn in str(refused.value) and "was not started" in str(refused.value)
    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines()
               if line.startswith("{") and "TriggerNameConflicts" in line]
    assert [m["TriggerNameConflicts"] for m in metrics] == [[1.0]] and metrics[0]["service"] == "endpoint-updater"
    assert len(executions(deploying)) == 1
