"""Queries on a synthesized CloudFormation template (a plain dict), shared by the template tests."""

from __future__ import annotations

from typing import Any

Template = dict[str, Any]
Statement = dict[str, Any]


def resources_of_type(template: Template, resource_type: str) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == resource_type
    }


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def referenced_id(value: Any) -> str:
    """The logical id behind {"Ref": id} or {"Fn::GetAtt": [id, "Arn"]}."""
    if isinstance(value, dict) and set(value) == {"Ref"}:
        return str(value["Ref"])
    if isinstance(value, dict) and set(value) == {"Fn::GetAtt"} and value["Fn::GetAtt"][1] == "Arn":
        return str(value["Fn::GetAtt"][0])
    raise AssertionError(f"not a reference to a resource: {value!r}")


def role_statements(template: Template, role_id: str) -> list[Statement]:
    """Every statement granted to a role: its inline policies and the AWS::IAM::Policy resources naming it."""
    role = template["Resources"][role_id]
    documents = [policy["PolicyDocument"] for policy in role["Properties"].get("Policies", [])]
    documents += [
        policy["Properties"]["PolicyDocument"]
        for policy in resources_of_type(template, "AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"].get("Roles", [])
    ]
    return [statement for document in documents for statement in as_list(document["Statement"])]


def allowed_actions(statements: list[Statement]) -> set[str]:
    return {
        action for statement in statements if statement["Effect"] == "Allow" for action in as_list(statement["Action"])
    }


def functions_by_folder(template: Template) -> dict[str, tuple[str, dict[str, Any]]]:
    """Lambda functions keyed by the code folder their handler names ("lambdas.<folder>.handler.handler")."""
    by_folder: dict[str, tuple[str, dict[str, Any]]] = {}
    for logical_id, function in resources_of_type(template, "AWS::Lambda::Function").items():
        folder = function["Properties"]["Handler"].split(".")[1]
        assert folder not in by_folder, f"two functions run lambdas/{folder}"
        by_folder[folder] = (logical_id, function)
    return by_folder


def _state_machine_named(template: Template, suffix: str) -> tuple[str, dict[str, Any]]:
    machines = resources_of_type(template, "AWS::StepFunctions::StateMachine")
    named = [(logical_id, machine) for logical_id, machine in machines.items()
             if str(machine["Properties"].get("StateMachineName", "")).endswith(suffix)]
    assert len(named) == 1, f"expected one state machine named *{suffix}, found {sorted(machines)}"
    return named[0]


def state_machine(template: Template) -> tuple[str, dict[str, Any]]:
    """The update state machine (the stack also deploys the rollout's, rollout_state_machine)."""
    return _state_machine_named(template, "-Workflow")


def rollout_state_machine(template: Template) -> tuple[str, dict[str, Any]]:
    return _state_machine_named(template, "-Rollout")
