"""Keeps a dataset's reporting table current: merges its staging rows by key, and prunes what no
later merge needs.

A merge takes the loads not merged yet, writes each key's latest version (deletes as
tombstones) unless the stored version is newer, and records the loads as merged; a prune deletes
merged staging rows and tombstones past the dataset's retention. Each is one transaction, holding
the dataset's merge lock (`MergeSQL.lock`), waited for at most `MERGE_LOCK_TIMEOUT_SECONDS`.
Like `load.py`, a plain library on an open `Database`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from functions.catalog import Dataset
from functions.loader.database import Database
from functions.loader.merge_sql import MERGE_LOCK_TIMEOUT_SECONDS, MergeSQL, Statement, merge_sql


class MergeLockError(Exception):
    """The dataset's merge lock was not granted in time, or not released (and the connection
    closed, to end the session holding it)."""


@dataclass(frozen=True)
class MergeResult:
    """What a merge did: loads merged, reporting rows written (tombstones included), and of
    those, tombstones."""

    loads_merged: int
    rows_upserted: int
    tombstones: int

    def as_dict(self) -> dict[str, object]:
        """The result as logged and printed."""
        return {
            "loads_merged": self.loads_merged,
            "rows_upserted": self.rows_upserted,
            "tombstones": self.tombstones,
        }


@dataclass(frozen=True)
class PruneResult:
    """What a prune deleted: staging rows, merge-ledger rows of their loads, tombstones."""

    staging_rows: int
    loads: int
    tombstones: int

    def as_dict(self) -> dict[str, object]:
        """The result as logged and printed."""
        return {
            "staging_rows_pruned": self.staging_rows,
            "loads_pruned": self.loads,
            "tombstones_pruned": self.tombstones,
        }


def merge(
    database: Database,
    dataset: Dataset,
    now: datetime | None = None,
    lock_timeout_seconds: int = MERGE_LOCK_TIMEOUT_SECONDS,
) -> MergeResult:
    """Merges every load of `dataset` not merged yet into its reporting table.

    Idempotent: with no new load it writes nothing. Any error rolls back and propagates (the
    lock's as MergeLockError); the loads stay unmerged for the next merge.
    """
    moment = now or _utc_now()
    statements = merge_sql(database.dialect, dataset, lock_timeout_seconds)
    merge_id = str(uuid.uuid4())
    with _locked_transaction(database, statements) as cursor:
        _execute(cursor, statements.record_loads(merge_id, moment))
        _execute(cursor, statements.count_recorded(merge_id))
        (loads,) = cursor.fetchone()
        if not loads:
            return MergeResult(0, 0, 0)
        for statement in statements.upsert(merge_id, moment):
            _execute(cursor, statement)
        _execute(cursor, statements.count_written(merge_id))
        # SQLite returns the flag as 0 or 1.
        written = {bool(deleted): count for deleted, count in cursor.fetchall()}
    return MergeResult(loads, sum(written.values()), written.get(True, 0))


def prune(
    database: Database,
    dataset: Dataset,
    now: datetime | None = None,
    lock_timeout_seconds: int = MERGE_LOCK_TIMEOUT_SECONDS,
) -> PruneResult:
    """Deletes staging rows of merged loads loaded more than `staging_retention_days` before
    `now`, those loads' merge-ledger rows, and tombstones merged before that: a change older
    than the retention is taken never to arrive."""
    cutoff = (now or _utc_now()) - timedelta(days=dataset.staging_retention_days)
    statements = merge_sql(database.dialect, dataset, lock_timeout_seconds)
    deleted = []
    with _locked_transaction(database, statements) as cursor:
        for statement in statements.prune(cutoff):
            _execute(cursor, statement)
            deleted.append(cursor.rowcount)
    staging_rows, loads, *tombstones = deleted
    return PruneResult(staging_rows, loads, sum(tombstones))


def merge_after_load(
    database: Database, dataset: Dataset, now: datetime | None = None
) -> dict[str, object]:
    """Merges, then prunes, `dataset` after a load committed: what each did, or its error.

    A database or lock error is reported, not raised: the load stays committed, and the next
    merge of the dataset (after its next load, or by hand) takes its rows.
    """
    try:
        merged = merge(database, dataset, now).as_dict()
    except (database.driver.Error, MergeLockError) as error:
        return {"merge": {"error": str(error)}}
    try:
        pruned = prune(database, dataset, now).as_dict()
    except (database.driver.Error, MergeLockError) as error:
        return {"merge": merged, "prune": {"error": str(error)}}
    return {"merge": merged, "prune": pruned}


def merge_failed(outcome: dict[str, Any]) -> bool:
    """Whether a result holding `merge_after_load`'s outcome reports an error."""
    return any("error" in outcome.get(step, {}) for step in ("merge", "prune"))


@contextmanager
def _locked_transaction(database: Database, statements: MergeSQL) -> Iterator[Any]:
    """A cursor in a transaction holding the dataset's merge lock: committed when the block
    ends, rolled back when it raises; the lock released either way."""
    connection = database.connection
    cursor = connection.cursor()
    locked = False
    try:
        try:
            for statement in statements.lock():
                _execute(cursor, statement)
        except database.driver.Error as error:
            raise MergeLockError(
                f"the merge lock of {statements.dataset} was not taken: {error}"
            ) from error
        locked = True
        yield cursor
        connection.commit()
    except BaseException:
        connection.rollback()
        raise
    finally:
        unlock = statements.unlock()
        try:
            if locked and unlock is not None:
                _execute(cursor, unlock)
        except database.driver.Error as error:
            # The session owns the lock, past the transaction, and a kept connection reuses
            # the session: end it, or every other merge of the dataset waits on it. A closed
            # connection fails `ReusedDatabase`'s check, which then opens another.
            with suppress(database.driver.Error):
                cursor.close()
            database.close()
            raise MergeLockError(
                f"the merge lock of {statements.dataset} was not released, so the connection "
                f"was closed: {error}"
            ) from error
        cursor.close()


def _execute(cursor: Any, statement: Statement) -> None:
    cursor.execute(statement.text, statement.parameters)


def _utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
