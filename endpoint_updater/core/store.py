"""The updates table: one lock record per endpoint, and one record per update.

- The lock record (`Record` = "lock") says which execution may change the endpoint (`Holder`) and which
  update's scaling has not been restored yet (`Unrestored`). It is taken with one conditional transaction
  that also writes the update record, so an update never changes anything without its snapshot stored.
- The update record (`Record` = "update#<execution name>") holds the scaling snapshot, the configs, the
  progress (phase and history) and the outcome. It is kept as an audit trail: it expires (`ExpiresAt`,
  the table's TTL attribute) `RECORD_RETENTION_DAYS` after its scaling was restored, never before.

Releasing the lock clears `Holder`. `Unrestored` is cleared only once the restore is verified, so a
release after a failed restore still stops the next update from snapshotting a deregistered endpoint.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from endpoint_updater.core import clock
from endpoint_updater.core.aws import client, error_code
from endpoint_updater.core.errors import (
    EndpointUpdateInProgress,
    InvalidInput,
    LockLost,
    ScalingRestorePending,
    UpdateRecordNotFound,
)
from endpoint_updater.names import DEFAULT_RECORD_RETENTION_DAYS, RETENTION_ENV, RUNNING, TABLE_ENV

PARTITION_KEY = "EndpointName"
SORT_KEY = "Record"
TTL_ATTRIBUTE = "ExpiresAt"
LOCK = "lock"
# DynamoDB's item limit is 400 KB; the rest of the record stays well under the margin kept here.
SNAPSHOT_LIMIT_BYTES = 350 * 1024
# What `check_free` is told of a holder that DescribeExecution does not know (ExecutionDoesNotExist): for
# example an execution of a state machine since deleted and deployed again. It is not running.
GONE = "GONE"


def table_name() -> str:
    name = os.environ.get(TABLE_ENV)
    if not name:
        raise RuntimeError(f"{TABLE_ENV} is not set: the function needs the name of the updates table")
    return name


def update_key(endpoint: str, execution_arn: str) -> dict[str, Any]:
    return {PARTITION_KEY: {"S": endpoint}, SORT_KEY: {"S": f"update#{execution_name(execution_arn)}"}}


def lock_key(endpoint: str) -> dict[str, Any]:
    return {PARTITION_KEY: {"S": endpoint}, SORT_KEY: {"S": LOCK}}


def execution_name(execution_arn: str) -> str:
    return execution_arn.rsplit(":", 1)[-1]


def _now() -> str:
    return clock.now().isoformat(timespec="seconds")


def _expires_at() -> str:
    days = int(os.environ.get(RETENTION_ENV, DEFAULT_RECORD_RETENTION_DAYS))
    return str(int((clock.now() + dt.timedelta(days=days)).timestamp()))


@dataclass(frozen=True)
class Lock:
    endpoint: str
    holder: str | None
    unrestored: str | None
    """The execution ARN whose scaling snapshot has not been restored yet."""
    last: str | None = None
    """The execution ARN of the endpoint's last update."""

    def restore_owed_by(self, execution_arn: str) -> bool:
        """Whether `execution_arn` holds the lock or has not restored the scaling it deregistered yet."""
        return execution_arn in (self.holder, self.unrestored)


def read_lock(endpoint: str) -> Lock:
    item = client("dynamodb").get_item(TableName=table_name(), Key=lock_key(endpoint), ConsistentRead=True)
    attributes = item.get("Item") or {}
    return Lock(endpoint, *((attributes.get(name) or {}).get("S") for name in ("Holder", "Unrestored", "LastUpdate")))


def ensure_holder(endpoint: str, execution_arn: str, left_alone: str) -> None:
    """Raise LockLost unless `execution_arn` still holds the endpoint's lock: once a stop's recovery or a
    forced break-glass restore has taken it back, a step still running must change nothing more.
    `left_alone` says what the step leaves unchanged, for the message."""
    holder = read_lock(endpoint).holder
    if holder != execution_arn:
        raise LockLost(f"the lock of endpoint {endpoint} was taken back from execution {execution_arn}; {left_alone}")


def execution_status(execution_arn: str) -> str:
    """The execution's status (DescribeExecution), or GONE when Step Functions no longer knows it."""
    try:
        return str(client("stepfunctions").describe_execution(executionArn=execution_arn)["status"])
    except ClientError as error:
        if error_code(error) == "ExecutionDoesNotExist":
            return GONE
        raise


def check_free(endpoint: str, execution_arn: str) -> str | None:
    """Fail fast when the endpoint is busy. Returns the ARN of a holder that is no longer running (its lock
    may be taken over), or None."""
    lock = read_lock(endpoint)
    if lock.unrestored and lock.unrestored != execution_arn and lock.unrestored != lock.holder:
        raise ScalingRestorePending(_pending_message(endpoint, lock.unrestored))
    if lock.holder is None or lock.holder == execution_arn:
        return None
    status = execution_status(lock.holder)
    if status == RUNNING:
        raise EndpointUpdateInProgress(f"endpoint {endpoint} is being updated by execution {lock.holder}; "
                                       "start this update again when that one has finished")
    if lock.unrestored == lock.holder:
        raise ScalingRestorePending(_pending_message(endpoint, lock.unrestored, status))
    return lock.holder


def _pending_message(endpoint: str, execution_arn: str, status: str | None = None) -> str:
    ended = " no longer exists and" if status == GONE else f" ended {status} and" if status else ""
    return (f"the scaling of endpoint {endpoint} was deregistered by execution {execution_arn}, which{ended} has "
            f"not restored it; restore it first: endpoint-updater restore --endpoint {endpoint}")


def acquire(endpoint: str, execution_arn: str, stale_holder: str | None, record: dict[str, Any],
            snapshot: dict[str, Any]) -> None:
    """Take the lock and store the update record with its snapshot, in one transaction.

    The lock is free, held by this execution already (a retried call), or held by `stale_holder`, an
    execution that is no longer running and whose scaling was restored.
    """
    body = json.dumps(snapshot, separators=(",", ":"), sort_keys=True)
    if len(body.encode()) > SNAPSHOT_LIMIT_BYTES:
        raise InvalidInput(f"the scaling snapshot of endpoint {endpoint} is {len(body.encode()) // 1024} KB, over "
                           f"the {SNAPSHOT_LIMIT_BYTES // 1024} KB a record can hold; nothing was changed")
    now = _now()
    # Parenthesised: AND binds tighter than OR in a condition expression, and the check on Unrestored added
    # below must hold whoever holds the lock (a free lock whose Unrestored names another execution included).
    condition = "(attribute_not_exists(Holder) OR Holder = :me)"
    values: dict[str, Any] = {":me": {"S": execution_arn}, ":now": {"S": now}}
    if stale_holder is not None:
        condition = "(attribute_not_exists(Holder) OR Holder = :me OR Holder = :stale)"
        values[":stale"] = {"S": stale_holder}
    condition += " AND (attribute_not_exists(Unrestored) OR Unrestored = :me)"
    item = {
        **update_key(endpoint, execution_arn),
        "ExecutionArn": {"S": execution_arn},
        "StartedAt": {"S": now},
        "Phase": {"S": "Locked"},
        "History": {"L": [_event("Locked", now)]},
        "Snapshot": {"S": body},
        **{key: {"S": str(value)} for key, value in record.items()},
    }
    try:
        client("dynamodb").transact_write_items(TransactItems=[
            {"Update": {
                "TableName": table_name(), "Key": lock_key(endpoint),
                "UpdateExpression": "SET Holder = :me, Unrestored = :me, LockedAt = :now, LastUpdate = :me "
                                    "REMOVE " + TTL_ATTRIBUTE,
                "ConditionExpression": condition, "ExpressionAttributeValues": values,
            }},
            {"Put": {
                "TableName": table_name(), "Item": item,
                "ConditionExpression": "attribute_not_exists(#k) OR ExecutionArn = :me",
                "ExpressionAttributeNames": {"#k": SORT_KEY},
                "ExpressionAttributeValues": {":me": {"S": execution_arn}},
            }},
        ])
    except ClientError as error:
        if error_code(error) != "TransactionCanceledException":
            raise
        lock = read_lock(endpoint)
        if lock.holder not in (None, execution_arn):
            raise EndpointUpdateInProgress(f"endpoint {endpoint} is being updated by execution {lock.holder}; "
                                           "start this update again when that one has finished") from error
        raise ScalingRestorePending(_pending_message(endpoint, lock.unrestored or "?")) from error


def _event(phase: str, at: str, detail: str | None = None) -> dict[str, Any]:
    entry = {"Phase": {"S": phase}, "At": {"S": at}}
    if detail:
        entry["Detail"] = {"S": detail[:2000]}
    return {"M": entry}


def progress(endpoint: str, execution_arn: str, phase: str, detail: str | None = None) -> None:
    """Record that the update reached `phase`."""
    now = _now()
    client("dynamodb").update_item(
        TableName=table_name(), Key=update_key(endpoint, execution_arn),
        UpdateExpression="SET Phase = :phase, UpdatedAt = :now, History = list_append(History, :event)",
        ConditionExpression="attribute_exists(ExecutionArn)",
        ExpressionAttributeValues={":phase": {"S": phase}, ":now": {"S": now}, ":event": {"L": [_event(phase, now,
                                                                                                        detail)]}})


def read_update(endpoint: str, execution_arn: str) -> dict[str, Any]:
    """The update record as plain strings, with `Snapshot` parsed."""
    item = client("dynamodb").get_item(TableName=table_name(), Key=update_key(endpoint, execution_arn),
                                       ConsistentRead=True).get("Item")
    if item is None:
        raise UpdateRecordNotFound(f"no update record for endpoint {endpoint} and execution {execution_arn}")
    record: dict[str, Any] = {key: value["S"] for key, value in item.items() if "S" in value}
    record.update({key: int(value["N"]) for key, value in item.items() if "N" in value})
    record["Snapshot"] = json.loads(record["Snapshot"])
    record["History"] = [{k: v["S"] for k, v in event["M"].items()} for event in item.get("History", {}).get("L", [])]
    return record


def snapshot(endpoint: str, execution_arn: str) -> dict[str, Any]:
    snap: dict[str, Any] = read_update(endpoint, execution_arn)["Snapshot"]
    return snap


def finish(endpoint: str, execution_arn: str, outcome: str, detail: str | None = None, *, restored: bool) -> None:
    """Record the outcome and release the lock, if this execution holds it.

    When `restored`, the scaling was verified equal to the snapshot: the record may expire and the lock no
    longer blocks the next update. Otherwise the lock is released but stays marked unrestored.
    """
    now = _now()
    phase = "ScalingRestored" if restored else "ScalingRestoreFailed"
    expression = "SET Phase = :phase, Outcome = :outcome, FinishedAt = :now, UpdatedAt = :now, " \
                 "History = list_append(History, :event)"
    values: dict[str, Any] = {":phase": {"S": phase}, ":outcome": {"S": outcome}, ":now": {"S": now},
                              ":event": {"L": [_event(phase, now, f"{outcome}: {detail}" if detail else outcome)]}}
    if restored:
        expression += f", {TTL_ATTRIBUTE} = :expires, ScalingRestoredAt = :now"
        values[":expires"] = {"N": _expires_at()}
    if detail:
        expression += ", Reason = :reason"
        values[":reason"] = {"S": detail[:4000]}
    client("dynamodb").update_item(TableName=table_name(), Key=update_key(endpoint, execution_arn),
                                   UpdateExpression=expression, ExpressionAttributeValues=values)
    release(endpoint, execution_arn, restored=restored)


def release(endpoint: str, execution_arn: str, *, restored: bool) -> bool:
    """Clear the lock's holder (and, when `restored`, its unrestored mark) if they name this execution.

    Returns False when the lock was not this execution's: nothing is changed then.
    """
    dynamodb = client("dynamodb")
    released = _conditional_update(dynamodb, endpoint, "REMOVE Holder SET ReleasedAt = :now", "Holder = :me",
                                   execution_arn)
    if restored:
        released = _conditional_update(dynamodb, endpoint, "REMOVE Unrestored SET RestoredAt = :now",
                                       "Unrestored = :me", execution_arn) or released
    return released


def _conditional_update(dynamodb: Any, endpoint: str, expression: str, condition: str, execution_arn: str) -> bool:
    try:
        dynamodb.update_item(TableName=table_name(), Key=lock_key(endpoint), UpdateExpression=expression,
                             ConditionExpression=condition,
                             ExpressionAttributeValues={":me": {"S": execution_arn}, ":now": {"S": _now()}})
    except ClientError as error:
        if error_code(error) != "ConditionalCheckFailedException":
            raise
        return False
    return True


# -- waiting for SageMaker's event (Completion "events") ------------------------------------------------------
# The update record's `Waiting` attribute: the task token of the callback wait in progress and what to check
# when an event comes (`Phase`, `Check`: the check's parameters, `Since`: when the wait began). A map, so that
# claiming it can be conditional on its TaskToken.
WAITING = "Waiting"


@dataclass(frozen=True)
class Waiting:
    endpoint: str
    execution_arn: str
    task_token: str
    phase: str
    check: dict[str, Any]
    since: str


def _waiting_item(waiting: Waiting) -> dict[str, Any]:
    return {"M": {"TaskToken": {"S": waiting.task_token}, "Phase": {"S": waiting.phase},
                  "Check": {"S": json.dumps(waiting.check, separators=(",", ":"), sort_keys=True)},
                  "Since": {"S": waiting.since}}}


def store_waiting(waiting: Waiting) -> None:
    """Store the wait's task token with the update record, in one transaction with a check that this execution
    still holds the endpoint's lock (LockLost otherwise: a stopped execution waits for nothing). A token left
    by an earlier wait (it timed out, and the safety-net poll found the endpoint still busy) is overwritten."""
    try:
        client("dynamodb").transact_write_items(TransactItems=[
            {"ConditionCheck": {
                "TableName": table_name(), "Key": lock_key(waiting.endpoint),
                "ConditionExpression": "Holder = :me",
                "ExpressionAttributeValues": {":me": {"S": waiting.execution_arn}},
            }},
            {"Update": {
                "TableName": table_name(), "Key": update_key(waiting.endpoint, waiting.execution_arn),
                "UpdateExpression": f"SET {WAITING} = :waiting",
                "ConditionExpression": "ExecutionArn = :me",
                "ExpressionAttributeValues": {":waiting": _waiting_item(waiting), ":me": {"S": waiting.execution_arn}},
            }},
        ])
    except ClientError as error:
        if error_code(error) != "TransactionCanceledException":
            raise
        raise LockLost(f"the lock of endpoint {waiting.endpoint} is not held by execution {waiting.execution_arn}; "
                       "it does not wait for the endpoint's event") from error


def read_waiting(endpoint: str) -> Waiting | None:
    """The wait of the execution that holds the endpoint's lock, if it waits for an event."""
    holder = read_lock(endpoint).holder
    if holder is None:
        return None
    item = client("dynamodb").get_item(TableName=table_name(), Key=update_key(endpoint, holder), ConsistentRead=True,
                                       ProjectionExpression=WAITING).get("Item") or {}
    stored = (item.get(WAITING) or {}).get("M")
    if not stored:
        return None
    return Waiting(endpoint=endpoint, execution_arn=holder, task_token=stored["TaskToken"]["S"],
                   phase=stored["Phase"]["S"], check=json.loads(stored["Check"]["S"]), since=stored["Since"]["S"])


def claim_waiting(waiting: Waiting) -> bool:
    """Remove the wait from the update record if it still holds this token. Only the one caller that removes it
    sends the token's outcome: a duplicate event, or an event racing the await function's own look, finds it
    gone (False)."""
    try:
        client("dynamodb").update_item(
            TableName=table_name(), Key=update_key(waiting.endpoint, waiting.execution_arn),
            UpdateExpression=f"REMOVE {WAITING}", ConditionExpression=f"{WAITING}.TaskToken = :token",
            ExpressionAttributeValues={":token": {"S": waiting.task_token}})
    except ClientError as error:
        if error_code(error) != "ConditionalCheckFailedException":
            raise
        return False
    return True


def unclaim_waiting(waiting: Waiting) -> None:
    """Put a claimed wait back when its outcome could not be sent, unless a newer wait has stored its own token:
    a later event (or the retried delivery of this one) can then send it."""
    try:
        client("dynamodb").update_item(
            TableName=table_name(), Key=update_key(waiting.endpoint, waiting.execution_arn),
            UpdateExpression=f"SET {WAITING} = :waiting",
            ConditionExpression=f"attribute_not_exists({WAITING}) AND ExecutionArn = :me",
            ExpressionAttributeValues={":waiting": _waiting_item(waiting), ":me": {"S": waiting.execution_arn}})
    except ClientError as error:
        if error_code(error) != "ConditionalCheckFailedException":
            raise
