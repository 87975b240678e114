"""The command line finds the deployed state machine by the stack's name and output key."""

from __future__ import annotations

from synthesized import Template, referenced_id, state_machine

from endpoint_updater.cli import workflow
from infra import settings


def test_the_cli_looks_up_the_stack_and_output_the_app_deploys(template: Template) -> None:
    # Given the synthesized stack / When its outputs are read
    outputs = template["Outputs"]
    # Then the stack name and the output the command line reads are the deployed ones, and the output is
    # the state machine's ARN
    assert workflow.STACK_NAME == settings.STACK_ID
    assert referenced_id(outputs[workflow.STATE_MACHINE_OUTPUT]["Value"]) == state_machine(template)[0]
