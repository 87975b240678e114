"""The deployed state machine runs statemachine/endpoint_update.asl.json as it is, calling the task functions."""

from __future__ import annotations

import json

from synthesized import Template, as_list, functions_by_folder, referenced_id, role_statements, state_machine

from statemachine import TASK_FUNCTIONS, all_states, placeholders, read_definition

WAIT_FOR_CALLBACK = "arn:aws:states:::lambda:invoke.waitForTaskToken"


def test_the_deployed_definition_is_the_asl_file_byte_for_byte(template: Template) -> None:
    # Given the state machine of the synthesized template
    _, machine = state_machine(template)

    # When its definition is read
    deployed = machine["Properties"]["DefinitionString"]

    # Then it is the file's text, inline and unchanged (no S3 asset, no Fn::Join, no re-serialization)
    assert isinstance(deployed, str)
    assert deployed == read_definition()
    assert "DefinitionS3Location" not in machine["Properties"]


def test_every_placeholder_is_substituted_by_the_arn_of_its_task_function(template: Template) -> None:
    # Given the state machine and the functions of the template, keyed by logical id
    _, machine = state_machine(template)
    handler_by_id = {
        logical_id: function["Properties"]["Handler"] for logical_id, function in functions_by_folder(template).values()
    }
    expected_handler = {task.placeholder: task.handler for task in TASK_FUNCTIONS}

    # When the definition substitutions are read
    substitutions = machine["Properties"]["DefinitionSubstitutions"]

    # Then there is exactly one per placeholder of the file
    assert set(substitutions) == placeholders(read_definition())
    # And each is the ARN of a function of this template that runs that task's handler
    for placeholder, value in substitutions.items():
        assert set(value) == {"Fn::GetAtt"} and value["Fn::GetAtt"][1] == "Arn", placeholder
        assert handler_by_id[referenced_id(value)] == expected_handler[placeholder], placeholder


def test_the_workflow_is_a_standard_state_machine_bounded_by_its_own_timeout(template: Template) -> None:
    # Given the state machine
    _, machine = state_machine(template)

    # When its type and its definition's timeout are read
    definition = json.loads(machine["Properties"]["DefinitionString"])

    # Then it is a STANDARD workflow whose time limit comes from the file (the CDK's timeout prop is not used)
    assert machine["Properties"]["StateMachineType"] == "STANDARD"
    assert isinstance(definition.get("TimeoutSeconds"), int) and definition["TimeoutSeconds"] > 0


def test_the_outputs_name_the_state_machine(template: Template) -> None:
    # Given the state machine's logical id
    machine_id, _ = state_machine(template)

    # When the stack outputs are read
    outputs = template["Outputs"]

    # Then they give its ARN (Ref of a state machine) and its name
    assert outputs["StateMachineArn"]["Value"] == {"Ref": machine_id}
    assert outputs["StateMachineName"]["Value"] == {"Fn::GetAtt": [machine_id, "Name"]}


def test_the_callback_waits_invoke_the_await_function_the_state_machine_may_invoke(template: Template) -> None:
    # Given the deployed state machine, its substitutions, and the invoke permission of its role
    _, machine = state_machine(template)
    definition = json.loads(machine["Properties"]["DefinitionString"])
    substitutions = machine["Properties"]["DefinitionSubstitutions"]
    role = role_statements(template, referenced_id(machine["Properties"]["RoleArn"]))
    invocable = [resource for statement in role if as_list(statement["Action"]) == ["lambda:InvokeFunction"]
                 for resource in as_list(statement["Resource"])]
    await_id, _ = functions_by_folder(template)["await_endpoint"]

    # When the states that wait for a task token are read
    waits = {name: state for name, state in all_states(definition["States"]).items()
             if state.get("Resource") == WAIT_FOR_CALLBACK}

    # Then the update and the capacity raise each wait so, handing the await function their token
    assert set(waits) == {"WaitForUpdateEvent", "WaitForCapacityEvent"}
    for name, state in waits.items():
        assert state["Parameters"]["FunctionName"] == "${AwaitEndpointFunctionArn}", name
        assert state["Parameters"]["Payload"]["TaskToken.$"] == "$$.Task.Token", name
    # And that placeholder is the unqualified ARN of the await function, which the role may invoke
    assert substitutions["AwaitEndpointFunctionArn"] == {"Fn::GetAtt": [await_id, "Arn"]}
    assert {"Fn::GetAtt": [await_id, "Arn"]} in invocable
