"""The SQL each dialect generates, pinned: SQL Server cannot run here, so this is its proof."""

from __future__ import annotations

import datetime as dt
import threading
from types import SimpleNamespace
from typing import Any

import pyodbc
import pytest

from functions.catalog import parse_platform
from functions.loader.dialects import DIALECTS, UnnestInsertWriter, unique_constraint_name
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

(STREAM,) = parse_platform(
    {
        "platform": "languages",
        "datasets": [
            {
                "name": "progress",
                "source": "dynamodb Progress (stream)",
                "table": "languages_progress",
                "format": "dynamodb-stream",
                "keys": ["learner_id", "lesson_id"],
                "columns": [
                    {"name": "learner_id", "type": "integer", "nullable": False},
                    {"name": "lesson_id", "type": "string", "max_length": 40, "nullable": False},
                    {"name": "xp", "type": "integer"},
                ],
            }
        ],
    },
    source="test",
)
STREAM_TABLE = StagingTable.of(STREAM)


class RecordingCursor:
    """Records what a batch writer asks of its cursor."""

    def __init__(self, fail_on_call: int | None = None) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.fast_executemany = False
        self.connection = SimpleNamespace(maxwrite=0)
        self.fail_on_call = fail_on_call
        # What the next statements report in `rowcount`; -1 (DB-API: not known) after them.
        self.rowcounts: list[int] = []
        self.rowcount = -1

    def execute(self, statement: str, parameters: list) -> None:
        if len(self.calls) == self.fail_on_call:
            raise pyodbc.DataError("22003", "refused")
        self.calls.append(("execute", (statement, parameters)))
        self.rowcount = self.rowcounts.pop(0) if self.rowcounts else -1

    def executemany(self, statement: str, rows: list) -> None:
        self.calls.append(("executemany", (statement, rows, self.fast_executemany)))
        self.rowcount = self.rowcounts.pop(0) if self.rowcounts else -1

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
    ledger, _merge_ledger, staging, _reporting = schema_statements(DIALECTS["mssql"], [DATASET])

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
    _, _, postgresql, _ = schema_statements(DIALECTS["postgresql"], [DATASET])
    _, _, sqlite, _ = schema_statements(DIALECTS["sqlite"], [DATASET])

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


STREAM_COLUMNS_MSSQL = (
    "[learner_id] bigint NOT NULL, [lesson_id] nvarchar(40) NOT NULL, [xp] bigint, "
    "[_event_name] nvarchar(6) NOT NULL, [_sequence_number] nvarchar(40) NOT NULL, "
    "[_approximate_creation_time] datetime2(6) NOT NULL, [_source_line] bigint NOT NULL, "
    "[_load_id] nvarchar(36) NOT NULL, [_source_object] nvarchar(2048) NOT NULL, "
    "[_loaded_at] datetime2(6) NOT NULL"
)


def test_a_change_stream_table_is_unique_on_keys_and_sequence_number() -> None:
    assert STREAM_TABLE.unique_columns == ("learner_id", "lesson_id", "_sequence_number")
    assert STREAM_TABLE.skips_duplicates
    assert (TABLE.unique_columns, TABLE.skips_duplicates) == ((), False)


def test_sql_server_ddl_of_a_change_stream_ignores_duplicate_keys() -> None:
    _, _, staging, _ = schema_statements(DIALECTS["mssql"], [STREAM])

    assert staging == (
        "IF OBJECT_ID(N'languages_progress', N'U') IS NULL CREATE TABLE [languages_progress] ("
        + STREAM_COLUMNS_MSSQL
        + ", CONSTRAINT [_unique_languages_progress] UNIQUE NONCLUSTERED "
        "([learner_id], [lesson_id], [_sequence_number]) WITH (IGNORE_DUP_KEY = ON))"
    )


def test_postgresql_and_sqlite_ddl_of_a_change_stream_has_a_unique_constraint() -> None:
    _, _, postgresql, _ = schema_statements(DIALECTS["postgresql"], [STREAM])
    _, _, sqlite, _ = schema_statements(DIALECTS["sqlite"], [STREAM])

    assert postgresql == (
        'CREATE TABLE IF NOT EXISTS "languages_progress" ("learner_id" bigint NOT NULL, '
        '"lesson_id" varchar(40) NOT NULL, "xp" bigint, "_event_name" varchar(6) NOT NULL, '
        '"_sequence_number" varchar(40) NOT NULL, '
        '"_approximate_creation_time" timestamp(6) NOT NULL, "_source_line" bigint NOT NULL, '
        '"_load_id" varchar(36) NOT NULL, "_source_object" varchar(2048) NOT NULL, '
        '"_loaded_at" timestamp(6) NOT NULL, CONSTRAINT "_unique_languages_progress" '
        'UNIQUE ("learner_id", "lesson_id", "_sequence_number"))'
    )
    assert sqlite == (
        'CREATE TABLE IF NOT EXISTS "languages_progress" ("learner_id" INTEGER NOT NULL, '
        '"lesson_id" TEXT NOT NULL, "xp" INTEGER, "_event_name" TEXT NOT NULL, '
        '"_sequence_number" TEXT NOT NULL, "_approximate_creation_time" TEXT NOT NULL, '
        '"_source_line" INTEGER NOT NULL, "_load_id" TEXT NOT NULL, '
        '"_source_object" TEXT NOT NULL, "_loaded_at" TEXT NOT NULL, '
        'CONSTRAINT "_unique_languages_progress" '
        'UNIQUE ("learner_id", "lesson_id", "_sequence_number"))'
    )


def test_constraint_names_stay_within_postgresql_63_characters() -> None:
    # GIVEN two tables of the catalog's longest name, alike but for their last character
    longest = "t" * 62 + "1"
    sibling = "t" * 62 + "2"

    # THEN each name fits, says whose it is, and differs from the other's
    named = unique_constraint_name(longest)
    assert (len(named), named.startswith("_unique_" + "t" * 46 + "_")) == (63, True)
    assert named == unique_constraint_name(longest)
    assert named != unique_constraint_name(sibling)
    assert unique_constraint_name("t" * 55) == "_unique_" + "t" * 55


def test_sqlite_skips_duplicates_with_insert_or_ignore() -> None:
    sqlite = DIALECTS["sqlite"]
    cursor = RecordingCursor()
    writer = sqlite.batch_writer(
        cursor,
        STREAM_TABLE.name,
        STREAM_TABLE.row_columns,
        LOAD_CONSTANTS,
        CONSTANTS,
        skip_duplicates=True,
    )

    with writer:
        writer.write([[1], ["L1"], [10], ["INSERT"], ["7"], ["2026-11-26 10:00:00.000000"], [1]])

    names = (
        '"learner_id", "lesson_id", "xp", "_event_name", "_sequence_number", '
        '"_approximate_creation_time", "_source_line", "_load_id", "_source_object", "_loaded_at"'
    )
    values = "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    assert cursor.calls[0][1][0] == (
        f'INSERT INTO "languages_progress" ({names}) {values} ON CONFLICT DO NOTHING'
    )
    assert sqlite.insert_statement(STREAM_TABLE.name, STREAM_TABLE.columns) == (
        f'INSERT INTO "languages_progress" ({names}) {values}'
    )


def test_postgresql_skips_duplicates_with_on_conflict_do_nothing() -> None:
    statement = DIALECTS["postgresql"].unnest_insert_statement(
        STREAM_TABLE.name, STREAM_TABLE.row_columns, LOAD_CONSTANTS, skip_duplicates=True
    )

    assert statement == (
        'INSERT INTO "languages_progress" ("learner_id", "lesson_id", "xp", "_event_name", '
        '"_sequence_number", "_approximate_creation_time", "_source_line", "_load_id", '
        '"_source_object", "_loaded_at") SELECT unnest(CAST(? AS bigint[])), '
        "unnest(CAST(? AS text[])), unnest(CAST(? AS bigint[])), unnest(CAST(? AS text[])), "
        "unnest(CAST(? AS text[])), unnest(CAST(? AS timestamp[])), "
        "unnest(CAST(? AS bigint[])), CAST(? AS varchar(36)), CAST(? AS varchar(2048)), "
        "CAST(? AS timestamp(6)) ON CONFLICT DO NOTHING"
    )


def test_sql_server_inserts_a_change_stream_with_the_plain_statement() -> None:
    # IGNORE_DUP_KEY on the constraint skips the duplicates: the INSERT is the same either way.
    statements = []
    for skip_duplicates in (False, True):
        cursor = RecordingCursor()
        writer = DIALECTS["mssql"].batch_writer(
            cursor,
            STREAM_TABLE.name,
            STREAM_TABLE.row_columns,
            LOAD_CONSTANTS,
            CONSTANTS,
            skip_duplicates=skip_duplicates,
        )
        with writer:
            writer.write([[1], ["L1"], [10], ["INSERT"], ["7"], [dt.datetime(2026, 1, 1)], [1]])
        statements.append(cursor.calls[1][1][0])

    assert (
        statements[0]
        == statements[1]
        == (
            "INSERT INTO [languages_progress] ([learner_id], [lesson_id], [xp], [_event_name], "
            "[_sequence_number], [_approximate_creation_time], [_source_line], [_load_id], "
            "[_source_object], [_loaded_at]) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        )
    )


def test_postgresql_adds_up_the_rows_each_statement_inserted() -> None:
    cursor = RecordingCursor()
    cursor.rowcounts = [5000, 4990, 3]
    writer = DIALECTS["postgresql"].batch_writer(
        cursor, TABLE.name, TABLE.row_columns, LOAD_CONSTANTS, CONSTANTS, skip_duplicates=True
    )

    with writer:
        writer.write(columns_of(12000))

    assert writer.inserted_rows == 5000 + 4990 + 3


def test_a_row_count_the_driver_does_not_know_leaves_the_total_unknown() -> None:
    cursor = RecordingCursor()
    cursor.rowcounts = [5000, -1, 2000]
    writer = DIALECTS["postgresql"].batch_writer(
        cursor, TABLE.name, TABLE.row_columns, LOAD_CONSTANTS, CONSTANTS
    )

    with writer:
        writer.write(columns_of(12000))

    assert writer.inserted_rows is None


def test_sqlite_counts_inserted_rows_and_sql_server_does_not() -> None:
    # GIVEN cursors whose one executemany of 3 rows reports 2 inserted (a duplicate skipped)
    counted = {}
    for dialect in ("sqlite", "mssql"):
        cursor = RecordingCursor()
        cursor.rowcounts = [2]
        writer = DIALECTS[dialect].batch_writer(
            cursor, TABLE.name, TABLE.row_columns, LOAD_CONSTANTS, CONSTANTS
        )
        with writer:
            writer.write(columns_of(3))
        counted[dialect] = writer.inserted_rows

    # THEN SQLite takes the count; pyodbc reports -1 after every executemany, so SQL Server's
    # count is not known, whatever the cursor says
    assert counted == {"sqlite": 2, "mssql": None}
