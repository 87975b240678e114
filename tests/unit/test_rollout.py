"""The rollout's logic without AWS: its input, names, waves, failure budget and tally, and its definition."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from endpoint_updater.core import rollout
from endpoint_updater.core.errors import InvalidInput
from statemachine import (
    ROLLOUT_FUNCTIONS,
    ROLLOUT_SCHEMA_PATH,
    UPDATE_STATE_MACHINE_PLACEHOLDER,
    placeholders,
    read_rollout_definition,
    render,
)

ROOT = Path(__file__).resolve().parents[2]
CHANGE = {"VariantChanges": [{"VariantName": "AllTraffic", "ModelName": "churn-v8"}]}
UPDATE_SM = "arn:aws:states:us-east-1:123456789012:stateMachine:endpoint-updater"
ROLLOUT_ARN = "arn:aws:states:us-east-1:123456789012:execution:endpoint-updater-rollout:fleet-v8"
STEP_FUNCTIONS_PAYLOAD_LIMIT = 256 * 1024


def refused(raw: Any) -> str:
    with pytest.raises(InvalidInput) as caught:
        rollout.parse_rollout(raw)
    return str(caught.value)


# -- the input ---------------------------------------------------------------------------------------------------


def test_a_minimal_rollout_takes_the_defaults() -> None:
    # Given an explicit list and a change
    parsed = rollout.parse_rollout({"Endpoints": ["a", "b"], "Change": CHANGE})
    # Then the waves and the budget take their documented defaults
    assert (parsed.CanarySize, parsed.BatchSize, parsed.BatchPercent, parsed.MaxConcurrency, parsed.BakeSeconds) == (
        1, None, None, 10, 0)
    assert rollout.failure_budget(parsed, 10) == 0
    assert parsed.DryRun is False


@pytest.mark.parametrize(("raw", "expected"), [
    ({"Change": CHANGE}, ["Endpoints or Targets: required"]),
    ({"Endpoints": ["a"]}, ["Change: required", "VariantChanges"]),
    ({"Endpoints": ["a"], "Change": CHANGE, "Wave": {}}, ["Wave: unknown field; allowed fields: Endpoints, Targets"]),
    ({"Endpoints": ["a", "a"], "Change": CHANGE}, ["Endpoints[1]: 'a' is named twice"]),
    ({"Endpoints": ["bad_name"], "Change": CHANGE}, ['Endpoints[0]: "bad_name" is not an endpoint name']),
    ({"Endpoints": [], "Change": CHANGE}, ["Endpoints: must be a non-empty list"]),
    ({"Targets": {}, "Change": CHANGE}, ["Targets: give NamePattern", "and/or Tags"]),
    ({"Targets": {"NamePattern": "churn/*"}, "Change": CHANGE},
     ['Targets.NamePattern: "churn/*" is not allowed', "wildcards * (any run of characters)"]),
    ({"Endpoints": ["a"], "Change": {**CHANGE, "EndpointName": "x"}},
     ["Change.EndpointName: not allowed in a rollout's Change; allowed: VariantChanges, CapacityIncrease"]),
    ({"Endpoints": ["a"], "Change": {"VariantChanges": [{"VariantName": "AllTraffic", "ModelNam": "m"}]}},
     ["Change.VariantChanges[0].ModelNam: unknown field; allowed:"]),
    ({"Endpoints": ["a"], "Change": {**CHANGE, "PollIntervalSeconds": 0}},
     ["Change.PollIntervalSeconds: 0 is not allowed; give a whole number from 1 to 3600"]),
    ({"Endpoints": ["a"], "Change": CHANGE, "Waves": {"BatchSize": 2, "BatchPercent": 10}},
     ["Waves: give BatchSize (endpoints per wave) or BatchPercent"]),
    ({"Endpoints": ["a"], "Change": CHANGE, "Waves": {"MaxConcurrency": 41}},
     ["Waves.MaxConcurrency: 41 is not allowed; give a whole number from 1 to 40"]),
    ({"Endpoints": ["a"], "Change": CHANGE, "Waves": {"BatchSize": 101}},
     ["Waves.BatchSize: 101 is not allowed; give a whole number from 1 to 100"]),
    ({"Endpoints": ["a"], "Change": CHANGE, "Waves": {"CanarySize": -1}},
     ["Waves.CanarySize: -1 is not allowed; give a whole number from 0 to 10"]),
    ({"Endpoints": ["a"], "Change": CHANGE, "Waves": {"Bake": 60}},
     ["Waves.Bake: unknown field; allowed: CanarySize, BatchSize, BatchPercent, MaxConcurrency, BakeSeconds"]),
    ({"Endpoints": ["a"], "Change": CHANGE, "ToleratedFailureCount": 1, "ToleratedFailurePercentage": 5},
     ["ToleratedFailureCount, ToleratedFailurePercentage: give one of them, not both"]),
    ({"Endpoints": ["a"], "Change": CHANGE, "ToleratedFailurePercentage": 101},
     ["ToleratedFailurePercentage: 101 is not allowed; give a whole number from 0 to 100"]),
    ({"Endpoints": ["a"], "Change": CHANGE, "RolloutName": "has space"}, ['RolloutName: "has space" is not allowed']),
    ({"Endpoints": ["a"], "Change": CHANGE, "DryRun": "yes"}, ['DryRun: "yes" is not allowed; give true']),
])
def test_bad_input_is_refused_naming_the_field_and_what_is_allowed(raw: dict[str, Any], expected: list[str]) -> None:
    message = refused(raw)
    for part in expected:
        assert part in message


def test_every_problem_is_reported_at_once() -> None:
    message = refused({"Endpoints": ["a"], "Change": {**CHANGE, "TimeoutSeconds": 0},
                       "Waves": {"MaxConcurrency": 0}, "ToleratedFailureCount": -1})
    assert "Change.TimeoutSeconds: 0 is not allowed" in message
    assert "Waves.MaxConcurrency: 0 is not allowed" in message
    assert "ToleratedFailureCount: -1 is not allowed" in message


def test_a_list_longer_than_a_rollout_takes_is_refused() -> None:
    names = [f"e{i}" for i in range(rollout.MAX_TARGETS + 1)]
    assert f"a rollout updates at most {rollout.MAX_TARGETS}" in refused({"Endpoints": names, "Change": CHANGE})


def test_the_change_fields_follow_the_update_schema() -> None:
    # Given the update's published input schema
    update_fields = json.loads((ROOT / "statemachine" / "input.schema.json").read_text())["properties"]
    # Then a Change may hold every field of it but those naming one endpoint or one run
    assert set(rollout.CHANGE_FIELDS) == set(update_fields) - {"EndpointName", "DryRun", "ModelPackage", "Requester"}


def test_the_shipped_schema_is_the_published_one() -> None:
    assert (ROOT / "endpoint_updater" / "core" / "rollout.input.schema.json").read_bytes() == \
        ROLLOUT_SCHEMA_PATH.read_bytes()


# -- names -------------------------------------------------------------------------------------------------------


def test_update_names_are_valid_deterministic_and_unique() -> None:
    long_a, long_b = "a" * 60 + "-blue", "a" * 60 + "-green"
    names = [rollout.child_name("fleet-2030-01-model-v8-all-regions", endpoint, attempt)
             for endpoint in (long_a, long_b, "churn-1") for attempt in (1, 2, 12)]
    for name in names:
        assert re.fullmatch(r"[0-9A-Za-z_-]{1,80}", name), name
    assert len(set(names)) == len(names)
    assert rollout.child_name("r", long_a) == rollout.child_name("r", long_a)
    assert rollout.child_name("fleet", "churn-1") == "fleet-churn-1"
    assert rollout.child_name("fleet", "churn-1", 2) == "fleet-churn-1-r2"


def test_the_rollout_name_defaults_to_the_execution_name() -> None:
    assert rollout.rollout_name_of(ROLLOUT_ARN, None) == "fleet-v8"
    assert rollout.rollout_name_of(ROLLOUT_ARN, "first-run") == "first-run"


# -- waves and budget ------------------------------------------------------------------------------------------


def waves(count: int, **settings: Any) -> list[list[str]]:
    request = rollout.parse_rollout({"Endpoints": ["x"], "Change": CHANGE, "Waves": settings})
    return rollout.make_waves([f"e{i}" for i in range(count)], request)


def test_a_canary_then_batches() -> None:
    assert [len(w) for w in waves(8, BatchSize=3)] == [1, 3, 3, 1]
    assert [len(w) for w in waves(25)] == [1, 10, 10, 4]
    assert [len(w) for w in waves(5, CanarySize=0, BatchSize=2)] == [2, 2, 1]
    assert [len(w) for w in waves(2, CanarySize=3)] == [2]
    assert waves(4, CanarySize=2, BatchSize=5) == [["e0", "e1"], ["e2", "e3"]]


def test_batch_percent_is_of_every_endpoint_updated_rounded_up() -> None:
    assert [len(w) for w in waves(10, BatchPercent=25)] == [1, 3, 3, 3]
    assert [len(w) for w in waves(3, BatchPercent=1)] == [1, 1, 1]


@pytest.mark.parametrize(("settings", "updated", "budget"), [
    ({}, 10, 0), ({"ToleratedFailureCount": 2}, 10, 2), ({"ToleratedFailurePercentage": 25}, 10, 2),
    ({"ToleratedFailurePercentage": 10}, 9, 0), ({"ToleratedFailurePercentage": 100}, 7, 7),
])
def test_the_failure_budget(settings: dict[str, Any], updated: int, budget: int) -> None:
    request = rollout.parse_rollout({"Endpoints": ["x"], "Change": CHANGE, **settings})
    assert rollout.failure_budget(request, updated) == budget


def test_a_change_is_already_applied_when_every_requested_field_is_live() -> None:
    config = {"ProductionVariants": [
        {"VariantName": "AllTraffic", "ModelName": "churn-v8", "InstanceType": "ml.m5.large"},
        {"VariantName": "Shadow", "ModelName": "churn-v7"}]}
    assert rollout.already_applied(config, CHANGE["VariantChanges"])
    assert not rollout.already_applied(config, [{"VariantName": "AllTraffic", "ModelName": "churn-v8",
                                                 "InstanceType": "ml.m5.xlarge"}])
    assert not rollout.already_applied(config, [{"VariantName": "Missing", "ModelName": "churn-v8"}])
    assert not rollout.already_applied(config, [])
    assert not rollout.already_applied(None, CHANGE["VariantChanges"])


# -- the tally -----------------------------------------------------------------------------------------------------


def record(name: str, wave: int) -> dict[str, Any]:
    return {**rollout._record(name), "Wave": wave, "ExecutionArn": f"{UPDATE_SM.replace('stateMachine', 'execution')}"
            f":fleet-{name}", "OldConfigName": f"{name}-config-1"}


def state(sizes: list[int], budget: int, canary: bool = True) -> dict[str, Any]:
    """A rollout's state after its plan: waves of `sizes`, endpoints e0, e1, ..."""
    records, number = [], 0
    for wave, size in enumerate(sizes, start=1):
        for _ in range(size):
            records.append(record(f"e{number}", wave))
            number += 1
    planned: dict[str, Any] = {
        "ExecutionId": ROLLOUT_ARN,
        "Rollout": {"Name": "fleet", "ExecutionArn": ROLLOUT_ARN, "UpdateStateMachineArn": UPDATE_SM,
                    "Change": CHANGE, "MaxConcurrency": 2, "BakeSeconds": 0, "ToleratedFailures": budget},
        "Report": {"Endpoints": records, "FailureBudget": {"ToleratedFailures": budget, "Failures": 0, "Basis": "b"},
                   "Waves": [{"Wave": n, "Canary": canary and n == 1, "Size": size, "Status": "PENDING", "Totals": {}}
                             for n, size in enumerate(sizes, start=1)], "Totals": {}},
    }
    planned["Wave"] = rollout._wave_items(planned, 1)
    return planned


def results(current: dict[str, Any], failed: set[str] = frozenset()) -> list[dict[str, Any]]:  # type: ignore[assignment]
    out = []
    for item in current["Wave"]["Items"]:
        name = item["Target"]["EndpointName"]
        out.append({"EndpointName": name, "Outcome": "FAILED", "Error": "States.TaskFailed"} if name in failed else
                   {"EndpointName": name, "Outcome": "SUCCEEDED", "ExecutionArn": "arn", "PreviousConfigName": "old",
                    "NewConfigName": "new"})
    return out


@pytest.fixture
def failed_updates(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every update described is FAILED, with the cause its execution would have."""
    monkeypatch.setattr(rollout, "_describe_child", lambda arn: {
        "status": "FAILED", "error": "EndpointUpdateRolledBack", "cause": "rolled back to the old config"})


def run_wave(current: dict[str, Any], failed: set[str] = frozenset()) -> dict[str, Any]:  # type: ignore[assignment]
    return rollout.tally({**copy.deepcopy(current), "WaveResults": results(current, failed)})


@pytest.mark.usefixtures("failed_updates")
def test_a_canary_failure_stops_every_wave_after_it_whatever_the_budget() -> None:
    # Given a budget of 5 and a canary that fails
    after = run_wave(state([1, 2, 2], budget=5), failed={"e0"})
    # Then nothing more is started
    report = after["Report"]
    assert after["Next"] == "Done" and after["Wave"] is None
    assert report["StoppedBecause"]["Reason"] == rollout.CANARY_FAILED
    assert [r["Outcome"] for r in report["Endpoints"]] == ["FAILED"] + ["NOT_STARTED"] * 4
    assert report["Endpoints"][0]["Error"] == "EndpointUpdateRolledBack"
    assert [w["Status"] for w in report["Waves"]] == ["DONE", "NOT_STARTED", "NOT_STARTED"]


@pytest.mark.usefixtures("failed_updates")
def test_the_budget_at_its_edge() -> None:
    # Given a budget of 2 failures, waves 1 + 2 + 2 + 2
    current = run_wave(state([1, 2, 2, 2], budget=2))
    assert current["Wave"]["Gate"]["Remaining"] == 2
    # When the second wave has 2 failures: exactly the budget
    current = run_wave(current, failed={"e1", "e2"})
    # Then the rollout goes on, with no failure left to tolerate
    assert current["Next"] == "Wave" and "StoppedBecause" not in current["Report"]
    assert current["Wave"]["Gate"]["Remaining"] == 0
    # When the next wave has one more failure
    current = run_wave(current, failed={"e3"})
    # Then it stops there: the last wave is not started
    report = current["Report"]
    assert report["StoppedBecause"]["Reason"] == rollout.BUDGET_SPENT
    assert report["FailureBudget"]["Failures"] == 3
    assert [r["Outcome"] for r in report["Endpoints"]] == [
        "SUCCEEDED", "FAILED", "FAILED", "FAILED", "SUCCEEDED", "NOT_STARTED", "NOT_STARTED"]
    assert report["Totals"] == {"FAILED": 3, "NOT_STARTED": 2, "SUCCEEDED": 2}


def test_every_wave_run_ends_the_rollout_with_a_bake_between_waves() -> None:
    current = state([1, 1], budget=0)
    current["Rollout"]["BakeSeconds"] = 300
    current = run_wave(current)
    assert (current["Next"], current["BakeSeconds"]) == ("Bake", 300)
    current = run_wave(current)
    assert current["Next"] == "Done" and "StoppedBecause" not in current["Report"]
    assert current["Report"]["Totals"] == {"SUCCEEDED": 2}
    assert current["Report"]["Endpoints"][1]["NewConfigName"] == "new"


def test_the_gate_holds_back_new_updates_once_the_budget_is_spent(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a wave whose first two updates failed and a budget of 1 left
    statuses = {"fleet-e0": "FAILED", "fleet-e1": "FAILED", "fleet-e2": "RUNNING"}
    monkeypatch.setattr(rollout, "_describe_child",
                        lambda arn: {"status": statuses[arn.rsplit(":", 1)[-1]]} if arn.rsplit(":", 1)[-1] in statuses
                        else None)
    gate = {**state([4], budget=1, canary=False)["Wave"]["Gate"]}
    gate["ExecutionNames"] = ["fleet-e0", "fleet-e1", "fleet-e2", "fleet-e3"]
    # Then the first two could start, and none after them
    assert rollout.may_start(gate, 1)["Start"] is True
    held = rollout.may_start(gate, 2)
    assert held["Start"] is False and "the failure budget is spent" in held["Reason"] and "fleet-e1" in held["Reason"]
    assert rollout.may_start(gate, 3)["Start"] is False
    # And in a canary wave, one failure is enough
    assert rollout.may_start({**gate, "Remaining": 0, "Canary": True}, 1)["Reason"].startswith(
        "an update of the canary wave failed")


def test_a_wave_that_was_not_started_says_why() -> None:
    current = state([2], budget=0, canary=False)
    wave_results = [{"EndpointName": "e0", "Outcome": "NOT_STARTED", "Gate": {"Start": False, "Reason": "budget"}},
                    {"EndpointName": "e1", "Outcome": "NOT_STARTED",
                     "Gate": {"Error": "AwsTransientError", "Cause": json.dumps({"errorMessage": "throttled"})}}]
    report = rollout.tally({**current, "WaveResults": wave_results})["Report"]
    assert report["Endpoints"][0]["Cause"] == "not started: budget"
    assert report["Endpoints"][1]["Cause"] == (
        "not started: the failure budget could not be checked (AwsTransientError: throttled)")
    assert report["Endpoints"][0]["ExecutionArn"] is None


def test_the_largest_rollout_fits_in_a_step_functions_state() -> None:
    # Given the most endpoints, the longest names and causes, and the largest wave with its results
    names = [f"{i:03d}-" + "e" * 59 for i in range(rollout.MAX_TARGETS)]
    current = state([1, 100, 99], budget=200)
    for record_, name in zip(current["Report"]["Endpoints"], names, strict=True):
        record_.update(EndpointName=name, NewConfigName=name, OldConfigName=name, Error="E" * 40, Cause="c" * 200,
                       ExecutionArn=UPDATE_SM.replace("stateMachine", "execution") + ":" + "n" * 80)
    current["Report"]["Targets"] = {"NamePattern": "*", "Tags": None, "Resolved": names}
    current["Rollout"]["Change"] = {"VariantChanges": [{"VariantName": "v" * 63, "ModelName": "m" * 63}]}
    current["Wave"] = rollout._wave_items(current, 2)
    wave_results = [{"EndpointName": n, "Outcome": "SUCCEEDED", "ExecutionArn": "a" * 150, "PreviousConfigName": n,
                     "NewConfigName": n} for n in names[1:101]]
    # Then the state the Map returns stays within Step Functions' 256 KB, with room to spare
    size = len(json.dumps({**current, "WaveResults": wave_results}, separators=(",", ":")).encode())
    assert size < STEP_FUNCTIONS_PAYLOAD_LIMIT - 32 * 1024, size


# -- the definition ----------------------------------------------------------------------------------------------


def definition() -> dict[str, Any]:
    return dict(json.loads(read_rollout_definition()))


def test_the_definition_names_exactly_its_functions_and_the_update_state_machine() -> None:
    expected = {task.placeholder for task in ROLLOUT_FUNCTIONS} | {UPDATE_STATE_MACHINE_PLACEHOLDER}
    assert placeholders(read_rollout_definition()) == expected
    rendered = json.loads(render(read_rollout_definition(), {name: f"arn:{name}" for name in expected}))
    assert rendered["TimeoutSeconds"] == rollout.ROLLOUT_TIMEOUT_SECONDS


def test_each_update_is_a_child_execution_whose_failure_is_a_result() -> None:
    wave = definition()["States"]["RunWave"]
    assert wave["Type"] == "Map" and wave["ItemProcessor"]["ProcessorConfig"]["Mode"] == "INLINE"
    assert wave["MaxConcurrencyPath"] == "$.Wave.MaxConcurrency"
    states = wave["ItemProcessor"]["States"]
    update = states["RunUpdate"]
    assert update["Resource"] == "arn:aws:states:::states:startExecution.sync:2"
    assert update["Parameters"]["StateMachineArn"] == "${UpdateStateMachineArn}"
    assert [c["ErrorEquals"] for c in update["Catch"]] == [["States.ALL"]]
    assert [c["ErrorEquals"] for c in states["MayStart"]["Catch"]] == [["States.ALL"]]
    # An inline Map runs at most 40 iterations at once: the input's limit says so
    assert rollout.WAVE_PROPERTIES["MaxConcurrency"]["maximum"] == 40


def test_every_ending_state_is_reached_and_every_task_retries_the_lambda_service_errors() -> None:
    states = definition()["States"]
    inner = states["RunWave"]["ItemProcessor"]["States"]
    for name, spec in [*states.items(), *inner.items()]:
        if spec["Type"] == "Task" and spec["Resource"].startswith("${"):
            assert "Lambda.ServiceException" in spec["Retry"][0]["ErrorEquals"], name
    targets = {spec.get("Next") for spec in states.values()} | {
        choice["Next"] for spec in states.values() for choice in spec.get("Choices", [])} | {
        spec.get("Default") for spec in states.values()} | {
        catch["Next"] for spec in states.values() for catch in spec.get("Catch", [])}
    assert set(states) - targets == {"Plan"}


def test_targets_by_tags_leave_out_the_endpoints_whose_tags_the_deployment_may_not_read(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Given three endpoints, one outside this deployment's endpointNamePattern (ListTags refused by IAM)
    def paginate(service: str, operation: str, key: str, **params: Any) -> list[dict[str, Any]]:
        if operation == "list_endpoints":
            return [{"EndpointName": n, "EndpointArn": f"arn:endpoint/{n}"} for n in ("churn-a", "other", "churn-b")]
        if params["ResourceArn"].endswith("other"):
            raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "not allowed"}}, "ListTags")
        return [{"Key": "team", "Value": "churn"}]

    monkeypatch.setattr(rollout, "paginate", paginate)
    request = rollout.parse_rollout({"Targets": {"Tags": {"team": "churn"}},
                                     "Change": {"VariantChanges": [{"VariantName": "AllTraffic",
                                                                    "ModelName": "churn-v8"}]}})
    # When the targets are resolved / Then the refused one is left out instead of failing the whole rollout
    assert rollout.resolve_targets(request) == ["churn-a", "churn-b"]
