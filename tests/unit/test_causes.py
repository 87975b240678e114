"""A failure's cause as people read it: the one parser the restore step, the notification and the command
line share."""

from __future__ import annotations

import json

import pytest

from endpoint_updater.core.errors import cause_message

LAMBDA_CAUSE = json.dumps({"errorMessage": "endpoint churn-prod is Failed: boom", "errorType": "EndpointUpdateFailed",
                           "requestId": "5b8c7f0e", "stackTrace": ['  File "/var/task/handler.py", line 12\n'] * 3})


def test_a_lambda_errors_cause_reads_as_its_message() -> None:
    # Given the runtime's JSON of a Python function's error / When read / Then only its message is left
    assert cause_message(LAMBDA_CAUSE) == "endpoint churn-prod is Failed: boom"


def test_a_cause_cut_at_step_functions_limit_is_kept_as_it_is() -> None:
    # Given a cause Step Functions truncated (it keeps at most 32,768 characters), which no longer parses
    truncated = LAMBDA_CAUSE[: len(LAMBDA_CAUSE) // 2]
    # When read / Then nothing of it is lost, and reading it does not fail
    assert cause_message(truncated) == truncated


@pytest.mark.parametrize("cause", [
    "the endpoint was still updating",          # a Fail state's or a caller's plain text
    "{not json",                                # malformed
    '{"errorType": "States.Timeout"}',          # JSON without a message
    '["errorMessage", "in a list"]',            # JSON, not an object
    '"errorMessage"',                           # a JSON string
])
def test_any_other_cause_is_kept_as_it_is(cause: str) -> None:
    assert cause_message(cause) == cause


def test_a_message_that_is_not_text_is_shown_as_text() -> None:
    assert cause_message('{"errorMessage": 42}') == "42"


@pytest.mark.parametrize("cause", [None, ""])
def test_no_cause_stays_no_cause(cause: str | None) -> None:
    assert cause_message(cause) == cause


def test_a_restore_message_for_a_huge_snapshot_fits_step_functions_cause_whole() -> None:
    # Given a snapshot whose by-hand calls run far past Step Functions' cause limit (quotes JSON escapes twice)
    from endpoint_updater.core.recovery import by_hand
    snapshot = {"Targets": [{"ResourceId": f"endpoint/churn-prod/variant/V{i}", "MinCapacity": 1, "MaxCapacity": 4,
                             "RoleARN": "arn:aws:iam::111122223333:role/r", "SuspendedState": {}}
                            for i in range(2000)], "Policies": [], "ScheduledActions": [], "Alarms": []}

    # When the restore's message is made, and sent as the Python runtime sends an error (with a long trace)
    message = by_hand("churn-prod", "refused", snapshot)
    cause = json.dumps({"errorMessage": message, "errorType": "ScalingRestoreFailed", "requestId": "0" * 36,
                        "stackTrace": ['  File "/var/task/endpoint_updater/core/recovery.py", line 65\n' * 2] * 30})

    # Then the whole error fits, so its message can be read back, and the message says where the rest is
    assert len(cause) <= 32768
    assert json.loads(cause)["errorMessage"] == message
    assert message.endswith("(cut; the whole snapshot is in this update's record in the table)")
