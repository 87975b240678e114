"""The endpoint's lock, as the steps consult it: one check for "still mine, else LockLost"."""

from __future__ import annotations

import pytest

from endpoint_updater.core import store
from endpoint_updater.core.errors import LockLost

MINE = "arn:aws:states:us-east-1:123456789012:execution:endpoint-updater:mine"
OTHER = "arn:aws:states:us-east-1:123456789012:execution:endpoint-updater:other"


@pytest.fixture
def lock(monkeypatch: pytest.MonkeyPatch) -> list[store.Lock]:
    """The lock record `store.read_lock` answers with; a test sets it."""
    current = [store.Lock("churn-prod", holder=MINE, unrestored=MINE)]
    monkeypatch.setattr(store, "read_lock", lambda endpoint: current[0])
    return current


def test_the_holder_may_go_on(lock: list[store.Lock]) -> None:
    # Given the lock held by this execution / When checked / Then nothing is raised
    store.ensure_holder("churn-prod", MINE, "nothing changed")


@pytest.mark.parametrize("holder", [None, OTHER])
def test_a_lock_taken_back_stops_the_step(lock: list[store.Lock], holder: str | None) -> None:
    # Given the lock released by a recovery, or taken by another update since
    lock[0] = store.Lock("churn-prod", holder=holder, unrestored=MINE)
    # When checked / Then LockLost names the endpoint and what the step leaves alone
    with pytest.raises(LockLost, match=r"lock of endpoint churn-prod was taken back .*; its capacity is left"):
        store.ensure_holder("churn-prod", MINE, "its capacity is left as it is")


@pytest.mark.parametrize(("holder", "unrestored", "owed"), [
    (MINE, MINE, True),      # running
    (None, MINE, True),      # released after a failed restore, or fenced by the recovery
    (OTHER, None, False),    # another update's
    (None, None, False),     # restored and released
])
def test_a_restore_is_owed_while_the_execution_holds_the_lock_or_left_it_unrestored(
        holder: str | None, unrestored: str | None, owed: bool) -> None:
    assert store.Lock("churn-prod", holder=holder, unrestored=unrestored).restore_owed_by(MINE) is owed
