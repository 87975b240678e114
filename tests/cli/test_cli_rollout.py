"""`endpoint-updater rollout plan|start` against the emulator: the rollout state machine, its waves and the exit
codes of the `start` family."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from cli_support import invoke, one_line_error

from endpoint_updater.cli import errors
from endpoint_updater.cli import rollout as rollout_cli
from endpoint_updater.offline import emulation
from endpoint_updater.offline.demo import VARIANTS
from endpoint_updater.offline.runner import LocalRunner
from endpoint_updater.offline.scenario import ScalingSpec, create_fleet, endpoint_state, scaling_state

FLEET = ("tenant-a", "tenant-b", "tenant-c")
NEW_MODEL = ("--variant", "AllTraffic", "--model", "churn-v8")
EVERY_TENANT = tuple(arg for name in FLEET for arg in ("--endpoint", name))


@pytest.fixture
def fleet(emulator: LocalRunner) -> LocalRunner:
    """Three endpoints like the demo's, autoscaled, tagged team=churn, whose updates take a second."""
    create_fleet(FLEET, VARIANTS, scaled=["AllTraffic"], spec=ScalingSpec(min_capacity=1, max_capacity=4),
                 endpoint_tags={"team": "churn"})
    for name in FLEET:
        emulation.configure_update(name, seconds=1)
    return emulator


def fleet_state() -> dict[str, Any]:
    """Everything a rollout could change on the fleet."""
    sagemaker = boto3.client("sagemaker")
    return {"endpoints": {name: (endpoint_state(name), scaling_state(name)) for name in FLEET},
            "configs": sorted(c["EndpointConfigName"] for c in sagemaker.list_endpoint_configs()["EndpointConfigs"])}


def rollouts(runner: LocalRunner) -> list[dict[str, Any]]:
    return list(boto3.client("stepfunctions").list_executions(
        stateMachineArn=runner.rollout_state_machine_arn)["executions"])


def test_plan_shows_each_endpoint_s_wave_and_changes_nothing(fleet: LocalRunner) -> None:
    # Given a fleet / When a rollout is planned, as JSON and as text
    before = fleet_state()
    as_json = invoke("rollout", "plan", "--local", "--json", *EVERY_TENANT, *NEW_MODEL, "--batch-size", "1")
    text = invoke("rollout", "plan", "--local", *EVERY_TENANT, *NEW_MODEL, "--batch-size", "1")

    # Then every endpoint is planned in its wave (the canary first, then one at a time), with the new model
    assert as_json.code == text.code == errors.OK, as_json.stderr + text.stderr
    report = as_json.json()
    assert report["DryRun"] is True
    assert [(e["EndpointName"], e["Wave"], e["Outcome"]) for e in report["Endpoints"]] == [
        ("tenant-a", 1, "PLANNED"), ("tenant-b", 2, "PLANNED"), ("tenant-c", 3, "PLANNED")]
    assert all(e["Plan"]["Changes"] for e in report["Endpoints"])
    assert "Rollout plan (nothing has been changed)" in text.stdout and "wave 3: 1 planned" in text.stdout
    # And nothing was changed or started
    assert fleet_state() == before
    assert rollouts(fleet) == []


def test_plan_resolves_targets_by_name_pattern_and_tags(fleet: LocalRunner) -> None:
    run = invoke("rollout", "plan", "--local", "--json", "--name-pattern", "tenant-*", "--tag", "team=churn",
                 *NEW_MODEL)
    assert run.code == errors.OK, run.stderr
    assert run.json()["Targets"]["Resolved"] == list(FLEET)


def test_plan_lists_a_refused_endpoint_and_exits_3(fleet: LocalRunner) -> None:
    # Given a change of a variant that one endpoint lacks (the demo's churn-prod has Canary, the fleet too, but
    # not Shadow) / When it is planned
    run = invoke("rollout", "plan", "--local", "--json", *EVERY_TENANT, "--variant", "Shadow", "--model", "churn-v8")

    # Then each endpoint is listed refused with the update's own error, and the exit is 3, as for `plan`
    assert run.code == errors.REFUSED, run.stderr
    assert {e["Outcome"] for e in run.json()["Endpoints"]} == {"REFUSED"}
    assert {e["Error"] for e in run.json()["Endpoints"]} == {"InvalidInput"}


def test_a_busy_endpoint_is_planned_busy_and_exits_6(fleet: LocalRunner) -> None:
    emulation.set_endpoint_status("tenant-b", "Updating")
    run = invoke("rollout", "plan", "--local", "--json", *EVERY_TENANT, *NEW_MODEL)
    assert run.code == errors.BUSY, run.stderr
    outcomes = {e["EndpointName"]: (e["Outcome"], e["Error"]) for e in run.json()["Endpoints"]}
    assert outcomes["tenant-b"] == ("REFUSED", "EndpointNotInService")
    assert outcomes["tenant-a"][0] == "PLANNED"


def test_targets_that_match_nothing_are_refused_with_exit_3(fleet: LocalRunner) -> None:
    run = invoke("rollout", "plan", "--local", "--name-pattern", "nothing-*", *NEW_MODEL)
    assert run.code == errors.REFUSED
    assert "RolloutTargetsNotFound" in one_line_error(run)


def test_start_wait_updates_every_endpoint_wave_by_wave_and_exits_0(fleet: LocalRunner) -> None:
    # Given a fleet / When a rollout is started and followed in a log (not a terminal)
    run = invoke("rollout", "start", "--local", "--wait", *EVERY_TENANT, *NEW_MODEL, "--batch-size", "2")

    # Then each endpoint's outcome is printed as it changes, the final table and totals per wave follow
    assert run.code == errors.OK, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert any(line.split()[2:4] == ["tenant-a", "RUNNING"] for line in lines if line.startswith("  wave"))
    assert any(line.split()[2:4] == ["tenant-c", "SUCCEEDED"] for line in lines if line.startswith("  wave"))
    assert "wave 1: 1 succeeded" in run.stdout and "wave 2: 2 succeeded" in run.stdout
    # And every endpoint runs a new config with the new model
    for name in FLEET:
        assert endpoint_state(name)["EndpointConfigName"] != f"{name}-config-1"


def test_start_wait_json_is_the_rollout_s_output(fleet: LocalRunner) -> None:
    run = invoke("rollout", "start", "--local", "--wait", "--json", *EVERY_TENANT, *NEW_MODEL)
    assert run.code == errors.OK, run.stderr
    output = run.json()
    assert [e["Outcome"] for e in output["Endpoints"]] == ["SUCCEEDED"] * 3
    assert all(e["NewConfigName"] == endpoint_state(e["EndpointName"])["EndpointConfigName"]
               for e in output["Endpoints"])
    assert output["Targets"]["Resolved"] == list(FLEET)


def test_a_failed_update_spends_the_budget_the_last_wave_is_not_started_and_the_exit_is_1(fleet: LocalRunner) -> None:
    # Given the second endpoint's update rolled back by SageMaker, and no failure tolerated
    emulation.configure_update("tenant-b", seconds=1, outcome="rollback", failure_reason="ping health check failed")
    before = {name: scaling_state(name) for name in FLEET}

    # When a rollout in waves of one is followed
    run = invoke("rollout", "start", "--local", "--wait", *EVERY_TENANT, *NEW_MODEL, "--batch-size", "1")

    # Then the failure, the endpoint not started and the reason are shown, and the exit is 1
    assert run.code == errors.FAILED, run.stdout + run.stderr
    assert "FailureBudgetSpent" in run.stdout
    final = run.stdout[run.stdout.index("Rollout "):]
    assert "tenant-b" in final and "EndpointUpdateRolledBack" in final and "NOT_STARTED" in final
    # And the failed endpoint is on its old config with its scaling restored; the last one was never touched
    assert endpoint_state("tenant-b")["EndpointConfigName"] == "tenant-b-config-1"
    assert endpoint_state("tenant-c")["EndpointConfigName"] == "tenant-c-config-1"
    assert {name: scaling_state(name) for name in FLEET} == before


def test_start_without_wait_prints_the_rollout_and_the_same_rollout_again_exits_7(fleet: LocalRunner) -> None:
    # Given a rollout started without waiting
    first = invoke("rollout", "start", "--local", "--json", *EVERY_TENANT, *NEW_MODEL)
    assert first.code == errors.OK, first.stderr
    started = first.json()
    assert started["stateMachineArn"] == fleet.rollout_state_machine_arn
    assert started["name"].startswith("rollout-")
    fleet.wait(started["executionArn"])

    # When the same rollout is started again / Then its name is taken: exit 7 with the existing rollout
    again = invoke("rollout", "start", "--local", *EVERY_TENANT, *NEW_MODEL)
    assert again.code == errors.NAME_TAKEN
    assert started["executionArn"] in one_line_error(again)


BAD_ROLLOUTS = {
    "no change": ({"Endpoints": ["tenant-a"]}, "Change"),
    "unknown field": ({"Endpoints": ["tenant-a"], "Change": {"VariantChanges": []}, "Wave": {}}, "Wave: unknown field"),
    "bad endpoint name": ({"Endpoints": ["tenant_a"], "Change": {"VariantChanges": [
        {"VariantName": "AllTraffic", "ModelName": "churn-v8"}]}}, "Endpoints[0]"),
    "both budgets": ({"Endpoints": ["tenant-a"], "Change": {"VariantChanges": [
        {"VariantName": "AllTraffic", "ModelName": "churn-v8"}]}, "ToleratedFailureCount": 1,
        "ToleratedFailurePercentage": 5}, "ToleratedFailure"),
    "unknown change field": ({"Endpoints": ["tenant-a"], "Change": {"VariantChanges": [
        {"VariantName": "AllTraffic", "Modle": "churn-v8"}]}}, "Change.VariantChanges[0].Modle: unknown field"),
}


@pytest.mark.parametrize("case", BAD_ROLLOUTS, ids=list(BAD_ROLLOUTS))
def test_bad_input_is_refused_by_the_rollout_s_own_validation_before_anything_starts(
        fleet: LocalRunner, tmp_path: Path, case: str) -> None:
    # Given an input file the rollout refuses
    content, expected = BAD_ROLLOUTS[case]
    path = tmp_path / "rollout.json"
    path.write_text(json.dumps(content))

    # When it is planned or started
    for command in ("plan", "start"):
        run = invoke("rollout", command, "--local", "--input", str(path))
        # Then the exit is 2, with one line naming the field, and nothing was started
        assert run.code == errors.INVALID, (command, run.stdout, run.stderr)
        assert expected in one_line_error(run)
    assert rollouts(fleet) == []

    # And the rollout state machine, given the same input, fails its first state with the same message
    execution = fleet.wait(fleet.start_rollout(content))
    assert execution.status == "FAILED" and execution.error == "InvalidInput"
    assert execution.cause in one_line_error(invoke("rollout", "start", "--local", "--input", str(path)))


def test_the_example_input_is_accepted_by_the_rollout_s_validation() -> None:
    example = json.loads((Path(__file__).parents[2] / "examples" / "rollout.json").read_text())
    rollout_cli._core().parse_rollout(example)


def test_the_rollout_state_machine_is_found_by_the_environment_variable_or_the_stack(
        monkeypatch: pytest.MonkeyPatch) -> None:
    arn = "arn:aws:states:eu-west-1:123456789012:stateMachine:EndpointUpdater-Rollout"
    monkeypatch.setenv("ENDPOINT_UPDATER_ROLLOUT_STATE_MACHINE_ARN", arn)
    assert rollout_cli.find_state_machine(None, None) == arn
    assert rollout_cli.find_state_machine(None, "given") == "given"
