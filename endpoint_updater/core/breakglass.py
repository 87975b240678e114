"""Break-glass: restore one endpoint's scaling from the snapshot stored in the updates table, by hand.

`endpoint-updater restore` runs this. By default it restores the snapshot of the update that left the endpoint
unrestored, or else of the endpoint's last update; `execution_arn` picks another. The restore is the
workflow's own: it writes only what differs from the snapshot, reads everything back, records the outcome and
releases the lock. It refuses while an update of the endpoint is running, unless `force` (then that update
loses its lock and stops before its next change).

When no restore is pending (no update holds the lock or left it unrestored, and the chosen update's record
says its scaling was restored), the snapshot is older than whatever was changed by hand since: a Min/Max set
by hand, a scheduled action deleted on purpose. Restoring it would silently revert those, so then only the
differences are reported and nothing is changed, unless `force`.
"""

from __future__ import annotations

from typing import Any

from endpoint_updater.core import recovery, scaling, store
from endpoint_updater.core.aws import translated_errors
from endpoint_updater.core.errors import EndpointUpdateInProgress, NothingToRestore


def restore_pending(lock: store.Lock, record: dict[str, Any]) -> bool:
    """Whether the endpoint's scaling may still be deregistered by an update: a lock held or marked
    unrestored, or an update record without a verified restore."""
    return lock.holder is not None or lock.unrestored is not None or "ScalingRestoredAt" not in record


def restore_endpoint(endpoint: str, execution_arn: str | None = None, force: bool = False) -> dict[str, Any]:
    """Restore (or, with nothing pending and without `force`, only compare) the endpoint's scaling.

    The answer says which update's snapshot (`Execution`), whether a restore was pending, whether it
    `Restored`, the `Changes` made, and, when it did not restore, the `Differences` a restore would write
    (scaling.pending_changes)."""
    with translated_errors():
        lock = store.read_lock(endpoint)
        target = execution_arn or lock.unrestored or lock.last
        if target is None:
            raise NothingToRestore(f"no update of endpoint {endpoint} is recorded in table {store.table_name()}")
        if lock.holder is not None and not force and store.execution_status(lock.holder) == store.RUNNING:
            raise EndpointUpdateInProgress(f"execution {lock.holder} is updating endpoint {endpoint}; stop it "
                                           "(its recovery restores the scaling) or pass --force")
        record = store.read_update(endpoint, target)
        pending = restore_pending(lock, record)
        if not pending and not force:
            return {"EndpointName": endpoint, "Execution": target, "RestorePending": False, "Restored": False,
                    "Changes": [], "Differences": scaling.pending_changes(endpoint, record["Snapshot"])}
        if lock.holder is not None and lock.holder != target:
            store.release(endpoint, lock.holder, restored=False)
        restored = recovery.restore_and_release(endpoint, target, "Restored by hand",
                                                "restored with endpoint-updater restore", fence=True,
                                                planned=recovery.planned_scaling(target))
    return {"EndpointName": endpoint, "Execution": target, "RestorePending": pending, "Restored": True,
            "Changes": restored.changes}
