"""The tables the loader writes: per dataset a staging table and a reporting table; the load
ledger and the merge ledger."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from functions.catalog import LEDGER_TABLE, MERGE_LEDGER_TABLE, Column, Dataset
from functions.loader.dialects import Dialect

# Per row: where in the file it came from.
SOURCE_LINE = Column("_source_line", "integer", nullable=False)
# Per load: the same value on every row of a file, bound once per statement where the dialect can.
LOAD_ID = Column("_load_id", "string", nullable=False, max_length=36)
# s3://bucket/key (at most 5 + 63 + 1 + 1024 characters) or a local path.
SOURCE_OBJECT = Column("_source_object", "string", nullable=False, max_length=2048)
LOADED_AT = Column("_loaded_at", "timestamp", nullable=False)
LOAD_CONSTANTS = (LOAD_ID, SOURCE_OBJECT, LOADED_AT)

# DynamoDB sequence numbers are strings of up to 40 digits: more than a bigint holds.
SEQUENCE_NUMBER = Column("_sequence_number", "string", nullable=False, max_length=40)
# INSERT, MODIFY or REMOVE.
EVENT_NAME = Column("_event_name", "string", nullable=False, max_length=6)
# Stream datasets keep the change's metadata next to the item's columns.
STREAM_COLUMNS = (
    EVENT_NAME,
    SEQUENCE_NUMBER,
    Column("_approximate_creation_time", "timestamp", nullable=False),
)

LEDGER_COLUMNS = (
    # sha256 of bucket, key and version: the three together exceed SQL Server's 900-byte key.
    Column("ledger_key", "string", nullable=False, max_length=64),
    Column("bucket", "string", nullable=False, max_length=255),
    Column("object_key", "string", nullable=False, max_length=1024),
    Column("object_version", "string", nullable=False, max_length=1024),
    Column("dataset", "string", nullable=False, max_length=127),
    Column("load_id", "string", nullable=False, max_length=36),
    Column("row_count", "integer"),
    Column("loaded_at", "timestamp", nullable=False),
)

# Which loads each dataset's reporting table holds: a load is merged once.
MERGE_LEDGER_COLUMNS = (
    Column("dataset", "string", nullable=False, max_length=127),
    Column("load_id", "string", nullable=False, max_length=36),
    # The merge that took the load: its statements select their loads' rows by it (merge_sql.py).
    Column("merge_id", "string", nullable=False, max_length=36),
    Column("merged_at", "timestamp", nullable=False),
)

# A reporting row's version, as its order key (below) orders it.
ORDER_KEY = "_order_key"
# A tombstone: the key's latest change is a REMOVE. Kept so that an older change arriving late
# cannot bring the row back; its non-key columns are NULL.
DELETED = Column("_deleted", "boolean", nullable=False)
MERGED_AT = Column("_merged_at", "timestamp", nullable=False)


@dataclass(frozen=True)
class StagingTable:
    """A dataset's staging table: its values columns, then the per-row line, then constants.

    `unique_columns` identify one change of a change stream: the item's keys and the change's
    sequence number. Streams deliver a change at least once, so the table holds a change once
    and its inserts skip the copies; other tables take every row (empty `unique_columns`).
    """

    name: str
    value_columns: tuple[Column, ...]
    unique_columns: tuple[str, ...] = ()

    @classmethod
    def of(cls, dataset: Dataset) -> StagingTable:
        """The staging table of `dataset`."""
        if not dataset.is_change_stream:
            return cls(name=dataset.table, value_columns=dataset.columns)
        return cls(
            name=dataset.table,
            value_columns=(*dataset.columns, *STREAM_COLUMNS),
            unique_columns=(*dataset.keys, SEQUENCE_NUMBER.name),
        )

    @property
    def skips_duplicates(self) -> bool:
        """Whether inserts skip rows that repeat `unique_columns` instead of failing."""
        return bool(self.unique_columns)

    @property
    def row_columns(self) -> tuple[Column, ...]:
        """The columns whose values differ from row to row."""
        return (*self.value_columns, SOURCE_LINE)

    @property
    def columns(self) -> tuple[Column, ...]:
        """Every column, in table order."""
        return (*self.row_columns, *LOAD_CONSTANTS)


@dataclass(frozen=True)
class ReportingTable:
    """A dataset's reporting table: its declared columns, one row per key, then the version's
    metadata (`_order_key`, `_deleted`, `_load_id`, `_merged_at`).

    `order_source` is the staging column that orders a key's versions: the sequence number of a
    change stream, else the watermark, else `_loaded_at` (the later load wins).
    """

    name: str
    value_columns: tuple[Column, ...]
    keys: tuple[str, ...]
    order_source: Column
    # Only change streams delete (REMOVE): other datasets never have tombstones.
    has_deletes: bool

    @classmethod
    def of(cls, dataset: Dataset) -> ReportingTable:
        """The reporting table of `dataset`."""
        if dataset.is_change_stream:
            order_source = SEQUENCE_NUMBER
        elif dataset.watermark is not None:
            order_source = next(c for c in dataset.columns if c.name == dataset.watermark)
        else:
            order_source = LOADED_AT
        return cls(
            name=dataset.reporting_table,
            value_columns=dataset.columns,
            keys=dataset.keys,
            order_source=order_source,
            has_deletes=dataset.is_change_stream,
        )

    @property
    def order_key(self) -> Column:
        """`_order_key`, of its source's type."""
        source = self.order_source
        return Column(ORDER_KEY, source.type, nullable=False, max_length=source.max_length)

    @property
    def columns(self) -> tuple[Column, ...]:
        """Every column, in table order."""
        return (*self.value_columns, self.order_key, DELETED, LOAD_ID, MERGED_AT)


def schema_statements(dialect: Dialect, datasets: Iterable[Dataset]) -> list[str]:
    """The DDL that creates the ledgers, and the staging and reporting tables of `datasets`, if
    absent."""
    statements = [
        dialect.create_table(LEDGER_TABLE, LEDGER_COLUMNS, primary_key=["ledger_key"]),
        dialect.create_table(
            MERGE_LEDGER_TABLE, MERGE_LEDGER_COLUMNS, primary_key=["dataset", "load_id"]
        ),
    ]
    for dataset in datasets:
        staging = StagingTable.of(dataset)
        reporting = ReportingTable.of(dataset)
        statements += [
            dialect.create_table(staging.name, staging.columns, unique=staging.unique_columns),
            dialect.create_table(reporting.name, reporting.columns, primary_key=reporting.keys),
        ]
    return statements


def create_schema(connection: Any, dialect: Dialect, datasets: Iterable[Dataset]) -> None:
    """Creates the ledgers, staging and reporting tables that do not exist yet, then commits.

    Not necessarily atomic: SQLite (the sqlite3 module opens no transaction for DDL) commits
    each statement as it runs. Every statement is `IF NOT EXISTS`, so a failure part-way leaves
    whole tables only and running this again completes the schema.
    """
    cursor = connection.cursor()
    try:
        for statement in schema_statements(dialect, datasets):
            cursor.execute(statement)
        connection.commit()
    except BaseException:
        connection.rollback()
        raise
    finally:
        cursor.close()
