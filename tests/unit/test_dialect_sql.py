"""The SQL each dialect generates, pinned: SQL Server cannot run here, so this is its proof."""

from __future__ import annotations

import datetime as dt
import threading
from types import SimpleNamespace
from typing import Any

import pyodbc
import pytest

from functions.catalog import parse_platform
from functions.loader.dialects import DIALECTS, UnnestInsertWriter
from functions.loader.load import BATCH_ROWS
from functions.loader.schema import LOAD_CONSTANTS, StagingTable, schema_statements

(DATASET,) = parse_platform(
    {
        "platform": "science",
        "datasets": [
            {
                "name": "results",
                "source": "sqlserver science.dbo.Results",
                "table": "science_results",
                "keys": ["result_id"],
                "columns": [
                    {"name": "result_id", "type": "integer", "nullable": False},
                    {"name": "code", "type": "string", "max_length": 20},
                    {"name": "notes", "type": "string"},
                    {"name": "score", "type": "decimal", "precision": 5, "scale": 2},
                    {"name": "passed", "type": "boolean"},
                    {"name": "taken_on", "type": "date"},
                    {"name": "submitted_at", "type": "timestamp"},
                ],
            }
        ],
    },
    source="test",
)
TABLE = StagingTable.of(DATASET)
CONSTANTS = ("load-1", "s3://landing/incoming/science/results/r.csv", dt.datetime(2026, 11, 26))


class RecordingCursor:
    """Records what a batch writer asks of its cursor."""

    def __init__(self, fail_on_call: int | None = None) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.fast_executemany = False
        self.connection = SimpleNamespace(maxwrite=0)
        self.fail_on_call = fail_on_call

    def execute(self, statement: str, parameters: list) -> None:
        if len(self.calls) == self.fail_on_call:
            raise pyodbc.DataError("22003", "refused")
        self.calls.append(("execute", (statement, parameters)))

    def executemany(self, statement: str, rows: list) -> None:
        self.calls.append(("executemany", (statement, rows, self.fast_executemany)))

    def setinputsizes(self, sizes: list) -> None:
        self.calls.append(("setinputsizes", sizes))


class HeldCursor(RecordingCursor):
    """Holds each statement until the test releases it, counting the statements running."""

    def __init__(self, fail_on_call: int | None = None) -> None:
        super().__init__(fail_on_call)
        self.released = threading.Semaphore(0)
        self.attempts = 0
        self.running = 0
        self.most_running = 0

    def execute(self, statement: str, parameters: list) -> None:
        self.attempts += 1
        self.running += 1
        self.most_running = max(self.most_running, self.running)
        try:
            assert self.released.acquire(timeout=10)
            super().execute(statement, parameters)
        finally:
            self.running -= 1


def columns_of(rows: int) -> list[list[object]]:
    """A columnar batch of `rows` rows: value columns then the line number."""
    row_values = [
        (n, f"C{n}", None, "1.50", True, dt.date(2026, 1, 1), dt.datetime(2026, 1, 1), n + 1)
        for n in range(rows)
    ]
    return [list(column) for column in zip(*row_values, strict=True)]


def test_sql_server_ddl() -> None:
    ledger, staging = schema_statements(DIALECTS["mssql"], [DATASET])

    assert ledger.startswith(
        "IF OBJECT_ID(N'load_ledger', N'U') IS NULL CREATE TABLE [load_ledger] "
        "([ledger_key] nvarchar(64) NOT NULL, [bucket] nvarchar(255) NOT NULL,"
    )
    assert ledger.endswith("[loaded_at] datetime2(6) NOT NULL, PRIMARY KEY ([ledger_key]))")
    assert staging == (
        "IF OBJECT_ID(N'science_results', N'U') IS NULL CREATE TABLE [science_results] ("
        "[result_id] bigint NOT NULL, [code] nvarchar(20), [notes] nvarchar(max), "
        "[score] decimal(5,2), [passed] bit, [taken_on] date, [submitted_at] datetime2(6), "
        "[_source_line] bigint NOT NULL, [_load_id] nvarchar(36) NOT NULL, "
        "[_source_object] nvarchar(2048) NOT NULL, [_loaded_at] datetime2(6) NOT NULL)"
    )


def test_postgresql_and_sqlite_ddl() -> None:
    _, postgresql = schema_statements(DIALECTS["postgresql"], [DATASET])
    _, sqlite = schema_statements(DIALECTS["sqlite"], [DATASET])

    assert postgresql == (
        'CREATE TABLE IF NOT EXISTS "science_results" ("result_id" bigint NOT NULL, '
        '"code" varchar(20), "notes" text, "score" numeric(5,2), "passed" boolean, '
        '"taken_on" date, "submitted_at" timestamp(6), "_source_line" bigint NOT NULL, '
        '"_load_id" varchar(36) NOT NULL, "_source_object" varchar(2048) NOT NULL, '
        '"_loaded_at" timestamp(6) NOT NULL)'
    )
    assert sqlite == (
        'CREATE TABLE IF NOT EXISTS "science_results" ("result_id" INTEGER NOT NULL, '
        '"code" TEXT, "notes" TEXT, "score" TEXT, "passed" INTEGER, "taken_on" TEXT, '
        '"submitted_at" TEXT, "_source_line" INTEGER NOT NULL, "_load_id" TEXT NOT NULL, '
        '"_source_object" TEXT NOT NULL, "_loaded_at" TEXT NOT NULL)'
    )


@pytest.mark.parametrize(
    ("dialect", "identifier", "quoted"),
    [("mssql", "a]b", "[a]]b]"), ("postgresql", 'a"b', '"a""b"'), ("sqlite", 'a"b', '"a""b"')],
)
def test_identifiers_are_quoted_with_their_quotes_doubled(dialect, identifier, quoted) -> None:
    assert DIALECTS[dialect].quote(identifier) == quoted


def test_sql_server_inserts_with_fast_executemany_in_bounded_chunks() -> None:
    cursor = RecordingCursor()
    writer = DIALECTS["mssql"].batch_writer(
        cursor, TABLE.name, TABLE.row_columns, LOAD_CONSTANTS, CONSTANTS
    )

    with writer:
        writer.write(columns_of(2500))

    statement = (
        "INSERT INTO [science_results] ([result_id], [code], [notes], [score], [passed], "
        "[taken_on], [submitted_at], [_source_line], [_load_id], [_source_object], [_loaded_at]) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )
    sizes = [
        (pyodbc.SQL_BIGINT, 0, 0),
        (pyodbc.SQL_WVARCHAR, 20, 0),
        (pyodbc.SQL_WVARCHAR, 0, 0),
        (pyodbc.SQL_DECIMAL, 5, 2),
        (pyodbc.SQL_BIT, 0, 0),
        (pyodbc.SQL_TYPE_DATE, 0, 0),
        (pyodbc.SQL_TYPE_TIMESTAMP, 26, 6),
        (pyodbc.SQL_BIGINT, 0, 0),
        (pyodbc.SQL_WVARCHAR, 36, 0),
        (pyodbc.SQL_WVARCHAR, 2048, 0),
        (pyodbc.SQL_TYPE_TIMESTAMP, 26, 6),
    ]
    assert [name for name, _ in cursor.calls] == ["setinputsizes", "executemany"] * 3
    assert all(arguments == sizes for name, arguments in cursor.calls if name == "setinputsizes")
    chunks = [arguments for name, arguments in cursor.calls if name == "executemany"]
    assert [(sql, len(rows), fast) for sql, rows, fast in chunks] == [
        (statement, 1000, True),
        (statement, 1000, True),
        (statement, 500, True),
    ]
    assert chunks[2][1][-1] == (
        2499,
        "C2499",
        None,
        "1.50",
        True,
        dt.date(2026, 1, 1),
        dt.datetime(2026, 1, 1),
        2500,
        *CONSTANTS,
    )


def test_sql_server_counts_string_length_in_utf16_units() -> None:
    assert DIALECTS["mssql"].text_length("a😀") == 3
    assert DIALECTS["postgresql"].text_length("a😀") == 2


def test_postgresql_binds_one_array_literal_per_column_and_statement() -> None:
    cursor = RecordingCursor()
    writer = DIALECTS["postgresql"].batch_writer(
        cursor, TABLE.name, TABLE.row_columns, LOAD_CONSTANTS, CONSTANTS
    )
    columns = columns_of(3)
    columns[1][1] = 'say "hi", \\ {NULL}'
    columns[2][1] = "NULL"
    columns[3][2] = "-0.01"
    columns[4][0] = None
    columns[6][1] = dt.datetime(2026, 11, 26, 10, 0, 0, 123456)

    with writer:
        writer.write(columns)

    assert cursor.calls == [
        (
            "execute",
            (
                'INSERT INTO "science_results" ("result_id", "code", "notes", "score", "passed", '
                '"taken_on", "submitted_at", "_source_line", "_load_id", "_source_object", '
                '"_loaded_at") SELECT unnest(CAST(? AS bigint[])), unnest(CAST(? AS text[])), '
                "unnest(CAST(? AS text[])), unnest(CAST(? AS numeric[])), "
                "unnest(CAST(? AS boolean[])), unnest(CAST(? AS date[])), "
                "unnest(CAST(? AS timestamp[])), unnest(CAST(? AS bigint[])), "
                "CAST(? AS varchar(36)), CAST(? AS varchar(2048)), CAST(? AS timestamp(6))",
                [
                    "{0,1,2}",
                    '{"C0","say \\"hi\\", \\\\ {NULL}","C2"}',
                    '{NULL,"NULL",NULL}',
                    "{1.50,1.50,-0.01}",
                    "{NULL,True,True}",
                    "{2026-01-01,2026-01-01,2026-01-01}",
                    "{2026-01-01T00:00:00,2026-11-26T10:00:00.123456,2026-01-01T00:00:00}",
                    "{1,2,3}",
                    *CONSTANTS,
                ],
            ),
        )
    ]
    assert cursor.connection.maxwrite == 1 << 30


def test_postgresql_splits_a_batch_into_statements_of_bounded_rows() -> None:
    cursor = RecordingCursor()
    writer = DIALECTS["postgresql"].batch_writer(
        cursor, TABLE.name, TABLE.row_columns, LOAD_CONSTANTS, CONSTANTS
    )

    with writer:
        writer.write(columns_of(12000))

    parameters = [arguments[1] for _, arguments in cursor.calls]
    assert len(parameters) == 3
    first_ids = [int(p[0][1:].split(",", 1)[0]) for p in parameters]
    counts = [p[0].count(",") + 1 for p in parameters]
    assert (first_ids, counts) == ([0, 5000, 10000], [5000, 5000, 2000])
    assert all(len(p) == 8 + 3 and p[-3:] == list(CONSTANTS) for p in parameters)


def test_a_loader_batch_is_one_postgresql_statement() -> None:
    # One statement per loader batch, sent while the loader parses the next one; dialects.py
    # cannot import the loader's constant, so this test keeps the two equal.
    assert UnnestInsertWriter.rows_per_statement == BATCH_ROWS


def test_postgresql_raises_a_failed_statement_and_sends_no_more() -> None:
    cursor = RecordingCursor(fail_on_call=1)
    writer = DIALECTS["postgresql"].batch_writer(
        cursor, TABLE.name, TABLE.row_columns, LOAD_CONSTANTS, CONSTANTS
    )

    with pytest.raises(pyodbc.DataError, match="refused"), writer:
        writer.write(columns_of(12000))

    assert len(cursor.calls) == 1


def test_postgresql_writes_return_while_one_statement_runs_at_a_time() -> None:
    cursor = HeldCursor()
    writer = DIALECTS["postgresql"].batch_writer(
        cursor, TABLE.name, TABLE.row_columns, LOAD_CONSTANTS, CONSTANTS
    )

    with writer:
        # Two batches handed over while the first statement is held: the loader parses on.
        writer.write(columns_of(5000))
        writer.write(columns_of(5000))
        assert cursor.calls == []
        cursor.released.release(4)
        writer.write(columns_of(5000))
        writer.write(columns_of(5000))

    assert len(cursor.calls) == 4
    assert cursor.most_running == 1


def test_postgresql_sends_nothing_after_a_failed_statement() -> None:
    cursor = HeldCursor(fail_on_call=1)
    cursor.released.release(10)
    writer = DIALECTS["postgresql"].batch_writer(
        cursor, TABLE.name, TABLE.row_columns, LOAD_CONSTANTS, CONSTANTS
    )

    with pytest.raises(pyodbc.DataError, match="refused"), writer:
        for _ in range(10):
            writer.write(columns_of(5000))

    assert (len(cursor.calls), cursor.attempts, cursor.most_running) == (1, 2, 1)


def test_sqlite_binds_decimals_dates_and_timestamps_as_text() -> None:
    sqlite = DIALECTS["sqlite"]
    converters = {column.name: sqlite.converter(column) for column in TABLE.value_columns}

    assert converters["score"]("+001.5") == "1.50"
    assert converters["taken_on"]("2026-01-02") == "2026-01-02"
    assert converters["submitted_at"]("2026-01-02T03:04:05Z") == "2026-01-02 03:04:05.000000"
