"""The end-of-update message: one readable notification per execution that ends, whatever its outcome.

Sent on "Step Functions Execution Status Change" (SUCCEEDED, FAILED, TIMED_OUT, ABORTED) for the state
machine. The message is built from the event and the update's record.
"""

from __future__ import annotations

import json
import os
from typing import Any

from endpoint_updater.core import store
from endpoint_updater.core.aws import client
from endpoint_updater.core.errors import UpdateRecordNotFound, cause_message
from endpoint_updater.core.request import endpoint_named_in
from endpoint_updater.names import REQUESTED_BY, REQUESTER, TOPIC_ENV

SUBJECT_LIMIT = 100  # SNS Publish: at most 100 characters
REASON_LIMIT = 1500
OUTCOMES = {"SUCCEEDED": "succeeded", "FAILED": "failed", "TIMED_OUT": "timed out", "ABORTED": "was stopped"}


def send(detail: dict[str, Any], region: str | None) -> dict[str, Any]:
    """Publish the message about the execution of `detail` (the event's) to the notification topic."""
    subject, message = compose(detail, region or os.environ.get("AWS_REGION", "us-east-1"))
    client("sns").publish(TopicArn=os.environ[TOPIC_ENV], Subject=subject, Message=message)
    return {"Subject": subject}


def compose(detail: dict[str, Any], region: str) -> tuple[str, str]:
    arn, status = detail["executionArn"], detail["status"]
    endpoint = endpoint_named_in(detail.get("input")) or "?"
    record = _record(endpoint, arn)
    output = _json_object(detail.get("output"))
    old = output.get("PreviousConfigName") or record.get("PreviousConfigName") or "?"
    new = output.get("NewConfigName") or record.get("NewConfigName") or "?"
    lines = [f"Endpoint: {endpoint}"]
    requester = requested_by(detail.get("input"))
    if requester:
        lines.append(f"Requested by: {requester}")
    lines += [f"Config: {old} -> {new}", f"Outcome: update {OUTCOMES.get(status, status)}"]
    if status != "SUCCEEDED":
        error = detail.get("error") or status
        lines.append(f"Reason: {error}: {_reason(detail)}")
        scaling = record.get("Phase")
        if scaling:
            lines.append(f"Scaling: {scaling} (the recovery function restores the scaling of a stopped or timed-out "
                         "update)" if scaling != "ScalingRestored" else "Scaling: restored as before the update")
    else:
        lines.append("Scaling: restored as before the update")
    lines.append(f"Execution: {console_link(arn, region)}")
    subject = f"endpoint-updater: {endpoint} update {OUTCOMES.get(status, status)}"
    return subject[:SUBJECT_LIMIT], "\n".join(lines)


def requested_by(raw_input: Any) -> str | None:
    """Who asked for the update, from the execution input's Requester (its JSON text, or parsed; None when it
    has none): what the sender wrote, then the account and source EventBridge delivered the event with."""
    parsed = _json_object(raw_input) if isinstance(raw_input, str) else raw_input
    requester = parsed.get(REQUESTER) if isinstance(parsed, dict) else None
    if not isinstance(requester, dict):
        return None
    facts = [f"{label} {requester[key]}" for key, label in (("Account", "account"), ("Source", "source"),
                                                             ("EventId", "event")) if requester.get(key)]
    asked = requester.get(REQUESTED_BY)
    if asked:
        return f"{asked} ({', '.join(facts)})" if facts else str(asked)
    return ", ".join(facts) or None


def console_link(execution_arn: str, region: str) -> str:
    return f"https://{region}.console.aws.amazon.com/states/home?region={region}#/v2/executions/details/{execution_arn}"


def _reason(detail: dict[str, Any]) -> str:
    text = cause_message(detail.get("cause") or "no cause given")
    return text if len(text) <= REASON_LIMIT else text[:REASON_LIMIT] + "... (the full cause is in the execution)"


def _record(endpoint: str, execution_arn: str) -> dict[str, Any]:
    try:
        return store.read_update(endpoint, execution_arn)
    except UpdateRecordNotFound:  # refused before the lock was taken
        return {}


def _json_object(text: Any) -> dict[str, Any]:
    if not isinstance(text, str):
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
