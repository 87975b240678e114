"""Resolving a callback wait: the await function's own look and SageMaker's events, with the updates table,
DescribeEndpoint and Step Functions replaced by fakes (no AWS at all)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from botocore.exceptions import ClientError

from endpoint_updater.core import completion, endpoint, store
from endpoint_updater.core.errors import LockLost

EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:endpoint-updater:run-1"
NEW, OLD = "churn-prod-new", "churn-prod-old"
CHANGED_AT = dt.datetime(2026, 1, 1, 12, 0, 0, tzinfo=dt.UTC)
CHECK = {"EndpointName": "churn-prod", "ExpectedConfigName": NEW, "Deadline": "2999-01-01T00:00:00+00:00",
         "PollIntervalSeconds": 28, "SafetyIntervalSeconds": 300, "Completion": "events", "ExecutionId": EXECUTION}


@dataclass
class Fakes:
    """The updates table's Waiting attribute, DescribeEndpoint's answer and what Step Functions was sent."""

    waiting: store.Waiting | None = None
    holder: str | None = EXECUTION
    status: str = "Updating"
    config: str = OLD
    reason: str | None = None
    sent: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    refuse_with: str | None = None
    describes: int = 0

    # store
    def store_waiting(self, waiting: store.Waiting) -> None:
        if self.holder != waiting.execution_arn:
            raise LockLost("not the holder")
        self.waiting = waiting

    def read_waiting(self, name: str) -> store.Waiting | None:
        return self.waiting if self.waiting and self.waiting.endpoint == name else None

    def claim_waiting(self, waiting: store.Waiting) -> bool:
        if self.waiting is None or self.waiting.task_token != waiting.task_token:
            return False
        self.waiting = None
        return True

    def unclaim_waiting(self, waiting: store.Waiting) -> None:
        if self.waiting is None:
            self.waiting = waiting

    # SageMaker
    def describe_endpoint(self, name: str) -> dict[str, Any]:
        self.describes += 1
        described = {"EndpointName": name, "EndpointStatus": self.status, "EndpointConfigName": self.config,
                     "LastModifiedTime": CHANGED_AT, "ProductionVariants": []}
        if self.reason:
            described["FailureReason"] = self.reason
        return described

    # Step Functions
    def _send(self, operation: str, **params: Any) -> None:
        if self.refuse_with:
            raise ClientError({"Error": {"Code": self.refuse_with, "Message": "refused"}}, operation)
        self.sent.append((operation, params))

    def send_task_success(self, **params: Any) -> None:
        self._send("SendTaskSuccess", **params)

    def send_task_failure(self, **params: Any) -> None:
        self._send("SendTaskFailure", **params)


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch) -> Fakes:
    faked = Fakes()
    for name in ("store_waiting", "read_waiting", "claim_waiting", "unclaim_waiting"):
        monkeypatch.setattr(store, name, getattr(faked, name))
    monkeypatch.setattr(endpoint, "describe_endpoint", faked.describe_endpoint)
    monkeypatch.setattr(completion, "client", lambda service: faked)
    monkeypatch.setattr(completion.clock, "now", lambda: CHANGED_AT + dt.timedelta(seconds=2))
    return faked


def event(name: str = "churn-prod", status: str = "IN_SERVICE") -> dict[str, Any]:
    return {"source": "aws.sagemaker", "detail-type": "SageMaker Endpoint State Change",
            "detail": {"EndpointName": name, "EndpointStatus": status, "EndpointConfigName": NEW}}


def delays(text: str) -> list[tuple[str, float]]:
    """The detection delays published (EMF lines on stdout): (Path, seconds)."""
    found = []
    for line in text.splitlines():
        if line.startswith("{") and completion.DETECTION_DELAY_METRIC in line:
            document = json.loads(line)
            assert document["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service", "Path"]]
            value = document[completion.DETECTION_DELAY_METRIC]
            found.append((document["Path"], float(value[0] if isinstance(value, list) else value)))
    return found


def test_await_stores_the_token_before_it_looks_and_waits_while_the_endpoint_is_busy(fakes: Fakes) -> None:
    # Given an update still in progress
    # When the callback wait's function runs
    answer = completion.await_endpoint("token-1", "Update", CHECK, EXECUTION)
    # Then the token is stored with what to check, and nothing is sent: the wait goes on
    assert fakes.waiting is not None and fakes.waiting.task_token == "token-1"
    assert (fakes.waiting.phase, fakes.waiting.check) == ("Update", CHECK)
    assert fakes.describes == 1 and fakes.sent == []
    assert answer["Resumed"] is False and "Updating" in answer["Reason"]


def test_await_finds_an_update_that_ended_before_its_token_was_stored(fakes: Fakes, capsys: Any) -> None:
    # Given an update that ended before the wait began (its event found no token)
    fakes.status, fakes.config = "InService", NEW
    # When the wait's function looks
    completion.await_endpoint("token-1", "Update", CHECK, EXECUTION)
    # Then it claims the token and sends the check's result, as CheckEndpoint would return it
    assert fakes.waiting is None
    [(operation, params)] = fakes.sent
    assert operation == "SendTaskSuccess" and params["taskToken"] == "token-1"
    output = json.loads(params["output"])
    assert output["Done"] is True and output["EndpointConfigName"] == NEW and output["WaitSeconds"] == 0
    assert delays(capsys.readouterr().out) == [("await", 2.0)]


def test_await_of_an_execution_that_lost_its_lock_stores_nothing(fakes: Fakes) -> None:
    fakes.holder = "arn:aws:states:us-east-1:123456789012:execution:endpoint-updater:other"
    with pytest.raises(LockLost):
        completion.await_endpoint("token-1", "Update", CHECK, EXECUTION)
    assert fakes.waiting is None and fakes.describes == 0


def test_an_unknown_phase_is_refused(fakes: Fakes) -> None:
    with pytest.raises(ValueError, match="Update, Capacity"):
        completion.await_endpoint("token-1", "Deploy", CHECK, EXECUTION)


def test_an_event_resumes_the_wait_with_the_check_result(fakes: Fakes, capsys: Any) -> None:
    # Given a wait in progress, and then the update ends
    completion.await_endpoint("token-1", "Update", CHECK, EXECUTION)
    fakes.status, fakes.config = "InService", NEW
    # When SageMaker's event arrives
    answer = completion.resume(event())
    # Then DescribeEndpoint confirmed it and the execution is resumed once
    assert answer == {"Resumed": True, "Outcome": "succeeded", "Path": "event"}
    assert [operation for operation, _ in fakes.sent] == ["SendTaskSuccess"]
    assert delays(capsys.readouterr().out) == [("event", 2.0)]


def test_a_duplicate_event_sends_nothing_more(fakes: Fakes) -> None:
    completion.await_endpoint("token-1", "Update", CHECK, EXECUTION)
    fakes.status, fakes.config = "InService", NEW
    completion.resume(event())
    # When the same event comes again
    answer = completion.resume(event())
    # Then nothing is sent: the wait was resumed and its token removed
    assert answer["Resumed"] is False and len(fakes.sent) == 1


def test_an_event_that_is_only_a_hint_is_confirmed_by_describe_endpoint(fakes: Fakes) -> None:
    # Given an event saying IN_SERVICE while DescribeEndpoint still says Updating (out of order, or late)
    completion.await_endpoint("token-1", "Update", CHECK, EXECUTION)
    # Then nothing is sent and the token stays for the next event or the safety net
    assert completion.resume(event(status="IN_SERVICE"))["Resumed"] is False
    assert fakes.sent == [] and fakes.waiting is not None


def test_an_event_for_another_endpoint_changes_nothing(fakes: Fakes) -> None:
    completion.await_endpoint("token-1", "Update", CHECK, EXECUTION)
    fakes.status, fakes.config = "InService", NEW
    answer = completion.resume(event(name="fraud-prod"))
    assert answer["Resumed"] is False and "fraud-prod" in answer["Reason"]
    assert fakes.sent == [] and fakes.waiting is not None


@pytest.mark.parametrize("malformed", [{}, {"detail": None}, {"detail": {"EndpointName": 3}}])
def test_an_event_without_an_endpoint_name_changes_nothing(fakes: Fakes, malformed: dict[str, Any]) -> None:
    assert completion.resume(malformed)["Resumed"] is False and fakes.describes == 0


def test_a_silent_rollback_is_sent_as_the_check_error_with_the_runtime_cause(fakes: Fakes, capsys: Any) -> None:
    # Given the update rolled back: InService on the old config, no FailureReason
    completion.await_endpoint("token-1", "Update", CHECK, EXECUTION)
    fakes.status = "InService"
    completion.resume(event())
    # Then the failure carries the check's error name and a cause the state machine reads as a function's error
    [(operation, params)] = fakes.sent
    assert operation == "SendTaskFailure" and params["error"] == "EndpointUpdateRolledBack"
    cause = json.loads(params["cause"])
    assert cause["errorType"] == "EndpointUpdateRolledBack"
    assert cause["errorMessage"] == (f"endpoint churn-prod is InService on {OLD}, not on {NEW}: the update was "
                                     "rolled back (no FailureReason given)")
    assert delays(capsys.readouterr().out) == [("event", 2.0)]


@pytest.mark.parametrize(("status", "error"), [("Failed", "EndpointUpdateFailed"),
                                               ("UpdateRollbackFailed", "EndpointUpdateRollbackFailed")])
def test_a_failed_update_is_sent_as_the_check_error(fakes: Fakes, status: str, error: str) -> None:
    completion.await_endpoint("token-1", "Update", CHECK, EXECUTION)
    fakes.status, fakes.reason = status, "health check failed"
    completion.resume(event(status=status.upper()))
    assert [(op, p["error"]) for op, p in fakes.sent] == [("SendTaskFailure", error)]
    assert "health check failed" in json.loads(fakes.sent[0][1]["cause"])["errorMessage"]


def test_the_deadline_passed_is_sent_as_a_timeout_without_a_detection_delay(fakes: Fakes, capsys: Any) -> None:
    completion.await_endpoint("token-1", "Update", {**CHECK, "Deadline": "2000-01-01T00:00:00+00:00"}, EXECUTION)
    assert [(op, p["error"]) for op, p in fakes.sent] == [("SendTaskFailure", "EndpointUpdateTimedOut")]
    assert delays(capsys.readouterr().out) == []


@pytest.mark.parametrize("code", ["TaskTimedOut", "InvalidToken", "TaskDoesNotExist"])
def test_a_stale_token_is_ignored(fakes: Fakes, code: str) -> None:
    # Given a wait whose token Step Functions no longer waits for (it timed out; the safety net went on)
    completion.await_endpoint("token-1", "Update", CHECK, EXECUTION)
    fakes.status, fakes.config, fakes.refuse_with = "InService", NEW, code
    # Then the refusal is not an error of the event's function
    answer = completion.resume(event())
    assert answer["Resumed"] is False and code in answer["Reason"]


def test_a_send_that_fails_otherwise_puts_the_wait_back_for_a_retry(fakes: Fakes) -> None:
    completion.await_endpoint("token-1", "Update", CHECK, EXECUTION)
    fakes.status, fakes.config, fakes.refuse_with = "InService", NEW, "ThrottlingException"
    with pytest.raises(ClientError):
        completion.resume(event())
    # The event's redelivery finds the wait again
    assert fakes.waiting is not None and fakes.waiting.task_token == "token-1"
    fakes.refuse_with = None
    assert completion.resume(event())["Resumed"] is True


def test_a_newer_wait_overwrites_a_stale_token(fakes: Fakes) -> None:
    # Given a wait that timed out (its token left behind) and the next wait, after a safety-net poll
    completion.await_endpoint("token-1", "Update", CHECK, EXECUTION)
    completion.await_endpoint("token-2", "Update", CHECK, EXECUTION)
    fakes.status, fakes.config = "InService", NEW
    completion.resume(event())
    # Then the event resumes the current wait
    assert [p["taskToken"] for _, p in fakes.sent] == ["token-2"]


def test_a_concurrent_claim_sends_once(fakes: Fakes) -> None:
    # Given the event and the await function's own look both find the update done
    completion.await_endpoint("token-1", "Update", CHECK, EXECUTION)
    waiting = fakes.waiting
    assert waiting is not None
    fakes.status, fakes.config = "InService", NEW
    first = completion.resolve(waiting, completion.PATH_EVENT)
    second = completion.resolve(replace(waiting), completion.PATH_AWAIT)
    assert (first["Resumed"], second["Resumed"]) == (True, False) and len(fakes.sent) == 1


def test_the_safety_net_poll_and_the_polling_loop_publish_their_path(fakes: Fakes, capsys: Any) -> None:
    fakes.status, fakes.config = "InService", NEW
    assert completion.poll(CHECK)["Done"] is True
    assert completion.poll({**CHECK, "Completion": "polling"})["Done"] is True
    fakes.status = "Updating"
    result = completion.poll(CHECK)
    assert delays(capsys.readouterr().out) == [("safety-net", 2.0), ("polling", 2.0)]
    # And a busy poll gives the next wait for either path
    assert result["Done"] is False and result["WaitSeconds"] == 28 and result["EventWaitSeconds"] == 300


def test_the_next_event_wait_is_cut_short_at_the_deadline_and_lasts_at_least_a_second() -> None:
    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=40)).isoformat()
    assert 39 <= endpoint.seconds_to_wait_for_event(soon, 300) <= 40
    assert endpoint.seconds_to_wait_for_event("2000-01-01T00:00:00+00:00", 300) == 1


def test_the_event_rule_matches_the_endpoints_this_deployment_may_touch() -> None:
    from endpoint_updater.names import endpoint_event_pattern

    pattern = endpoint_event_pattern(["churn-*", "fraud-prod", "a?b**c"])
    assert pattern["source"] == ["aws.sagemaker"]
    assert pattern["detail-type"] == ["SageMaker Endpoint State Change", "SageMaker Endpoint Deployment State Change"]
    # EventBridge's wildcard knows `*` only: `?` widens to `*`, never narrows
    assert pattern["detail"] == {"EndpointName": [{"wildcard": "churn-*"}, "fraud-prod", {"wildcard": "a*b*c"}]}
