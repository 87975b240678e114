"""Break-glass: restore one endpoint's scaling from the snapshot stored in the updates table.

    python -m ops.restore_scaling --endpoint NAME [--execution ARN] [--table NAME] [--force]

By default it restores the snapshot of the update that left the endpoint unrestored, or else of the
endpoint's last update; `--execution` picks another. The restore is the workflow's own: it writes only what
differs from the snapshot, reads everything back, records the outcome and releases the lock. It refuses while
an update of the endpoint is running, unless `--force` (then that update loses its lock and stops before its
next change). The table is `--table`, else $UPDATES_TABLE_NAME, else the deployed stack's UpdatesTableName
output. Exit codes: 0 restored, 1 refused or failed, 2 bad arguments.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

LAMBDAS = Path(__file__).resolve().parent.parent / "lambdas"
if str(LAMBDAS) not in sys.path:
    sys.path.insert(0, str(LAMBDAS))

from updater import recovery, store  # noqa: E402
from updater.aws import client, translated_errors  # noqa: E402
from updater.errors import UpdaterError  # noqa: E402

STACK_NAME = "EndpointUpdater"
TABLE_OUTPUT = "UpdatesTableName"


class Refused(Exception):
    """The restore was not attempted; the message says why and what to do."""


def restore_endpoint(endpoint: str, execution_arn: str | None = None, force: bool = False) -> dict[str, Any]:
    with translated_errors():
        lock = store.read_lock(endpoint)
        target = execution_arn or lock.unrestored or lock.last
        if target is None:
            raise Refused(f"no update of endpoint {endpoint} is recorded in table {store.table_name()}")
        if lock.holder is not None and not force and store.execution_status(lock.holder) == store.RUNNING:
            raise Refused(f"execution {lock.holder} is updating endpoint {endpoint}; stop it (its recovery "
                          "restores the scaling) or pass --force")
        if lock.holder is not None and lock.holder != target:
            store.release(endpoint, lock.holder, restored=False)
        restored = recovery.restore_and_release(endpoint, target, "Restored by hand",
                                                "restored with python -m ops.restore_scaling", fence=True)
    return {"EndpointName": endpoint, "Execution": target, "Restored": True, "Changes": restored.changes}


def use_table(table: str | None, cloudformation: Any = None) -> None:
    """Point the restore at the updates table: `table`, else $UPDATES_TABLE_NAME, else the stack's output."""
    if table:
        os.environ[store.TABLE_ENV] = table
    elif not os.environ.get(store.TABLE_ENV):
        os.environ[store.TABLE_ENV] = _table_from_stack(cloudformation or client("cloudformation"))


def _table_from_stack(cloudformation: Any) -> str:
    outputs = cloudformation.describe_stacks(StackName=STACK_NAME)["Stacks"][0].get("Outputs", [])
    for output in outputs:
        if output["OutputKey"] == TABLE_OUTPUT:
            return str(output["OutputValue"])
    raise Refused(f"stack {STACK_NAME} has no output {TABLE_OUTPUT}; pass --table")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.restore_scaling", description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoint", required=True, help="the endpoint whose scaling to restore")
    parser.add_argument("--execution", help="the ARN of the update whose snapshot to restore")
    parser.add_argument("--table", help="the updates table (default: $UPDATES_TABLE_NAME or the stack output)")
    parser.add_argument("--force", action="store_true", help="restore even while an update is running")
    args = parser.parse_args(argv)
    try:
        with translated_errors():
            use_table(args.table)
        report = restore_endpoint(args.endpoint, args.execution, args.force)
    except (Refused, UpdaterError) as error:
        print(f"error: {type(error).__name__}: {str(error).splitlines()[0]}", file=sys.stderr)
        return 1
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
