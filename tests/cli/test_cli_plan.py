"""`endpoint-updater plan --local`: what an update would do, with nothing changed."""

from __future__ import annotations

from pathlib import Path

from cli_support import ENDPOINT, invoke, one_line_error, world

from endpoint_updater.offline import emulation
from endpoint_updater.offline.runner import LocalRunner

NEW_MODEL = ("--endpoint", ENDPOINT, "--variant", "AllTraffic", "--model", "churn-v8")


def test_plan_shows_the_config_diff_the_scaling_and_the_capacity_raise(emulator: LocalRunner) -> None:
    # Given the demo endpoint / When a new model and instance type with a raise are planned
    run = invoke("plan", "--local", *NEW_MODEL, "--instance-type", "ml.c5.2xlarge", "--capacity-add", "1")
    # Then the diff shows each changed field, current and new, and the scaling and raise are listed
    assert run.code == 0, run.stderr
    lines = run.stdout.splitlines()
    model_row = next(line for line in lines if "ProductionVariants[AllTraffic].ModelName" in line)
    assert "~" in model_row and model_row.index("churn-v7") < model_row.index("churn-v8")
    assert any("InstanceType" in line and "ml.m5.large" in line and "ml.c5.2xlarge" in line for line in lines)
    assert "endpoint/churn-prod/variant/AllTraffic" in run.stdout
    assert "AllTraffic-invocations-target" in run.stdout
    assert "AllTraffic 2 -> 3" in run.stdout


def test_plan_shows_a_raise_capped_at_max_capacity(emulator: LocalRunner) -> None:
    # Given the demo endpoint (AllTraffic at 2 instances, MaxCapacity 6) / When a raise of 10 is planned
    run = invoke("plan", "--local", *NEW_MODEL, "--capacity-add", "10")
    # Then the plan shows the capped count, the count asked for and why
    assert run.code == 0, run.stderr
    assert "AllTraffic 2 -> 6 (asked 12: capped at the scalable target's MaxCapacity 6" in " ".join(run.stdout.split())


def test_plan_json_is_the_create_endpoint_config_request_and_the_scaling(emulator: LocalRunner) -> None:
    run = invoke("plan", "--local", "--json", *NEW_MODEL, "--capacity-percent", "50")
    assert run.code == 0, run.stderr
    plan = run.json()
    variants = {v["VariantName"]: v for v in plan["NewConfig"]["ProductionVariants"]}
    assert variants["AllTraffic"]["ModelName"] == "churn-v8"
    assert variants["AllTraffic"]["InitialInstanceCount"] == 3
    assert variants["Canary"]["ModelName"] == "churn-v7"
    assert plan["CurrentConfig"]["EndpointConfigName"] == "churn-prod-config-1"
    assert plan["NewConfig"]["DataCaptureConfig"] == plan["CurrentConfig"]["DataCaptureConfig"]
    assert plan["CapacityRaise"] == [{"VariantName": "AllTraffic", "From": 2, "To": 3}]
    assert [t["ResourceId"] for t in plan["ScalingToDeregisterAndRestore"]["Targets"]] == [
        "endpoint/churn-prod/variant/AllTraffic"]
    assert plan["Refusal"] is None


def test_plan_changes_nothing(emulator: LocalRunner) -> None:
    # Given the emulated account as it is
    before = world()
    # When updates of every kind are planned
    for extra in (("--instance-type", "ml.c5.2xlarge"), ("--capacity-add", "2"),
                  ("--input", "examples/two-variants.json")):
        assert invoke("plan", "--local", *NEW_MODEL, *extra).code == 0
    # Then the scaling, the endpoint and the list of endpoint configs are exactly as before
    assert world() == before


def test_plan_reports_an_unknown_variant_as_a_refusal(emulator: LocalRunner) -> None:
    run = invoke("plan", "--local", "--json", "--endpoint", ENDPOINT, "--variant", "Shadow", "--model", "churn-v8")
    assert run.code == 3
    refusal = run.json()["Refusal"]
    assert refusal["Error"] == "InvalidInput"
    assert "VariantChanges[0].VariantName: 'Shadow' is not a variant" in refusal["Cause"]


def test_plan_shows_the_refusals_start_would_hit_at_the_first_state(emulator: LocalRunner, tmp_path: Path) -> None:
    # Given a model that does not exist and a rolling update of the demo's two-variant endpoint, which AWS would
    # refuse only after the scaling was deregistered
    path = tmp_path / "input.json"
    path.write_text('{"DeploymentConfig": {"RollingUpdatePolicy": {"WaitIntervalInSeconds": 60, '
                    '"MaximumBatchSize": {"Type": "CAPACITY_PERCENT", "Value": 50}}}}')
    before = world()
    # When it is planned
    run = invoke("plan", "--local", "--json", "--input", str(path), "--endpoint", ENDPOINT, "--variant", "AllTraffic",
                 "--model", "churn-v99")
    # Then the plan is a refusal naming both, with the exit code of a refused update, and nothing changed
    assert run.code == 3, run.stderr
    cause = run.json()["Refusal"]["Cause"]
    assert "VariantChanges[0].ModelName: model 'churn-v99' does not exist" in cause
    assert "rolling deployments exclude multi-variant endpoints" in cause
    assert world() == before


def test_plan_of_a_missing_endpoint_is_refused(emulator: LocalRunner) -> None:
    run = invoke("plan", "--local", "--endpoint", "no-such-endpoint")
    assert run.code == 3
    assert "EndpointNotFound" in run.stdout and "no-such-endpoint" in run.stdout


def test_plan_of_a_busy_endpoint_exits_6(emulator: LocalRunner) -> None:
    emulation.set_endpoint_status(ENDPOINT, "Updating")
    run = invoke("plan", "--local", "--json", *NEW_MODEL)
    assert run.code == 6
    assert run.json()["Refusal"]["Error"] == "EndpointNotInService"


def test_plan_with_an_invalid_input_file_names_the_field(emulator: LocalRunner, tmp_path: Path) -> None:
    path = tmp_path / "input.json"
    path.write_text('{"EndpointName": "churn-prod", "PollIntervalSeconds": 0}')
    run = invoke("plan", "--local", "--input", str(path))
    assert run.code == 2
    assert "PollIntervalSeconds: 0 is not allowed; give a whole number from 1 to 3600" in one_line_error(run)
