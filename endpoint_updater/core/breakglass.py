"""Break-glass: restore one endpoint's scaling from the snapshot stored in the updates table, by hand.

`endpoint-updater restore` runs this. By default it restores the snapshot of the update that left the endpoint
unrestored, or else of the endpoint's last update; `execution_arn` picks another. The restore is the
workflow's own: it writes only what differs from the snapshot, reads everything back, records the outcome and
releases the lock. It refuses while an update of the endpoint is running, unless `force` (then that update
loses its lock and stops before its next change).
"""

from __future__ import annotations

from typing import Any

from endpoint_updater.core import recovery, store
from endpoint_updater.core.aws import translated_errors
from endpoint_updater.core.errors import EndpointUpdateInProgress, NothingToRestore


def restore_endpoint(endpoint: str, execution_arn: str | None = None, force: bool = False) -> dict[str, Any]:
    with translated_errors():
        lock = store.read_lock(endpoint)
        target = execution_arn or lock.unrestored or lock.last
        if target is None:
            raise NothingToRestore(f"no update of endpoint {endpoint} is recorded in table {store.table_name()}")
        if lock.holder is not None and not force and store.execution_status(lock.holder) == store.RUNNING:
            raise EndpointUpdateInProgress(f"execution {lock.holder} is updating endpoint {endpoint}; stop it "
                                           "(its recovery restores the scaling) or pass --force")
        if lock.holder is not None and lock.holder != target:
            store.release(endpoint, lock.holder, restored=False)
        restored = recovery.restore_and_release(endpoint, target, "Restored by hand",
                                                "restored with endpoint-updater restore", fence=True,
                                                planned=recovery.planned_scaling(target))
    return {"EndpointName": endpoint, "Execution": target, "Restored": True, "Changes": restored.changes}
