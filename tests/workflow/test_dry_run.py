"""`"DryRun": true` through the real ASL file: validation only, the plan as the output, nothing changed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from endpoint_updater.offline import emulation
from endpoint_updater.offline.demo import prepare_endpoint
from endpoint_updater.offline.runner import LocalRunner
from endpoint_updater.offline.scenario import endpoint_state, scaling_state

ENDPOINT = "churn-prod"
# The update's examples; a rollout's (examples/rollout*.json) is the rollout state machine's input.
EXAMPLES = sorted(path for path in (Path(__file__).resolve().parents[2] / "examples").glob("*.json")
                  if not path.name.startswith("rollout"))


def world() -> dict[str, Any]:
    configs = boto3.client("sagemaker").list_endpoint_configs()["EndpointConfigs"]
    return {"scaling": scaling_state(ENDPOINT), "endpoint": endpoint_state(ENDPOINT),
            "configs": sorted(c["EndpointConfigName"] for c in configs)}


def test_a_dry_run_ends_after_validation_with_the_plan(runner: LocalRunner) -> None:
    # Given the demo's autoscaled endpoint
    prepare_endpoint()
    before = world()
    # When a model change with a capacity raise is run as a dry run
    execution = runner.run({"EndpointName": ENDPOINT, "DryRun": True, "CapacityIncrease": {"Add": 1},
                            "VariantChanges": [{"VariantName": "AllTraffic", "ModelName": "churn-v8"}]})
    # Then it succeeds through IsDryRun into DryRunDone, with the plan as its output
    assert execution.status == "SUCCEEDED", execution.cause
    assert execution.states_entered == ["ValidateAndSnapshot", "IsDryRun", "DryRunDone"]
    plan = execution.output
    assert plan["DryRun"] is True and plan["Refusal"] is None
    assert plan["RaiseCapacity"] is True
    assert plan["CapacityRaise"] == [{"VariantName": "AllTraffic", "From": 2, "To": 3}]
    new = {v["VariantName"]: v for v in plan["NewConfig"]["ProductionVariants"]}
    assert new["AllTraffic"]["ModelName"] == "churn-v8" and new["AllTraffic"]["InitialInstanceCount"] == 3
    assert plan["CurrentConfig"]["EndpointConfigName"] == before["endpoint"]["EndpointConfigName"]
    assert plan["NewConfig"]["Tags"] == plan["CurrentConfig"]["Tags"] != []
    assert len(plan["ScalingToDeregisterAndRestore"]["Policies"]) == 2
    # And nothing was changed: only the first function ran, and it made no write call
    assert world() == before
    # (after the execution, the notification function reads its record and publishes the plan's outcome)
    # (SageMaker's events of the endpoint's creation reach the resume function, which finds nothing waiting)
    assert {folder for folder, _ in runner.calls} - {"resume_update"} == {"validate_and_snapshot", "notify_update"}
    assert all(call.split(":")[1].startswith(("Describe", "List", "Get")) for folder, call in runner.calls
               if folder == "validate_and_snapshot")
    assert {call for folder, call in runner.calls if folder == "notify_update"} <= {"dynamodb:GetItem", "sns:Publish"}


def test_a_dry_run_reports_a_refusal_in_the_plan(runner: LocalRunner) -> None:
    prepare_endpoint()
    emulation.set_endpoint_status(ENDPOINT, "Updating")
    execution = runner.run({"EndpointName": ENDPOINT, "DryRun": True})
    assert execution.status == "SUCCEEDED", execution.cause
    assert execution.output["Refusal"]["Error"] == "EndpointNotInService"
    assert "Updating" in execution.output["Refusal"]["Cause"]


def test_a_malformed_dry_run_fails_as_any_malformed_input(runner: LocalRunner) -> None:
    execution = runner.run({"EndpointName": ENDPOINT, "DryRun": "yes"})
    assert execution.status == "FAILED"
    assert execution.error == "InvalidInput" and "DryRun" in (execution.cause or "")


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.stem)
def test_every_example_input_is_accepted_by_the_workflow(runner: LocalRunner, path: Path) -> None:
    # Given the demo endpoint (named as in the examples) / When each example runs as a dry run
    prepare_endpoint()
    example = json.loads(path.read_text())
    execution = runner.run({**example, "DryRun": True})
    # Then the workflow accepts it against the endpoint's config and the API shapes
    assert execution.status == "SUCCEEDED", execution.cause
    assert execution.output["Refusal"] is None, execution.output["Refusal"]
