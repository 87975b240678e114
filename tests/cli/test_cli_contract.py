"""What the command line shows and returns comes from the workflow's own contract: the defaults from the
published input schema, the exit codes from the exception classes, never from a message's text."""

from __future__ import annotations

import json
import re
from pathlib import Path

import click
import pytest
from cli_support import invoke, stubbed_cloudformation

from endpoint_updater.cli import errors
from endpoint_updater.cli.errors import CliError
from endpoint_updater.cli.main import main
from endpoint_updater.cli.workflow import find_state_machine
from endpoint_updater.core import errors as core_errors

PUBLISHED = Path(__file__).parents[2] / "statemachine" / "input.schema.json"
SCHEMA_PROPERTIES = json.loads(PUBLISHED.read_text(encoding="utf-8"))["properties"]
SHOWN_DEFAULT = re.compile(r"\(default (\w+)")


def help_defaults() -> dict[tuple[str, str], tuple[str, str]]:
    """(command, option) -> (the schema field its help names first, the default it shows)."""
    found = {}
    for command_name, command in main.commands.items():
        for param in command.params:
            if not isinstance(param, click.Option) or not param.help:
                continue
            shown = SHOWN_DEFAULT.search(param.help)
            field = next((word for word in re.findall(r"\w+", param.help) if word in SCHEMA_PROPERTIES), None)
            if shown and field:
                found[(command_name, param.opts[0])] = (field, shown.group(1))
    return found


def test_every_default_the_help_shows_is_the_published_schemas() -> None:
    # Given every option of every command whose help names a workflow input field and shows a default
    shown = help_defaults()
    assert {option for _, option in shown} >= {"--poll-interval", "--timeout"}

    # When the defaults are compared with the published schema's
    wrong = {key: (field, value, SCHEMA_PROPERTIES[field].get("default"))
             for key, (field, value) in shown.items()
             if value != str(SCHEMA_PROPERTIES[field].get("default"))}

    # Then none differs
    assert wrong == {}


def test_the_help_text_people_read_shows_the_schema_defaults() -> None:
    # Given the published defaults / When `start --help` is printed
    run = invoke("start", "--help")
    text = " ".join(run.stdout.split())

    # Then it shows them
    assert run.code == 0
    assert f"PollIntervalSeconds (default {SCHEMA_PROPERTIES['PollIntervalSeconds']['default']};" in text
    assert f"(default {SCHEMA_PROPERTIES['TimeoutSeconds']['default']})" in text


def test_refusal_exit_codes_are_keyed_by_the_workflow_exception_classes() -> None:
    # Given the exit codes of the workflow's refusals
    # When their keys are read / Then each names an exception class the functions raise
    for name in errors.ERROR_EXIT_CODES:
        assert issubclass(getattr(core_errors, name), core_errors.UpdaterError), name
    assert errors.exit_code_for("EndpointUpdateInProgress") == errors.BUSY
    assert errors.exit_code_for("InvalidInput") == errors.REFUSED
    assert errors.exit_code_for("EndpointUpdateFailed") == errors.FAILED
    assert errors.exit_code_for(None) == errors.FAILED


@pytest.mark.parametrize("message", ["Stack with id EndpointUpdater does not exist", "no text to match"])
def test_a_missing_stack_is_told_by_cloudformations_error_code(monkeypatch: pytest.MonkeyPatch,
                                                               message: str) -> None:
    # Given CloudFormation answering DescribeStacks as it does for a stack that does not exist (ValidationError,
    # its query protocol's code), whatever the message says
    monkeypatch.delenv("ENDPOINT_UPDATER_STATE_MACHINE_ARN", raising=False)
    cloudformation, stubber = stubbed_cloudformation()
    stubber.add_client_error("describe_stacks", service_error_code="ValidationError", service_message=message,
                             http_status_code=400)

    # When the state machine is looked up / Then it is a not-found error
    with stubber, pytest.raises(CliError) as caught:
        find_state_machine(cloudformation, None)
    assert caught.value.code == errors.NOT_FOUND


def test_access_denied_on_the_stack_is_not_a_missing_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given DescribeStacks refused, with a message that happens to say "does not exist"
    monkeypatch.delenv("ENDPOINT_UPDATER_STATE_MACHINE_ARN", raising=False)
    cloudformation, stubber = stubbed_cloudformation()
    stubber.add_client_error("describe_stacks", service_error_code="AccessDenied", http_status_code=403,
                             service_message="the permission does not exist for this caller")

    # When the state machine is looked up / Then the AWS error goes on to the AWS exit code, not to "not found"
    with stubber, pytest.raises(CliError) as caught, errors.aws_errors():
        find_state_machine(cloudformation, None)
    assert caught.value.code == errors.AWS


@pytest.mark.parametrize("command", sorted(main.commands))
def test_the_help_of_every_command_shows_no_placeholder_of_an_unset_bound(command: str) -> None:
    # Given the help a person reads for each command
    run = invoke(command, "--help")

    # Then it shows no bound that was never set (an unbounded IntRange prints "[x<=None]")
    assert run.code == 0
    assert "None" not in run.stdout
