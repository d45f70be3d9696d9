"""The merge's SQL, per dialect: staging rows into a dataset's reporting table, and the pruning.

Statement texts and their qmark parameters only; `merge.py` runs them. Every identifier comes
from the validated catalog or from this package and is quoted through the dialect; values are
always parameters. PostgreSQL and SQLite share their text (an `INSERT ... ON CONFLICT` upsert)
and differ in the lock; SQL Server updates, then inserts.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from functions.catalog import Column, Dataset
from functions.loader.dialects import Dialect, timestamp_text
from functions.loader.schema import (
    DELETED,
    EVENT_NAME,
    LOAD_ID,
    LOADED_AT,
    MERGE_LEDGER_COLUMNS,
    MERGE_LEDGER_TABLE,
    MERGED_AT,
    ORDER_KEY,
    SOURCE_LINE,
    ReportingTable,
    StagingTable,
)

# A key's versions numbered from the latest: the merge takes number 1.
VERSION_RANK = "_version_rank"
# How long a merge or prune waits for the dataset's merge lock: well above a merge's usual
# seconds, well below the loader function's timeout, so a lock never released fails the merge
# (the next load's merge catches up) instead of hanging every merge of the dataset.
MERGE_LOCK_TIMEOUT_SECONDS = 60
LEDGER_COLUMN = {column.name: column for column in MERGE_LEDGER_COLUMNS}


@dataclass(frozen=True)
class Statement:
    """One statement's text and the values of its `?` markers, in order."""

    text: str
    parameters: tuple[object, ...] = ()


class MergeSQL(ABC):
    """The statements of one dataset's merge and prune; the base class writes PostgreSQL's and
    SQLite's (`lock` aside)."""

    true = "TRUE"
    false = "FALSE"

    def __init__(
        self,
        dialect: Dialect,
        dataset: Dataset,
        lock_timeout_seconds: int = MERGE_LOCK_TIMEOUT_SECONDS,
    ) -> None:
        self.dialect = dialect
        self.lock_timeout_seconds = lock_timeout_seconds
        self.dataset = dataset.qualified_name
        self.staging = StagingTable.of(dataset)
        self.reporting = ReportingTable.of(dataset)

    @abstractmethod
    def lock(self) -> list[Statement]:
        """Takes the dataset's merge lock, held until the transaction ends (or `unlock`): one
        merge or prune of a dataset at a time, so two never write the same rows in another
        order, nor record the same load. Fails when not granted within the lock timeout."""

    def unlock(self) -> Statement | None:
        """Releases a lock that outlives the transaction, where `lock` takes one."""
        return None

    def record_loads(self, merge_id: str, merged_at: datetime) -> Statement:
        """Records every load of the staging table not merged yet as merged by `merge_id`.

        Recorded first, and the upsert then takes the rows of the loads recorded: a load that
        commits in between is neither merged nor recorded, and the next merge takes it.
        """
        q = self.dialect.quote
        ledger = q(MERGE_LEDGER_TABLE)
        text = (
            f"INSERT INTO {ledger} ({q('dataset')}, {q('load_id')}, {q('merge_id')}, "
            f"{q('merged_at')}) "
            f"SELECT DISTINCT {self._parameter(LEDGER_COLUMN['dataset'])}, s.{q(LOAD_ID.name)}, "
            f"{self._parameter(LEDGER_COLUMN['merge_id'])}, {self._timestamp_parameter()} "
            f"FROM {q(self.staging.name)} AS s WHERE NOT EXISTS (SELECT 1 FROM {ledger} AS m "
            f"WHERE m.{q('dataset')} = ? AND m.{q('load_id')} = s.{q(LOAD_ID.name)})"
        )
        return Statement(text, (self.dataset, merge_id, timestamp_text(merged_at), self.dataset))

    def count_recorded(self, merge_id: str) -> Statement:
        """How many loads `record_loads` recorded."""
        q = self.dialect.quote
        text = (
            f"SELECT COUNT(*) FROM {q(MERGE_LEDGER_TABLE)} "
            f"WHERE {q('dataset')} = ? AND {q('merge_id')} = ?"
        )
        return Statement(text, (self.dataset, merge_id))

    def upsert(self, merge_id: str, merged_at: datetime) -> list[Statement]:
        """Writes each key's latest recorded version unless the stored one is newer.

        `<=`: an equal order key is the same version again, and rewriting it changes nothing
        but its `_load_id` and `_merged_at`.
        """
        q = self.dialect.quote
        table = q(self.reporting.name)
        columns = self._column_list()
        updates = ", ".join(f"{q(name)} = excluded.{q(name)}" for name in self._updated_names())
        text = (
            f"INSERT INTO {table} ({columns}) "
            f"SELECT {self._latest_values()}, {self._timestamp_parameter()} "
            f"FROM ({self._ranked_versions()}) AS latest WHERE latest.{q(VERSION_RANK)} = 1 "
            # The WHERE above also settles SQLite's parsing ambiguity of ON after a SELECT.
            f"ON CONFLICT ({self._key_list()}) DO UPDATE SET {updates} "
            f"WHERE {table}.{q(ORDER_KEY)} <= excluded.{q(ORDER_KEY)}"
        )
        return [Statement(text, (timestamp_text(merged_at), self.dataset, merge_id))]

    def count_written(self, merge_id: str) -> Statement:
        """Reporting rows written by the merge, by `_deleted`: those holding a version of one of
        its loads (a load is merged once, so only this merge wrote them)."""
        q = self.dialect.quote
        text = (
            f"SELECT t.{q(DELETED.name)}, COUNT(*) FROM {q(self.reporting.name)} AS t "
            f"JOIN {q(MERGE_LEDGER_TABLE)} AS m ON m.{q('load_id')} = t.{q(LOAD_ID.name)} "
            f"WHERE m.{q('dataset')} = ? AND m.{q('merge_id')} = ? GROUP BY t.{q(DELETED.name)}"
        )
        return Statement(text, (self.dataset, merge_id))

    def prune(self, cutoff: datetime) -> list[Statement]:
        """Deletes the staging rows of merged loads loaded before `cutoff`, the ledger rows of
        loads left without staging rows, and tombstones merged before `cutoff`."""
        q = self.dialect.quote
        staging = q(self.staging.name)
        ledger = q(MERGE_LEDGER_TABLE)
        load_id = q(LOAD_ID.name)
        before = timestamp_text(cutoff)
        statements = [
            Statement(
                f"DELETE FROM {staging} WHERE {q(LOADED_AT.name)} < {self._timestamp_parameter()} "
                f"AND {load_id} IN (SELECT {q('load_id')} FROM {ledger} WHERE {q('dataset')} = ?)",
                (before, self.dataset),
            ),
            Statement(
                f"DELETE FROM {ledger} WHERE {q('dataset')} = ? AND NOT EXISTS "
                f"(SELECT 1 FROM {staging} AS s WHERE s.{load_id} = {ledger}.{q('load_id')})",
                (self.dataset,),
            ),
        ]
        if self.reporting.has_deletes:
            statements.append(
                Statement(
                    f"DELETE FROM {q(self.reporting.name)} WHERE {q(DELETED.name)} = {self.true} "
                    f"AND {q(MERGED_AT.name)} < {self._timestamp_parameter()}",
                    (before,),
                )
            )
        return statements

    def _ranked_versions(self) -> str:
        """The staging rows of the merge's loads, each numbered among its key's versions from
        the latest: by order key, then the later load, then the later line. Parameters: the
        dataset and the merge id."""
        q = self.dialect.quote
        reporting = self.reporting
        keys = [f"s.{q(key)}" for key in reporting.keys]
        latest_first = ", ".join(
            f"s.{q(name)} DESC"
            for name in dict.fromkeys(
                [reporting.order_source.name, LOADED_AT.name, SOURCE_LINE.name]
            )
        )
        if reporting.has_deletes:
            removed = f"s.{q(EVENT_NAME.name)} = 'REMOVE'"
            values = [
                f"s.{q(c.name)}"
                if c.name in reporting.keys
                else f"CASE WHEN {removed} THEN NULL ELSE s.{q(c.name)} END AS {q(c.name)}"
                for c in reporting.value_columns
            ]
            deleted = f"CASE WHEN {removed} THEN {self.true} ELSE {self.false} END"
        else:
            values = [f"s.{q(c.name)}" for c in reporting.value_columns]
            deleted = self.false
        return (
            f"SELECT {', '.join(values)}, s.{q(reporting.order_source.name)} AS {q(ORDER_KEY)}, "
            f"{deleted} AS {q(DELETED.name)}, s.{q(LOAD_ID.name)}, "
            f"ROW_NUMBER() OVER (PARTITION BY {', '.join(keys)} ORDER BY {latest_first}) "
            f"AS {q(VERSION_RANK)} "
            f"FROM {q(self.staging.name)} AS s JOIN {q(MERGE_LEDGER_TABLE)} AS m "
            f"ON m.{q('load_id')} = s.{q(LOAD_ID.name)} "
            f"WHERE m.{q('dataset')} = ? AND m.{q('merge_id')} = ?"
        )

    def _latest_values(self) -> str:
        """The columns `latest` gives the reporting table, `_merged_at` aside."""
        names = [c.name for c in self.reporting.columns if c.name != MERGED_AT.name]
        return ", ".join(f"latest.{self.dialect.quote(name)}" for name in names)

    def _updated_names(self) -> list[str]:
        """What a newer version overwrites: every column but the keys."""
        return [c.name for c in self.reporting.columns if c.name not in self.reporting.keys]

    def _column_list(self) -> str:
        return self._names(c.name for c in self.reporting.columns)

    def _key_list(self) -> str:
        return self._names(self.reporting.keys)

    def _names(self, names: Iterable[str]) -> str:
        return ", ".join(self.dialect.quote(name) for name in names)

    def _parameter(self, column: Column) -> str:
        # Typed: PostgreSQL cannot infer a parameter's type in a SELECT list.
        return f"CAST(? AS {self.dialect.column_type(column)})"

    def _timestamp_parameter(self) -> str:
        """A timestamp bound as `timestamp_text`: ISO text, which each dialect's cast reads
        exactly, whatever the driver's default binding of a datetime (pyodbc's can keep
        milliseconds only on SQL Server)."""
        return self._parameter(MERGED_AT)


class SQLiteMergeSQL(MergeSQL):
    def lock(self) -> list[Statement]:
        # SQLite has one writer at a time: its write lock is the merge lock. Taken at BEGIN, it
        # waits out a busy database; taken at the first write after reads, it can fail at once.
        # The wait is the connection's busy timeout, set here to the merge's lock timeout.
        return [
            Statement(f"PRAGMA busy_timeout = {self.lock_timeout_seconds * 1000}"),
            Statement("BEGIN IMMEDIATE"),
        ]


class PostgreSQLMergeSQL(MergeSQL):
    def lock(self) -> list[Statement]:
        # LOCAL: the timeout ends with the transaction, and bounds its later lock waits too.
        # The mode that conflicts with itself and with writers, not with readers: reports read on.
        table = self.dialect.quote(self.reporting.name)
        return [
            Statement(f"SET LOCAL lock_timeout = '{self.lock_timeout_seconds}s'"),
            Statement(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE"),
        ]


class SQLServerMergeSQL(MergeSQL):
    """No MERGE: without HOLDLOCK two of them can both find a key missing and one then fails on
    the primary key, and it has a record of wrong results and assertion errors (filtered
    indexes, indexed views, triggers). An UPDATE of the stored keys, then an INSERT of the
    others, both holding their key-range locks to the end of the transaction."""

    true = "CAST(1 AS bit)"
    false = "CAST(0 AS bit)"

    def lock(self) -> list[Statement]:
        # An application lock: readers of the reporting table go on. Owned by the session, as
        # a lock owned by the transaction needs one open, and the ODBC driver's implicit
        # transactions start at the first SELECT, INSERT, UPDATE or DELETE, not at an EXEC.
        # The catalog allows only [a-z0-9_/] in the name: the literal needs no escaping.
        # sp_getapplock returns -1 on timeout, -2 cancelled, -3 deadlock victim, -999 error.
        seconds = self.lock_timeout_seconds
        return [
            Statement(
                "DECLARE @granted int; "
                f"EXEC @granted = sp_getapplock @Resource = {self._lock_resource()}, "
                "@LockMode = 'Exclusive', @LockOwner = 'Session', "
                f"@LockTimeout = {seconds * 1000}; "
                "IF @granted < 0 "
                f"THROW 51000, 'the merge lock was not granted within {seconds} s', 1;"
            )
        ]

    def unlock(self) -> Statement:
        return Statement(
            f"EXEC sp_releaseapplock @Resource = {self._lock_resource()}, @LockOwner = 'Session'"
        )

    def _lock_resource(self) -> str:
        return f"N'merge:{self.dataset}'"

    def upsert(self, merge_id: str, merged_at: datetime) -> list[Statement]:
        q = self.dialect.quote
        table = q(self.reporting.name)
        latest = f"WITH latest AS ({self._ranked_versions()}) "
        same_key = " AND ".join(f"t.{q(key)} = latest.{q(key)}" for key in self.reporting.keys)
        merged = self._timestamp_parameter()
        updates = ", ".join(
            f"{q(name)} = {merged}" if name == MERGED_AT.name else f"{q(name)} = latest.{q(name)}"
            for name in self._updated_names()
        )
        update = (
            f"{latest}UPDATE t SET {updates} "
            f"FROM {table} AS t WITH (UPDLOCK, HOLDLOCK) JOIN latest ON {same_key} "
            f"AND latest.{q(VERSION_RANK)} = 1 "
            f"WHERE t.{q(ORDER_KEY)} <= latest.{q(ORDER_KEY)}"
        )
        insert = (
            f"{latest}INSERT INTO {table} ({self._column_list()}) "
            f"SELECT {self._latest_values()}, {merged} FROM latest "
            f"WHERE latest.{q(VERSION_RANK)} = 1 AND NOT EXISTS "
            f"(SELECT 1 FROM {table} AS t WITH (UPDLOCK, HOLDLOCK) WHERE {same_key})"
        )
        parameters = (self.dataset, merge_id, timestamp_text(merged_at))
        return [Statement(update, parameters), Statement(insert, parameters)]


MERGE_SQL: dict[str, type[MergeSQL]] = {
    "sqlite": SQLiteMergeSQL,
    "postgresql": PostgreSQLMergeSQL,
    "mssql": SQLServerMergeSQL,
}


def merge_sql(
    dialect: Dialect, dataset: Dataset, lock_timeout_seconds: int = MERGE_LOCK_TIMEOUT_SECONDS
) -> MergeSQL:
    """The merge statements of `dataset` in `dialect`."""
    return MERGE_SQL[dialect.name](dialect, dataset, lock_timeout_seconds)
