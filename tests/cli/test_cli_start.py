"""`endpoint-updater start`, `status` and `history` against the emulator: outcomes and exit codes."""

from __future__ import annotations

import json

from cli_support import ENDPOINT, invoke, one_line_error, world

from endpoint_updater.cli import errors
from endpoint_updater.cli.main import outcome_code
from endpoint_updater.offline import emulation
from endpoint_updater.offline.runner import LocalRunner
from endpoint_updater.offline.scenario import endpoint_state

NEW_MODEL = ("--endpoint", ENDPOINT, "--variant", "AllTraffic", "--model", "churn-v8")


def test_start_wait_follows_the_execution_and_exits_0_on_success(emulator: LocalRunner) -> None:
    # Given the demo endpoint / When an update is started and followed
    run = invoke("start", "--local", "--wait", *NEW_MODEL, "--capacity-add", "1")
    # Then every state is shown as it is entered, the outcome and the change are printed, and the exit is 0
    assert run.code == 0, run.stdout + run.stderr
    shown = [line.split()[-1] for line in run.stdout.splitlines() if line.startswith("  +")]
    assert shown[:3] == ["ValidateAndSnapshot", "IsDryRun", "Update"] and shown[-2:] == ["DidUpdateSucceed", "Done"]
    assert "RaiseCapacity" in shown
    assert "SUCCEEDED" in run.stdout
    assert "AllTraffic.ModelName: churn-v7 -> churn-v8" in run.stdout
    assert endpoint_state(ENDPOINT)["EndpointConfigName"] != "churn-prod-config-1"


def test_start_wait_json_is_the_execution_and_its_output(emulator: LocalRunner) -> None:
    run = invoke("start", "--local", "--wait", "--json", *NEW_MODEL)
    assert run.code == 0, run.stderr
    execution = run.json()
    assert execution["status"] == "SUCCEEDED"
    assert execution["output"]["NewConfigName"] == endpoint_state(ENDPOINT)["EndpointConfigName"]
    assert execution["input"]["VariantChanges"] == [{"VariantName": "AllTraffic", "ModelName": "churn-v8"}]
    assert execution["input"]["PollIntervalSeconds"] == 1


def test_a_rolled_back_update_exits_1_with_the_error_and_cause(emulator: LocalRunner) -> None:
    # Given SageMaker rolls the update back
    emulation.configure_update(ENDPOINT, seconds=0.2, outcome="rollback", failure_reason="ping health check failed")
    # When the update is started and followed
    run = invoke("start", "--local", "--wait", *NEW_MODEL)
    # Then the exit is 1 and the error, its cause and the failed step are printed
    assert run.code == errors.FAILED
    assert "FAILED" in run.stdout
    assert "EndpointUpdateRolledBack" in run.stdout and "ping health check failed" in run.stdout
    assert "WaitForUpdateEvent failed: EndpointUpdateRolledBack" in run.stdout


def test_an_update_refused_by_the_workflow_exits_3(emulator: LocalRunner) -> None:
    before = world()
    run = invoke("start", "--local", "--wait", "--endpoint", ENDPOINT, "--variant", "Shadow", "--model", "churn-v8")
    assert run.code == errors.REFUSED
    assert "InvalidInput" in run.stdout and "'Shadow' is not a variant" in run.stdout
    assert world() == before


def test_a_busy_endpoint_exits_6(emulator: LocalRunner) -> None:
    emulation.set_endpoint_status(ENDPOINT, "Updating")
    run = invoke("start", "--local", "--wait", "--json", *NEW_MODEL)
    assert run.code == errors.BUSY
    assert run.json()["error"] == "EndpointNotInService"


def test_endpoint_busy_errors_map_to_their_exit_codes() -> None:
    assert outcome_code({"status": "FAILED", "error": "EndpointUpdateInProgress"}) == errors.BUSY
    assert outcome_code({"status": "FAILED", "error": "EndpointNotFound"}) == errors.REFUSED
    assert outcome_code({"status": "FAILED", "error": "ScalingRestoreFailed"}) == errors.FAILED
    assert outcome_code({"status": "TIMED_OUT", "error": None}) == errors.FAILED
    assert outcome_code({"status": "ABORTED", "error": None}) == errors.FAILED


def test_dry_run_through_the_workflow_ends_with_the_plan_and_changes_nothing(emulator: LocalRunner) -> None:
    before = world()
    run = invoke("start", "--local", "--wait", "--json", "--dry-run", *NEW_MODEL)
    assert run.code == 0, run.stderr
    plan = run.json()["output"]
    assert plan["DryRun"] is True and plan["Refusal"] is None
    models = {v["VariantName"]: v["ModelName"] for v in plan["NewConfig"]["ProductionVariants"]}
    assert models == {"AllTraffic": "churn-v8", "Canary": "churn-v7"}
    assert world() == before


def test_the_same_request_gets_the_same_name_and_a_finished_one_is_reported(emulator: LocalRunner) -> None:
    # Given an update that ran to its end
    first = invoke("start", "--local", "--wait", "--json", *NEW_MODEL).json()
    # When the same request is started again
    again = invoke("start", "--local", *NEW_MODEL)
    # Then it is refused with the existing execution's ARN, and exit 7
    assert again.code == errors.NAME_TAKEN
    assert first["executionArn"] in one_line_error(again)
    # And --name starts it anyway
    renamed = invoke("start", "--local", "--json", "--name", "churn-prod-again", *NEW_MODEL)
    assert renamed.code == 0 and renamed.json()["name"] == "churn-prod-again"


def test_starting_a_running_request_again_returns_the_running_execution(emulator: LocalRunner) -> None:
    emulation.configure_update(ENDPOINT, seconds=3)
    first = invoke("start", "--local", "--json", *NEW_MODEL)
    second = invoke("start", "--local", "--json", *NEW_MODEL)
    assert first.code == second.code == 0
    assert first.json()["executionArn"] == second.json()["executionArn"]
    assert emulator.wait(first.json()["executionArn"]).status == "SUCCEEDED"


def test_status_and_history_of_a_finished_execution(emulator: LocalRunner) -> None:
    # Given a failed update (rolled back) started without waiting
    emulation.configure_update(ENDPOINT, seconds=0.2, outcome="rollback")
    started = invoke("start", "--local", "--json", *NEW_MODEL).json()
    emulator.wait(started["executionArn"])

    # When its status is read, by ARN and by name
    by_arn = invoke("status", "--local", "--json", started["executionArn"])
    by_name = invoke("status", "--local", "--json", started["name"])
    text = invoke("status", "--local", started["name"])

    # Then both give the same execution, failed with the workflow's error and a readable cause
    assert by_arn.code == by_name.code == text.code == 0
    assert by_arn.json() == by_name.json()
    assert by_arn.json()["status"] == "FAILED" and by_arn.json()["error"] == "EndpointUpdateRolledBack"
    assert "scaling" in by_arn.json()["cause"]
    assert "FAILED" in text.stdout and "EndpointUpdateRolledBack" in text.stdout

    # And its history lists each step with timings, the failed one with its error
    history = invoke("history", "--local", "--json", started["executionArn"])
    assert history.code == 0
    steps = history.json()["steps"]
    names = [s["name"] for s in steps]
    assert names[0] == "ValidateAndSnapshot" and "RestoreScaling" in names and names[-1] == "UpdateFailed"
    assert all(s["durationSeconds"] is not None and s["durationSeconds"] >= 0 for s in steps)
    offsets = [s["offsetSeconds"] for s in steps]
    assert offsets == sorted(offsets)
    failed = [s for s in steps if s["error"]]
    assert [(s["name"], s["error"]) for s in failed] == [("WaitForUpdateEvent", "EndpointUpdateRolledBack")]
    table = invoke("history", "--local", started["name"])
    assert table.code == 0 and "WaitForUpdateEvent" in table.stdout and "EndpointUpdateRolledBack" in table.stdout


def test_history_shows_retried_attempts(emulator: LocalRunner) -> None:
    emulation.inject_fault("sagemaker", "UpdateEndpoint", "ThrottlingException", times=2)
    started = invoke("start", "--local", "--wait", "--json", *NEW_MODEL).json()
    assert started["status"] == "SUCCEEDED"
    steps = invoke("history", "--local", "--json", started["executionArn"]).json()["steps"]
    update = next(s for s in steps if s["name"] == "UpdateEndpoint")
    assert update["error"] is None and update["attempts"] >= 2 and "AwsTransientError" in update["failures"]


def test_an_unknown_execution_exits_4(emulator: LocalRunner) -> None:
    for command in ("status", "history"):
        run = invoke(command, "--local", "no-such-execution")
        assert run.code == errors.NOT_FOUND
        assert "execution not found" in one_line_error(run)


def test_start_without_wait_prints_the_execution(emulator: LocalRunner) -> None:
    run = invoke("start", "--local", *NEW_MODEL)
    assert run.code == 0
    arn = run.stdout.strip().splitlines()[-1]
    assert arn.startswith("arn:aws:states:") and ":execution:endpoint-updater:churn-prod-" in arn
    assert emulator.wait(arn).status == "SUCCEEDED"
    assert json.loads(invoke("status", "--local", "--json", arn).stdout)["status"] == "SUCCEEDED"


def test_status_says_who_asked_for_an_update_requested_by_an_event(emulator: LocalRunner) -> None:
    # Given an update requested by an event on the request bus, whose sender said who asked
    (answer,) = emulator.put_events([{
        "EventBusName": emulator.request_bus, "Source": "endpoint-updater", "DetailType": "Endpoint Update Requested",
        "Detail": json.dumps({"EndpointName": ENDPOINT, "DryRun": True, "RequestedBy": "alice@example.com"})}])
    emulator.wait(answer["ExecutionArn"])
    # When its status is shown
    text = invoke("status", "--local", answer["ExecutionArn"])
    # Then it names who asked, with the account the event came from
    assert text.code == 0, text.stderr
    assert "Requested by" in text.stdout and "alice@example.com (account 123456789012, source" in text.stdout


def test_a_local_command_leaves_no_metric_behind_for_a_later_flush() -> None:
    # Given an update run by a local command, its functions' metrics disabled (they would mix with its output)
    from endpoint_updater.core.observability import metrics

    run = invoke("start", "--local", "--wait", *NEW_MODEL)
    assert run.code == 0, run.stdout + run.stderr

    # When the command has ended
    # Then the process's shared metric set is empty: Powertools clears it only when it publishes, so what the
    # disabled run added would otherwise go out with the next flush in this process
    assert metrics.metric_set == {}
    assert metrics.metadata_set == {}
