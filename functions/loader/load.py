"""Loads one file into its staging table: one file, one transaction, at most once per version.

This is a plain library: it takes an open `Database` and a byte stream, so the Lambda handler,
the command line and the benchmark all run the same code.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO

from functions.catalog import Dataset
from functions.loader.database import Database
from functions.loader.dialects import Dialect
from functions.loader.errors import RejectedFileError
from functions.loader.formats import RawBatch, open_text, read_batches
from functions.loader.ledger import Ledger
from functions.loader.schema import LOAD_CONSTANTS, SOURCE_OBJECT, StagingTable
from functions.loader.source import SourceObject
from functions.loader.values import Converter, InvalidValueError

# Rows converted before each write: large enough for full multi-row statements, small enough
# that memory stays flat (a few MB) whatever the file's size.
BATCH_ROWS = 5000


@dataclass(frozen=True)
class LoadResult:
    """What a load did: `loaded` its rows, or nothing because the version was `already_loaded`.

    `row_count` is the rows inserted, as the ledger records it. `duplicates_skipped` counts the
    rows of a change-stream file already in its table; None where it is not counted: other
    datasets, and SQL Server (pyodbc reports no count after `executemany`: `row_count` is then
    the file's rows).
    """

    status: str
    load_id: str
    row_count: int
    source: SourceObject
    duplicates_skipped: int | None = None

    def as_dict(self) -> dict[str, object]:
        """The result as logged and returned by the handler."""
        result: dict[str, object] = {
            "status": self.status,
            "load_id": self.load_id,
            "row_count": self.row_count,
            "source": self.source.uri,
            "version": self.source.version,
        }
        if self.duplicates_skipped is not None:
            result["duplicates_skipped"] = self.duplicates_skipped
        return result


def load_stream(
    database: Database,
    dataset: Dataset,
    binary: IO[bytes],
    source: SourceObject,
    loaded_at: datetime | None = None,
) -> LoadResult:
    """Loads `binary` (CSV or JSON Lines, optionally gzip) as a file of `dataset`.

    Raises RejectedFileError for anything wrong with the file, after rolling back; any database
    error propagates, also after rolling back, and leaves no trace.
    """
    moment = loaded_at or datetime.now(UTC).replace(tzinfo=None)
    load_id = str(uuid.uuid4())
    table = StagingTable.of(dataset)
    dialect = database.dialect
    constants = _bound_constants(dialect, load_id, source.uri, moment)
    converters = [dialect.converter(column) for column in table.value_columns]
    ledger = Ledger(database)
    connection = database.connection
    cursor = connection.cursor()
    try:
        if not ledger.claim(cursor, source, dataset, load_id, constants[2]):
            connection.rollback()
            earlier = ledger.lookup(cursor, source)
            connection.rollback()
            earlier_id, earlier_rows = earlier if earlier else ("", 0)
            return LoadResult("already_loaded", earlier_id, earlier_rows or 0, source)
        rows_read = 0
        # A writer may still be sending a batch while the next one is parsed (PostgreSQL):
        # leaving the block waits for it and raises its error, so the ledger update, the commit
        # and the rollback below always find the connection idle.
        with dialect.batch_writer(
            cursor,
            table.name,
            table.row_columns,
            LOAD_CONSTANTS,
            constants,
            skip_duplicates=table.skips_duplicates,
        ) as writer:
            for batch in read_batches(open_text(binary), dataset, source.uri, BATCH_ROWS):
                try:
                    # map() runs the per-value loop in C: a column at a time is the fast way.
                    values = [
                        list(map(convert, raw))
                        for convert, raw in zip(converters, batch.columns, strict=True)
                    ]
                except InvalidValueError:
                    raise _rejection(source.uri, batch, table, converters) from None
                values.append(batch.lines)
                writer.write(values)
                rows_read += len(batch.lines)
        inserted = writer.inserted_rows
        row_count = rows_read if inserted is None else inserted
        ledger.complete(cursor, source, row_count)
        connection.commit()
    except BaseException:
        connection.rollback()
        raise
    finally:
        cursor.close()
    skipped = rows_read - inserted if table.skips_duplicates and inserted is not None else None
    return LoadResult("loaded", load_id, row_count, source, duplicates_skipped=skipped)


def _bound_constants(
    dialect: Dialect, load_id: str, source_uri: str, moment: datetime
) -> tuple[object, ...]:
    """The per-load values (load id, source object, loaded-at) as the dialect binds them."""
    assert SOURCE_OBJECT.max_length is not None
    if dialect.text_length(source_uri) > SOURCE_OBJECT.max_length:
        raise RejectedFileError(
            source_uri,
            f"the object's name is longer than {SOURCE_OBJECT.max_length} characters",
            column=SOURCE_OBJECT.name,
        )
    adapt = dialect.bind_adapter("timestamp")
    return (load_id, source_uri, moment if adapt is None else adapt(moment))


def _rejection(
    source_uri: str, batch: RawBatch, table: StagingTable, converters: Sequence[Converter]
) -> RejectedFileError:
    """Names the first value of the batch, in file order, that does not convert."""
    for row, line in enumerate(batch.lines):
        for column, convert, raw in zip(
            table.value_columns, converters, batch.columns, strict=True
        ):
            try:
                convert(raw[row])
            except InvalidValueError as error:
                return RejectedFileError(
                    source_uri, str(error), line, column.source_field, error.without_value
                )
    raise AssertionError("a value failed to convert once but not twice")
