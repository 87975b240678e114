"""Bad flags, bad input files and AWS setup problems: one line each, no traceback, a documented exit code."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from cli_support import invoke, one_line_error, stubbed_cloudformation
from moto import mock_aws

from endpoint_updater.cli import errors, local
from endpoint_updater.cli.errors import CliError
from endpoint_updater.cli.request import execution_name, from_flags, validated
from endpoint_updater.cli.workflow import find_state_machine

NEW_MODEL = ("--endpoint", "churn-prod", "--variant", "AllTraffic", "--model", "churn-v8")


@pytest.mark.parametrize(("args", "expected"), [
    (("start", "--frobnicate"), "No such option '--frobnicate'. (see endpoint-updater start --help)"),
    (("plan", "--endpoint", "churn-prod", "--capacity-add", "one"), "'one' is not a valid integer"),
    (("launch",), "No such command 'launch'"),
    (("status",), "Missing argument 'EXECUTION'"),
    (("start", "--variant", "AllTraffic", "--model", "churn-v8"), "no endpoint: pass --endpoint"),
    (("start", "--endpoint", "churn-prod", "--model", "churn-v8"), "name it with --variant"),
    (("start", "--endpoint", "churn-prod", "--variant", "AllTraffic"), "say what to change"),
    (("plan", *NEW_MODEL, "--capacity-add", "1", "--capacity-percent", "5"), "give one of them"),
    (("plan", *NEW_MODEL, "--capacity-add", "0"), "CapacityIncrease.Add: 0 is not allowed; give a whole number from 1"),
    (("start", *NEW_MODEL, "--timeout", "100000"), "TimeoutSeconds: 100000 is not allowed"),
    (("start", *NEW_MODEL, "--name", "has space"), "--name 'has space': give 1 to 80 letters"),
    (("start", "--endpoint", "churn_prod"), "EndpointName: \"churn_prod\" is not an endpoint name"),
])
def test_bad_flags_give_one_line_and_exit_2(args: tuple[str, ...], expected: str) -> None:
    run = invoke(*args)
    assert run.code == errors.INVALID
    assert expected in one_line_error(run)


@pytest.mark.parametrize(("content", "expected"), [
    ('{"EndpointName": "churn-prod",', "not valid JSON"),
    ('["churn-prod"]', "must hold a JSON object"),
    ('{"EndpointName": "churn-prod", "Endpoint": "x"}', "Endpoint: unknown field; allowed fields: EndpointName"),
    ('{"EndpointName": "churn-prod", "VariantChanges": [{"VariantName": "A", "Modle": "m"}]}',
     "VariantChanges[0].Modle: unknown field"),
    ('{"EndpointName": "churn-prod", "DryRun": "yes"}', "DryRun: \"yes\" is not allowed; give true"),
    ('{"VariantChanges": []}', "no endpoint"),
])
def test_bad_input_files_give_one_line_and_exit_2(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "input.json"
    path.write_text(content)
    for command in ("start", "plan"):
        run = invoke(command, "--input", str(path))
        assert run.code == errors.INVALID
        assert expected in one_line_error(run)


# The inputs on which the command line once disagreed with the published schema: it said "Started" and exited 0,
# and the workflow refused them later.
DISAGREED = [
    ({"InitialInstanceCount": 0}, "VariantChanges[0].InitialInstanceCount: 0 is not allowed; give a whole number"),
    ({"InitialInstanceCount": -1}, "VariantChanges[0].InitialInstanceCount: -1 is not allowed"),
    ({"InitialInstanceCount": "3"}, 'VariantChanges[0].InitialInstanceCount: "3" is not allowed'),
    ({"InitialInstanceCount": 2.5}, "VariantChanges[0].InitialInstanceCount: 2.5 is not allowed"),
    ({"InitialInstanceCount": True}, "VariantChanges[0].InitialInstanceCount: true is not allowed"),
    ({"InitialInstanceCount": 1_000_000_000}, "give a whole number from 1 to 1000"),
    ({"InitialVariantWeight": -1}, "VariantChanges[0].InitialVariantWeight: -1 is not allowed; give a finite number"),
    ({"ModelName": 123}, "VariantChanges[0].ModelName: 123 is not allowed; give a string"),
    ({"ModelName": ""}, "VariantChanges[0].ModelName"),
    ({"InstanceType": "ml.m5.huge"}, "VariantChanges[0].InstanceType: \"ml.m5.huge\" is not allowed; give one of the"),
    ({"VariantName": "v" * 64, "ModelName": "churn-v8"}, "VariantChanges[0].VariantName"),
]


@pytest.mark.parametrize(("change", "expected"), DISAGREED, ids=[
    "count-0", "count-negative", "count-string", "count-fraction", "count-true", "count-a-billion", "weight-negative",
    "model-number", "model-empty", "instance-type-unknown", "variant-name-64"])
def test_start_refuses_what_the_workflow_refuses_before_starting_anything(
        tmp_path: Path, change: dict[str, object], expected: str) -> None:
    # Given an input the published schema refuses
    path = tmp_path / "input.json"
    path.write_text(json.dumps({"EndpointName": "churn-prod", "VariantChanges": [{"VariantName": "AllTraffic",
                                                                                  **change}]}))
    with local.session() as runner:
        # When it is started without --wait
        run = invoke("start", "--local", "--input", str(path))
        # Then the command refuses it with the workflow's own message and exit 2, and started nothing
        assert run.code == errors.INVALID, run.stdout
        assert expected in one_line_error(run)
        assert "Started" not in run.stdout
        assert runner.sfn.list_executions(stateMachineArn=runner.state_machine_arn)["executions"] == []


def test_an_unknown_deployment_config_key_is_refused_before_starting(tmp_path: Path) -> None:
    path = tmp_path / "input.json"
    path.write_text(json.dumps({"EndpointName": "churn-prod", "DeploymentConfig": {"Canary": {}}}))
    run = invoke("start", "--input", str(path))
    assert run.code == errors.INVALID
    assert "DeploymentConfig.Canary: unknown field; allowed fields: BlueGreenUpdatePolicy" in one_line_error(run)


@pytest.mark.parametrize("constant", ["Infinity", "-Infinity", "NaN"])
def test_nan_and_infinity_in_an_input_file_are_not_json(tmp_path: Path, constant: str) -> None:
    # Given a file Python's json module would read, with a number JSON does not have
    path = tmp_path / "input.json"
    path.write_text('{"EndpointName": "churn-prod", "VariantChanges": [{"VariantName": "AllTraffic", '
                    f'"InitialVariantWeight": {constant}}}]}}')
    for command in ("start", "plan"):
        # When it is read / Then it is refused, naming the token
        run = invoke(command, "--input", str(path))
        assert run.code == errors.INVALID
        assert f"not valid JSON: {constant} is not a JSON number" in one_line_error(run)


def test_a_missing_input_file_is_named(tmp_path: Path) -> None:
    run = invoke("start", "--input", str(tmp_path / "missing.json"))
    assert run.code == errors.INVALID
    assert "missing.json: cannot read it" in one_line_error(run)


def test_flags_override_the_input_file() -> None:
    # Given a file's input / When flags are given too
    from_file = {"EndpointName": "other", "TimeoutSeconds": 60, "VariantChanges": [
        {"VariantName": "AllTraffic", "ModelName": "m1"}, {"VariantName": "Canary", "ModelName": "m2"}]}
    merged = from_flags(from_file, endpoint="churn-prod", variant="AllTraffic", model=None,
                        instance_type="ml.c5.xlarge", instance_count=None, capacity_add=None, capacity_percent=None,
                        poll_interval=None, timeout=120)
    # Then each flag replaces its field, and the named variant's change is merged with the file's
    assert merged == {"EndpointName": "churn-prod", "TimeoutSeconds": 120, "VariantChanges": [
        {"VariantName": "Canary", "ModelName": "m2"},
        {"VariantName": "AllTraffic", "ModelName": "m1", "InstanceType": "ml.c5.xlarge"}]}


def test_execution_names_are_stable_valid_and_differ_by_request() -> None:
    request = validated({"EndpointName": "churn-prod", "VariantChanges": [{"VariantName": "A", "ModelName": "m"}]})
    same = validated({"VariantChanges": [{"ModelName": "m", "VariantName": "A"}], "EndpointName": "churn-prod",
                      "PollIntervalSeconds": 28, "InitialPollDelaySeconds": 180})
    other = validated({"EndpointName": "churn-prod", "VariantChanges": [{"VariantName": "A", "ModelName": "n"}]})
    assert execution_name(request) == execution_name(same) != execution_name(other)
    long_name = execution_name(validated({"EndpointName": "e" * 63}))
    assert len(long_name) <= 80 and long_name.replace("-", "").isalnum()


@pytest.fixture
def no_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No credentials anywhere, and no instance metadata to ask."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                 "AWS_DEFAULT_PROFILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                 "AWS_WEB_IDENTITY_TOKEN_FILE", "ENDPOINT_UPDATER_STATE_MACHINE_ARN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")


def test_no_credentials_is_one_line_and_exit_5(no_aws: None) -> None:
    run = invoke("start", *NEW_MODEL)
    assert run.code == errors.AWS
    assert "no AWS credentials found" in one_line_error(run)


def test_the_break_glass_restore_without_credentials_exits_5_like_every_command(
        no_aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given no AWS credentials and a named updates table (the restore reads it before anything else)
    monkeypatch.delenv("UPDATES_TABLE_NAME", raising=False)
    run = invoke("restore", "--endpoint", "churn-prod", "--table", "endpoint-updater-updates")

    # Then the restore fails as an AWS setup problem, not as a failed restore
    assert run.code == errors.AWS
    assert "no AWS credentials found" in one_line_error(run)


def test_no_region_is_one_line_and_exit_5(no_aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.delenv("AWS_REGION", raising=False)
    run = invoke("plan", *NEW_MODEL)
    assert run.code == errors.AWS
    assert "no AWS region: pass --region or set AWS_DEFAULT_REGION" in one_line_error(run)


def test_the_state_machine_is_the_stack_output(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the deployed stack with its StateMachineArn output (DescribeStacks, as CloudFormation answers)
    monkeypatch.delenv("ENDPOINT_UPDATER_STATE_MACHINE_ARN", raising=False)
    cloudformation, stubber = stubbed_cloudformation()
    arn = "arn:aws:states:eu-west-1:123456789012:stateMachine:EndpointUpdater-StateMachine"
    stubber.add_response("describe_stacks", {"Stacks": [{
        "StackName": "EndpointUpdater", "CreationTime": dt.datetime(2026, 1, 1), "StackStatus": "CREATE_COMPLETE",
        "Outputs": [{"OutputKey": "StateMachineArn", "OutputValue": arn}]}]}, {"StackName": "EndpointUpdater"})
    # When the state machine is looked up without a flag or variable / Then it is the output
    with stubber:
        assert find_state_machine(cloudformation, None) == arn
    # And the flag and the variable come first, without asking CloudFormation
    assert find_state_machine(cloudformation, "arn:given") == "arn:given"
    monkeypatch.setenv("ENDPOINT_UPDATER_STATE_MACHINE_ARN", "arn:from-env")
    assert find_state_machine(cloudformation, None) == "arn:from-env"


def test_a_missing_stack_is_a_not_found_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ENDPOINT_UPDATER_STATE_MACHINE_ARN", raising=False)
    cloudformation, stubber = stubbed_cloudformation()
    stubber.add_client_error("describe_stacks", service_error_code="ValidationException",
                             service_message="Stack with id EndpointUpdater does not exist", http_status_code=400)
    with stubber, pytest.raises(CliError) as caught:
        find_state_machine(cloudformation, None)
    assert caught.value.code == errors.NOT_FOUND
    assert str(caught.value).startswith("stack EndpointUpdater not found in eu-west-1: deploy it")


def test_the_state_machine_comes_from_the_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    missing = "arn:aws:states:eu-west-1:123456789012:stateMachine:not-deployed"
    monkeypatch.setenv("ENDPOINT_UPDATER_STATE_MACHINE_ARN", missing)
    with mock_aws():
        run = invoke("start", "--region", "eu-west-1", *NEW_MODEL)
    assert run.code == errors.NOT_FOUND
    assert f"state machine {missing} does not exist" in one_line_error(run)
