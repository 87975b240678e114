"""The rollout state machine, executed end to end with the update state machine it starts for each endpoint.

Both ASL files run as deployed: every endpoint update is a real execution of the update state machine
(`startExecution.sync:2`), with its lock, snapshot, restore and recovery.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from endpoint_updater import names
from endpoint_updater.core import rollout, store
from endpoint_updater.offline import emulation
from endpoint_updater.offline.runner import Execution, LocalRunner
from endpoint_updater.offline.scenario import (
    VariantSpec,
    create_endpoint,
    create_fleet,
    create_inference_component_endpoint,
    endpoint_state,
    scaling_state,
)

FAST = {"PollIntervalSeconds": 1, "InitialPollDelaySeconds": 0}
NEW_MODEL = {"VariantChanges": [{"VariantName": "AllTraffic", "ModelName": "churn-v8"}], **FAST}


def fleet(count: int, prefix: str = "churn") -> tuple[list[str], dict[str, Any]]:
    endpoints = [f"{prefix}-{i}" for i in range(1, count + 1)]
    return endpoints, create_fleet(endpoints)


def outcomes(execution: Execution) -> dict[str, str]:
    return {r["EndpointName"]: r["Outcome"] for r in execution.output["Endpoints"]}


def child_arn(runner: LocalRunner, rollout_name: str, endpoint: str, attempt: int = 1) -> str:
    return names.execution_arn(runner.state_machine_arn, rollout.child_name(rollout_name, endpoint, attempt))


def config_of(endpoint: str) -> str:
    return str(endpoint_state(endpoint)["EndpointConfigName"])


def released(endpoint: str) -> bool:
    lock = store.read_lock(endpoint)
    return lock.holder is None and lock.unrestored is None


def update_executions(runner: LocalRunner) -> list[str]:
    pages = runner.sfn.get_paginator("list_executions").paginate(stateMachineArn=runner.state_machine_arn)
    return sorted(e["name"] for page in pages for e in page["executions"])


def test_a_canary_failure_stops_everything_after_it(runner: LocalRunner) -> None:
    # Given four endpoints, the first (the canary) rolling back, and a budget that would tolerate three failures
    endpoints, before = fleet(4)
    emulation.configure_update("churn-1", outcome="rollback", failure_reason="health check failed")
    # When the rollout runs
    execution = runner.run_rollout({"Endpoints": endpoints, "Change": NEW_MODEL, "ToleratedFailureCount": 3,
                                    "Waves": {"BatchSize": 2}}, name="fleet")
    # Then it stops after the canary: no other update is started
    assert execution.status == "SUCCEEDED"
    assert execution.output["StoppedBecause"]["Reason"] == "CanaryFailed"
    assert outcomes(execution) == {"churn-1": "FAILED", "churn-2": "NOT_STARTED", "churn-3": "NOT_STARTED",
                                   "churn-4": "NOT_STARTED"}
    assert [child.arn for child in execution.children] == [child_arn(runner, "fleet", "churn-1")]
    assert update_executions(runner) == ["fleet-churn-1"]
    canary = execution.output["Endpoints"][0]
    assert (canary["Error"], canary["ExecutionArn"]) == ("EndpointUpdateRolledBack", execution.children[0].arn)
    assert "health check failed" in canary["Cause"]
    assert [w["Status"] for w in execution.output["Waves"]] == ["DONE", "NOT_STARTED", "NOT_STARTED"]
    # And the canary has its scaling back; the others were not touched
    for endpoint in endpoints:
        assert scaling_state(endpoint) == before[endpoint]
        assert config_of(endpoint) == f"{endpoint}-config-1"
        assert released(endpoint)


@pytest.mark.parametrize(("tolerated", "expected"), [
    (1, {"churn-1": "SUCCEEDED", "churn-2": "FAILED", "churn-3": "SUCCEEDED", "churn-4": "FAILED",
         "churn-5": "NOT_STARTED"}),
    (2, {"churn-1": "SUCCEEDED", "churn-2": "FAILED", "churn-3": "SUCCEEDED", "churn-4": "FAILED",
         "churn-5": "SUCCEEDED"}),
])
def test_the_failure_budget_counts_exactly_at_its_edge(runner: LocalRunner, tolerated: int,
                                                       expected: dict[str, str]) -> None:
    # Given five endpoints in one wave, updated one at a time, the second and the fourth failing
    endpoints, _ = fleet(5)
    emulation.configure_update("churn-2", outcome="fail", failure_reason="image not found")
    emulation.configure_update("churn-4", outcome="rollback")
    # When the rollout tolerates `tolerated` failures
    execution = runner.run_rollout({"Endpoints": endpoints, "Change": NEW_MODEL, "ToleratedFailureCount": tolerated,
                                    "Waves": {"CanarySize": 0, "BatchSize": 5, "MaxConcurrency": 1}}, name="fleet")
    # Then with one tolerated, the second failure holds back every update after it, inside the wave; with two,
    # all five run
    assert execution.status == "SUCCEEDED"
    assert outcomes(execution) == expected
    assert execution.output["FailureBudget"] == {"ToleratedFailures": tolerated, "Failures": 2,
                                                 "Basis": f"ToleratedFailureCount {tolerated}"}
    stopped = execution.output.get("StoppedBecause")
    assert (stopped or {}).get("Reason") == ("FailureBudgetSpent" if tolerated == 1 else None)
    started = [e for e, outcome in expected.items() if outcome != "NOT_STARTED"]
    assert update_executions(runner) == [f"fleet-{e}" for e in started]
    if tolerated == 1:
        assert "the failure budget is spent" in execution.output["Endpoints"][4]["Cause"]
        assert config_of("churn-5") == "churn-5-config-1"


def test_a_stop_mid_wave_leaves_every_touched_endpoint_restored_and_unlocked(runner: LocalRunner) -> None:
    # Given four endpoints, three updating at once in the first wave, each update taking ten minutes
    endpoints, before = fleet(4)
    for endpoint in endpoints:
        emulation.configure_update(endpoint, seconds=600)
    arn = runner.start_rollout({"Endpoints": endpoints, "Change": NEW_MODEL,
                                "Waves": {"CanarySize": 0, "BatchSize": 3, "MaxConcurrency": 3}}, name="fleet")
    children = [child_arn(runner, "fleet", e) for e in endpoints[:3]]
    for child in children:
        runner.wait_for_state(child, "UpdateEndpoint", wait_for_start=True)
    # When the rollout is stopped while they update
    runner.stop(arn)
    execution = runner.wait(arn)
    # Then the updates it started are stopped with it, and each is recovered as a stopped update is
    assert execution.status == "ABORTED"
    assert sorted(child.arn for child in execution.children) == sorted(children)
    for stopped in execution.children:
        assert stopped.status == "ABORTED"
        assert stopped.recovery["Recovered"] is True, stopped.recovery
    # And every endpoint it touched has its scaling back and no lock; the one of the next wave was not touched
    for endpoint in endpoints:
        assert scaling_state(endpoint) == before[endpoint], endpoint
        assert released(endpoint), endpoint
    assert update_executions(runner) == [f"fleet-{e}" for e in endpoints[:3]]
    assert config_of("churn-4") == "churn-4-config-1"


def test_a_rerun_skips_the_endpoints_already_updated(runner: LocalRunner) -> None:
    # Given a rollout whose third update failed
    endpoints, before = fleet(3)
    emulation.configure_update("churn-3", outcome="rollback")
    settings = {"Endpoints": endpoints, "Change": NEW_MODEL, "ToleratedFailureCount": 1,
                "Waves": {"CanarySize": 0, "BatchSize": 3, "MaxConcurrency": 1}}
    first = runner.run_rollout(settings, name="fleet")
    assert outcomes(first) == {"churn-1": "SUCCEEDED", "churn-2": "SUCCEEDED", "churn-3": "FAILED"}
    emulation.configure_update("churn-3")
    # When it is run again under the same rollout name
    second = runner.run_rollout({**settings, "RolloutName": "fleet"}, name="fleet-again")
    # Then the two updated endpoints are skipped, and only the failed one is updated, under a new name
    assert outcomes(second) == {"churn-1": "SKIPPED", "churn-2": "SKIPPED", "churn-3": "SUCCEEDED"}
    assert [child.arn for child in second.children] == [child_arn(runner, "fleet", "churn-3", attempt=2)]
    assert update_executions(runner) == ["fleet-churn-1", "fleet-churn-2", "fleet-churn-3", "fleet-churn-3-r2"]
    skipped = second.output["Endpoints"][0]
    assert skipped["Cause"] == "the endpoint already runs the requested change"
    assert skipped["OldConfigName"] == skipped["NewConfigName"] == first.output["Endpoints"][0]["NewConfigName"]
    for endpoint in endpoints:
        assert scaling_state(endpoint) == before[endpoint]


def test_a_rerun_while_an_update_still_runs_waits_for_it_and_starts_no_second_one(runner: LocalRunner) -> None:
    # Given a rollout whose update of churn-1 is still running
    endpoints, _ = fleet(1)
    emulation.configure_update("churn-1", seconds=600)
    request = {"Endpoints": endpoints, "Change": NEW_MODEL, "Waves": {"CanarySize": 0}}
    first = runner.start_rollout(request, name="fleet")
    runner.wait_for_state(child_arn(runner, "fleet", "churn-1"), "UpdateEndpoint", wait_for_start=True)
    # When the same rollout is started again under another execution name
    second = runner.start_rollout({**request, "RolloutName": "fleet"}, name="fleet-again")
    ended = [runner.wait(second), runner.wait(first)]
    # Then both report the one update, and only one was started
    assert [outcomes(e) for e in ended] == [{"churn-1": "SUCCEEDED"}] * 2
    assert update_executions(runner) == ["fleet-churn-1"]


def test_mixed_endpoints_are_each_handled_as_one_update_would_be(runner: LocalRunner) -> None:
    # Given an autoscaled endpoint, one without autoscaling, a serverless one, one without the variant and one
    # of inference components
    before = create_fleet(["fleet-ok"])
    create_endpoint("fleet-no-scaling")
    create_endpoint("fleet-serverless", (VariantSpec(serverless=True),))
    create_endpoint("fleet-blue-only", (VariantSpec(name="Blue"),))
    create_inference_component_endpoint("fleet-components")
    # When a new model is rolled out to all of them
    execution = runner.run_rollout({"Targets": {"NamePattern": "fleet-*"}, "Change": NEW_MODEL,
                                    "Waves": {"CanarySize": 0, "MaxConcurrency": 5}}, name="fleet")
    # Then the refused ones are listed and not started; the others are updated
    assert outcomes(execution) == {
        "fleet-blue-only": "REFUSED", "fleet-components": "REFUSED", "fleet-no-scaling": "SUCCEEDED",
        "fleet-ok": "SUCCEEDED", "fleet-serverless": "SUCCEEDED"}
    assert "StoppedBecause" not in execution.output
    assert update_executions(runner) == ["fleet-fleet-no-scaling", "fleet-fleet-ok", "fleet-fleet-serverless"]
    assert config_of("fleet-blue-only") == "fleet-blue-only-config-1"
    assert scaling_state("fleet-ok") == before["fleet-ok"]
    for record in execution.output["Endpoints"]:
        if record["Outcome"] == "SUCCEEDED":
            assert config_of(record["EndpointName"]) == record["NewConfigName"] != record["OldConfigName"]


def test_a_dry_run_rollout_plans_every_endpoint_and_changes_nothing(runner: LocalRunner) -> None:
    # Given a fleet
    endpoints, before = fleet(3)
    create_endpoint("churn-blue", (VariantSpec(name="Blue"),))
    sagemaker = boto3.client("sagemaker")
    configs = sagemaker.list_endpoint_configs()["EndpointConfigs"]
    # When a dry-run rollout runs
    execution = runner.run_rollout({"Targets": {"NamePattern": "churn-*"}, "Change": NEW_MODEL, "DryRun": True},
                                   name="fleet")
    # Then every endpoint's plan or refusal is in the output, and nothing was started or changed
    assert execution.status == "SUCCEEDED" and execution.output["DryRun"] is True
    assert outcomes(execution) == {"churn-1": "PLANNED", "churn-2": "PLANNED", "churn-3": "PLANNED",
                                   "churn-blue": "REFUSED"}
    assert execution.output["Endpoints"][0]["Plan"]["NewConfigName"].startswith("churn-1-")
    assert execution.children == [] and update_executions(runner) == []
    assert sagemaker.list_endpoint_configs()["EndpointConfigs"] == configs
    for endpoint in endpoints:
        assert scaling_state(endpoint) == before[endpoint]
        assert config_of(endpoint) == f"{endpoint}-config-1"
        assert released(endpoint)
    assert [s for s in execution.states_entered if s not in ("Preflight", "PreflightFailed")] == [
        "Plan", "PlanEndpoints", "MakeWaves", "WhatNext", "Done"]
