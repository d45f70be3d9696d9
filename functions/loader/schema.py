"""The tables the loader writes: one staging table per dataset, and the load ledger."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from functions.catalog import LEDGER_TABLE, Column, Dataset
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
# Stream datasets keep the change's metadata next to the item's columns.
STREAM_COLUMNS = (
    Column("_event_name", "string", nullable=False, max_length=6),
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


def schema_statements(dialect: Dialect, datasets: Iterable[Dataset]) -> list[str]:
    """The DDL that creates the ledger and the staging tables of `datasets` if absent."""
    statements = [dialect.create_table(LEDGER_TABLE, LEDGER_COLUMNS, primary_key=["ledger_key"])]
    for dataset in datasets:
        table = StagingTable.of(dataset)
        statements.append(
            dialect.create_table(table.name, table.columns, unique=table.unique_columns)
        )
    return statements


def create_schema(connection: Any, dialect: Dialect, datasets: Iterable[Dataset]) -> None:
    """Creates the ledger and staging tables that do not exist yet, then commits.

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
