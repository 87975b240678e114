"""The ASL file: its placeholders match the task functions, and its error handling is one structure."""

import json
from typing import Any

import pytest

from statemachine import TASK_FUNCTIONS, all_states, placeholders, read_definition, render

LAMBDA_SERVICE_ERRORS = {"Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException",
                         "Lambda.ClientExecutionTimeoutException"}


@pytest.fixture(scope="module")
def definition() -> dict[str, Any]:
    return json.loads(read_definition())


def test_placeholders_are_exactly_the_task_functions() -> None:
    assert placeholders(read_definition()) == {task.placeholder for task in TASK_FUNCTIONS}


def test_render_refuses_a_missing_or_unknown_substitution() -> None:
    values = {task.placeholder: "arn" for task in TASK_FUNCTIONS}
    with pytest.raises(ValueError, match="missing"):
        render(read_definition(), {k: v for k, v in values.items() if k != "CheckEndpointFunctionArn"})
    with pytest.raises(ValueError, match="unused"):
        render(read_definition(), {**values, "Extra": "x"})


def test_render_leaves_jsonpath_alone() -> None:
    rendered = render(read_definition(), {task.placeholder: f"arn:{task.key}" for task in TASK_FUNCTIONS})
    assert '"$$.Execution"' in rendered and "${" not in rendered
    json.loads(rendered)


def test_every_task_retries_lambda_service_errors_and_transient_aws_errors(definition: dict[str, Any]) -> None:
    tasks = {n: s for n, s in all_states(definition["States"]).items() if s["Type"] == "Task"}
    assert len(tasks) == 11  # CheckEndpoint serves two states, AwaitEndpoint two callback waits
    for name, state in tasks.items():
        retried = {error for rule in state["Retry"] for error in rule["ErrorEquals"]}
        assert retried >= LAMBDA_SERVICE_ERRORS | {"AwsTransientError"}, name


def test_every_transition_targets_an_existing_state_and_every_state_is_reachable(definition: dict) -> None:
    def targets(state: dict[str, Any]) -> set[str]:
        found = {state[k] for k in ("Next", "Default") if k in state}
        found |= {c["Next"] for c in state.get("Choices", []) + state.get("Catch", [])}
        return found

    def check(states: dict[str, Any], start: str) -> None:
        reached, todo = set(), [start]
        while todo:
            name = todo.pop()
            if name not in reached:
                reached.add(name)
                assert set(targets(states[name])) <= states.keys(), name
                todo.extend(targets(states[name]))
        assert reached == set(states), set(states) - reached

    check(definition["States"], definition["StartAt"])
    for branch in definition["States"]["Update"]["Branches"]:
        check(branch["States"], branch["StartAt"])


def test_one_catch_covers_the_whole_update_and_leads_to_the_restore(definition: dict[str, Any]) -> None:
    catches = {n: s["Catch"] for n, s in all_states(definition["States"]).items() if "Catch" in s}
    assert catches["Update"] == [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.Error", "Next": "RestoreScaling"}]
    assert definition["States"]["Update"]["Next"] == "RestoreScaling"
    # Before the update and after the restore, errors go to the one place that turns a cause into its message
    assert catches["ValidateAndSnapshot"] == [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.Failure",
                                               "Next": "IsFunctionError"}]
    assert [catch["Next"] for catch in catches["RestoreScaling"]] == ["RestoreFailed"]
    assert definition["States"]["RestoreFailed"]["Next"] == "IsFunctionError"
    # Inside the update, only the callback waits catch an error: their own timeout, which leads to the safety-net
    # poll; every other error still reaches the one Catch
    assert {n: c for n, c in catches.items() if n.endswith("Event")} == {
        "WaitForCapacityEvent": [{"ErrorEquals": ["States.Timeout"], "ResultPath": "$.CapacityRaise.Check",
                                  "Next": "CheckCapacity"}],
        "WaitForUpdateEvent": [{"ErrorEquals": ["States.Timeout"], "ResultPath": "$.Poll", "Next": "CheckUpdate"}]}
    assert set(catches) == {"ValidateAndSnapshot", "Update", "RestoreScaling", "WaitForCapacityEvent",
                            "WaitForUpdateEvent"}


def test_the_definition_has_its_own_timeout(definition: dict[str, Any]) -> None:
    assert definition["TimeoutSeconds"] > 24 * 3600
