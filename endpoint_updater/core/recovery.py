"""Restoring an endpoint's scaling from its stored snapshot: verified, retried, idempotent.

Used by the workflow's last step, by the recovery function (an execution stopped or timed out, where no
Catch runs) and by the break-glass command. Each ends the same way: the record says what happened, and
the lock is released.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from typing import Any

from endpoint_updater.core import scaling, store
from endpoint_updater.core.aws import translated_errors
from endpoint_updater.core.errors import AwsRequestFailed, ScalingRestoreFailed
from endpoint_updater.core.observability import logger
from endpoint_updater.names import RESTORE_BACKOFF_ENV

RESTORE_ATTEMPTS = 3
# Seconds before the second attempt, doubled before each later one (the local runner shortens it).
BACKOFF_ENV = RESTORE_BACKOFF_ENV
CAUSE_LIMIT = 30000  # Step Functions keeps at most 32,768 characters of a cause.


def restore_verified(endpoint: str, snapshot: dict[str, Any],
                     sleep: Callable[[float], None] = time.sleep) -> scaling.Restored:
    """Restore, read back, compare; again while the read-back differs or AWS refuses a call. Raises
    ScalingRestoreFailed with the snapshot and the AWS calls that restore it by hand when it still differs
    after the last attempt. Throttling and transient faults leave as AwsTransientError, for the caller's
    retry with backoff."""
    problems: list[str] = []
    changes: list[str] = []
    for attempt in range(RESTORE_ATTEMPTS):
        if attempt:
            sleep(float(os.environ.get(BACKOFF_ENV, "2")) * 2 ** (attempt - 1))
        try:
            with translated_errors():
                result = scaling.restore(endpoint, snapshot)
                changes += result.changes
                # A restore that changed nothing has just read the live state: no need to read it again.
                problems = scaling.differences(endpoint, snapshot, result.policy_arns,
                                               None if result.changes else result.live)
        except AwsRequestFailed as error:
            problems = [str(error)]
        if not problems:
            result.changes = changes
            return result
        logger.warning("scaling not restored yet", extra={"endpoint": endpoint, "attempt": attempt + 1,
                                                          "problems": problems})
    raise ScalingRestoreFailed(by_hand(endpoint, "; ".join(problems), snapshot))


def by_hand(endpoint: str, reason: str, snapshot: dict[str, Any]) -> str:
    calls = "\n".join(scaling.manual_calls(snapshot))
    text = (f"the scaling of endpoint {endpoint} could not be restored after {RESTORE_ATTEMPTS} attempts: {reason}. "
            f"Retry with: endpoint-updater restore --endpoint {endpoint}. Or restore it by hand with these AWS "
            f"calls, in order:\n{calls}\nSnapshot: {json.dumps(snapshot, separators=(',', ':'))}")
    if len(text) > CAUSE_LIMIT:
        text = text[:CAUSE_LIMIT - 120] + "... (cut; the whole snapshot is in this update's record in the table)"
    return text


def restore_and_release(endpoint: str, execution_arn: str, outcome: str, detail: str | None = None, *,
                        fence: bool = False) -> scaling.Restored:
    """Restore the scaling `execution_arn` captured, record `outcome`, release the lock.

    With `fence` (the execution ended without its own restore: stopped or timed out), the lock's holder is
    cleared first, so a step of that execution still running stops before its next change. The unrestored
    mark is cleared only once the restore is verified.
    """
    if fence:
        store.release(endpoint, execution_arn, restored=False)
    snapshot = store.snapshot(endpoint, execution_arn)
    try:
        restored = restore_verified(endpoint, snapshot)
    except ScalingRestoreFailed as error:
        store.finish(endpoint, execution_arn, outcome, str(error)[:1000], restored=False)
        raise
    store.finish(endpoint, execution_arn, outcome, detail, restored=True)
    logger.info("scaling restored", extra={"endpoint": endpoint, "changes": restored.changes,
                                           "scaling": scaling.counts(snapshot)})
    return restored
