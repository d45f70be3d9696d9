"""The merge's SQL, pinned per dialect: SQL Server cannot run here, so this is its proof."""

from __future__ import annotations

import datetime as dt

import pytest

from functions.catalog import Column, parse_platform
from functions.loader.dialects import DIALECTS
from functions.loader.merge_sql import merge_sql
from functions.loader.schema import ReportingTable, schema_statements

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
STAFF, PUPILS = parse_platform(
    {
        "platform": "maths",
        "datasets": [
            {
                "name": "staff",
                "source": "postgresql maths.public.staff",
                "table": "maths_staff",
                "keys": ["staff_id"],
                "watermark": "updated_at",
                "columns": [
                    {"name": "staff_id", "type": "integer", "nullable": False},
                    {"name": "role", "type": "string", "max_length": 40},
                    {"name": "updated_at", "type": "timestamp", "nullable": False},
                ],
            },
            {
                "name": "pupils",
                "source": "postgresql maths.public.pupils",
                "table": "maths_pupils",
                "keys": ["pupil_id"],
                "columns": [
                    {"name": "pupil_id", "type": "integer", "nullable": False},
                    {"name": "name", "type": "string"},
                ],
            },
        ],
    },
    source="test",
)
MERGED_AT = dt.datetime(2026, 11, 26, 10, 30, 0, 123456)
MERGED_AT_TEXT = "2026-11-26 10:30:00.123456"

# The stream's latest versions in SQL Server: the CTE both of its statements start with.
SQL_SERVER_LATEST_PROGRESS = (
    "WITH latest AS (SELECT s.[learner_id], s.[lesson_id], "
    "CASE WHEN s.[_event_name] = 'REMOVE' THEN NULL ELSE s.[xp] END AS [xp], "
    "s.[_sequence_number] AS [_order_key], "
    "CASE WHEN s.[_event_name] = 'REMOVE' THEN CAST(1 AS bit) ELSE CAST(0 AS bit) END "
    "AS [_deleted], s.[_load_id], "
    "ROW_NUMBER() OVER (PARTITION BY s.[learner_id], s.[lesson_id] "
    "ORDER BY s.[_sequence_number] DESC, s.[_loaded_at] DESC, s.[_source_line] DESC) "
    "AS [_version_rank] "
    "FROM [languages_progress] AS s JOIN [merge_ledger] AS m ON m.[load_id] = s.[_load_id] "
    "WHERE m.[dataset] = ? AND m.[merge_id] = ?) "
)


def test_sql_server_ddl_of_the_merge_ledger_and_a_reporting_table() -> None:
    _, merge_ledger, _, reporting = schema_statements(DIALECTS["mssql"], [STREAM])

    assert merge_ledger == (
        "IF OBJECT_ID(N'merge_ledger', N'U') IS NULL CREATE TABLE [merge_ledger] ("
        "[dataset] nvarchar(127) NOT NULL, [load_id] nvarchar(36) NOT NULL, "
        "[merge_id] nvarchar(36) NOT NULL, [merged_at] datetime2(6) NOT NULL, "
        "PRIMARY KEY ([dataset], [load_id]))"
    )
    assert reporting == (
        "IF OBJECT_ID(N'languages_progress_current', N'U') IS NULL CREATE TABLE "
        "[languages_progress_current] ([learner_id] bigint NOT NULL, "
        "[lesson_id] nvarchar(40) NOT NULL, [xp] bigint, [_order_key] nvarchar(40) NOT NULL, "
        "[_deleted] bit NOT NULL, [_load_id] nvarchar(36) NOT NULL, "
        "[_merged_at] datetime2(6) NOT NULL, PRIMARY KEY ([learner_id], [lesson_id]))"
    )


def test_postgresql_and_sqlite_ddl_of_the_merge_ledger_and_a_reporting_table() -> None:
    _, postgresql_ledger, _, postgresql = schema_statements(DIALECTS["postgresql"], [STREAM])
    _, sqlite_ledger, _, sqlite = schema_statements(DIALECTS["sqlite"], [STREAM])

    assert postgresql_ledger == (
        'CREATE TABLE IF NOT EXISTS "merge_ledger" ("dataset" varchar(127) NOT NULL, '
        '"load_id" varchar(36) NOT NULL, "merge_id" varchar(36) NOT NULL, '
        '"merged_at" timestamp(6) NOT NULL, PRIMARY KEY ("dataset", "load_id"))'
    )
    assert postgresql == (
        'CREATE TABLE IF NOT EXISTS "languages_progress_current" ('
        '"learner_id" bigint NOT NULL, "lesson_id" varchar(40) NOT NULL, "xp" bigint, '
        '"_order_key" varchar(40) NOT NULL, "_deleted" boolean NOT NULL, '
        '"_load_id" varchar(36) NOT NULL, "_merged_at" timestamp(6) NOT NULL, '
        'PRIMARY KEY ("learner_id", "lesson_id"))'
    )
    assert sqlite_ledger == (
        'CREATE TABLE IF NOT EXISTS "merge_ledger" ("dataset" TEXT NOT NULL, '
        '"load_id" TEXT NOT NULL, "merge_id" TEXT NOT NULL, "merged_at" TEXT NOT NULL, '
        'PRIMARY KEY ("dataset", "load_id"))'
    )
    assert sqlite == (
        'CREATE TABLE IF NOT EXISTS "languages_progress_current" ('
        '"learner_id" INTEGER NOT NULL, "lesson_id" TEXT NOT NULL, "xp" INTEGER, '
        '"_order_key" TEXT NOT NULL, "_deleted" INTEGER NOT NULL, "_load_id" TEXT NOT NULL, '
        '"_merged_at" TEXT NOT NULL, PRIMARY KEY ("learner_id", "lesson_id"))'
    )


@pytest.mark.parametrize(
    ("dataset", "source", "order_key"),
    [
        (STREAM, "_sequence_number", Column("_order_key", "string", False, max_length=40)),
        (STAFF, "updated_at", Column("_order_key", "timestamp", False)),
        (PUPILS, "_loaded_at", Column("_order_key", "timestamp", False)),
    ],
    ids=["stream: sequence number", "watermark", "neither: load time"],
)
def test_the_order_key_is_what_orders_the_datasets_versions(dataset, source, order_key) -> None:
    table = ReportingTable.of(dataset)

    assert (table.order_source.name, table.order_key) == (source, order_key)


def test_sql_server_merge_lock_is_an_application_lock_released_after_the_transaction() -> None:
    statements = merge_sql(DIALECTS["mssql"], STREAM)

    assert [statement.text for statement in statements.lock()] == [
        "DECLARE @granted int; EXEC @granted = sp_getapplock "
        "@Resource = N'merge:languages/progress', @LockMode = 'Exclusive', "
        "@LockOwner = 'Session', @LockTimeout = 60000; "
        "IF @granted < 0 THROW 51000, 'the merge lock was not granted within 60 s', 1;"
    ]
    assert statements.unlock().text == (
        "EXEC sp_releaseapplock @Resource = N'merge:languages/progress', @LockOwner = 'Session'"
    )


def test_postgresql_locks_the_reporting_table_and_sqlite_the_database() -> None:
    postgresql = merge_sql(DIALECTS["postgresql"], STREAM)
    sqlite = merge_sql(DIALECTS["sqlite"], STREAM)

    assert [statement.text for statement in postgresql.lock()] == [
        "SET LOCAL lock_timeout = '60s'",
        'LOCK TABLE "languages_progress_current" IN SHARE ROW EXCLUSIVE MODE',
    ]
    # SQLite waits for its write lock as long as the connection's busy timeout.
    assert [statement.text for statement in sqlite.lock()] == [
        "PRAGMA busy_timeout = 60000",
        "BEGIN IMMEDIATE",
    ]
    assert (postgresql.unlock(), sqlite.unlock()) == (None, None)


def test_the_lock_timeout_is_the_one_given() -> None:
    postgresql = merge_sql(DIALECTS["postgresql"], STREAM, lock_timeout_seconds=5)
    sql_server = merge_sql(DIALECTS["mssql"], STREAM, lock_timeout_seconds=5)

    assert postgresql.lock()[0].text == "SET LOCAL lock_timeout = '5s'"
    (getapplock,) = sql_server.lock()
    assert "@LockTimeout = 5000; " in getapplock.text
    assert "'the merge lock was not granted within 5 s'" in getapplock.text


def test_sql_server_records_the_unmerged_loads_then_counts_them() -> None:
    statements = merge_sql(DIALECTS["mssql"], STREAM)

    record = statements.record_loads("merge-1", MERGED_AT)
    count = statements.count_recorded("merge-1")

    assert record.text == (
        "INSERT INTO [merge_ledger] ([dataset], [load_id], [merge_id], [merged_at]) "
        "SELECT DISTINCT CAST(? AS nvarchar(127)), s.[_load_id], CAST(? AS nvarchar(36)), "
        "CAST(? AS datetime2(6)) FROM [languages_progress] AS s WHERE NOT EXISTS "
        "(SELECT 1 FROM [merge_ledger] AS m "
        "WHERE m.[dataset] = ? AND m.[load_id] = s.[_load_id])"
    )
    assert record.parameters == (
        "languages/progress",
        "merge-1",
        MERGED_AT_TEXT,
        "languages/progress",
    )
    assert count.text == (
        "SELECT COUNT(*) FROM [merge_ledger] WHERE [dataset] = ? AND [merge_id] = ?"
    )
    assert count.parameters == ("languages/progress", "merge-1")


def test_sql_server_updates_then_inserts_instead_of_merge() -> None:
    update, insert = merge_sql(DIALECTS["mssql"], STREAM).upsert("merge-1", MERGED_AT)

    assert update.text == SQL_SERVER_LATEST_PROGRESS + (
        "UPDATE t SET [xp] = latest.[xp], [_order_key] = latest.[_order_key], "
        "[_deleted] = latest.[_deleted], [_load_id] = latest.[_load_id], "
        "[_merged_at] = CAST(? AS datetime2(6)) "
        "FROM [languages_progress_current] AS t WITH (UPDLOCK, HOLDLOCK) "
        "JOIN latest ON t.[learner_id] = latest.[learner_id] "
        "AND t.[lesson_id] = latest.[lesson_id] AND latest.[_version_rank] = 1 "
        "WHERE t.[_order_key] <= latest.[_order_key]"
    )
    assert insert.text == SQL_SERVER_LATEST_PROGRESS + (
        "INSERT INTO [languages_progress_current] ([learner_id], [lesson_id], [xp], "
        "[_order_key], [_deleted], [_load_id], [_merged_at]) "
        "SELECT latest.[learner_id], latest.[lesson_id], latest.[xp], latest.[_order_key], "
        "latest.[_deleted], latest.[_load_id], CAST(? AS datetime2(6)) FROM latest "
        "WHERE latest.[_version_rank] = 1 AND NOT EXISTS "
        "(SELECT 1 FROM [languages_progress_current] AS t WITH (UPDLOCK, HOLDLOCK) "
        "WHERE t.[learner_id] = latest.[learner_id] AND t.[lesson_id] = latest.[lesson_id])"
    )
    parameters = ("languages/progress", "merge-1", MERGED_AT_TEXT)
    assert (update.parameters, insert.parameters) == (parameters, parameters)


def test_sql_server_orders_versions_by_the_watermark_and_never_deletes() -> None:
    update, insert = merge_sql(DIALECTS["mssql"], STAFF).upsert("merge-1", MERGED_AT)

    latest = (
        "WITH latest AS (SELECT s.[staff_id], s.[role], s.[updated_at], "
        "s.[updated_at] AS [_order_key], CAST(0 AS bit) AS [_deleted], s.[_load_id], "
        "ROW_NUMBER() OVER (PARTITION BY s.[staff_id] "
        "ORDER BY s.[updated_at] DESC, s.[_loaded_at] DESC, s.[_source_line] DESC) "
        "AS [_version_rank] "
        "FROM [maths_staff] AS s JOIN [merge_ledger] AS m ON m.[load_id] = s.[_load_id] "
        "WHERE m.[dataset] = ? AND m.[merge_id] = ?) "
    )
    assert update.text == latest + (
        "UPDATE t SET [role] = latest.[role], [updated_at] = latest.[updated_at], "
        "[_order_key] = latest.[_order_key], [_deleted] = latest.[_deleted], "
        "[_load_id] = latest.[_load_id], [_merged_at] = CAST(? AS datetime2(6)) "
        "FROM [maths_staff_current] AS t WITH (UPDLOCK, HOLDLOCK) "
        "JOIN latest ON t.[staff_id] = latest.[staff_id] AND latest.[_version_rank] = 1 "
        "WHERE t.[_order_key] <= latest.[_order_key]"
    )
    assert insert.text.startswith(latest + "INSERT INTO [maths_staff_current] ")


def test_without_a_watermark_versions_are_ordered_by_load_time_once() -> None:
    (update, _) = merge_sql(DIALECTS["mssql"], PUPILS).upsert("merge-1", MERGED_AT)
    (postgresql,) = merge_sql(DIALECTS["postgresql"], PUPILS).upsert("merge-1", MERGED_AT)

    assert update.text.startswith(
        "WITH latest AS (SELECT s.[pupil_id], s.[name], s.[_loaded_at] AS [_order_key], "
        "CAST(0 AS bit) AS [_deleted], s.[_load_id], ROW_NUMBER() OVER (PARTITION BY "
        "s.[pupil_id] ORDER BY s.[_loaded_at] DESC, s.[_source_line] DESC) AS [_version_rank] "
    )
    assert (
        'ROW_NUMBER() OVER (PARTITION BY s."pupil_id" '
        'ORDER BY s."_loaded_at" DESC, s."_source_line" DESC)'
    ) in postgresql.text


def test_postgresql_and_sqlite_upsert_unless_the_stored_version_is_newer() -> None:
    (postgresql,) = merge_sql(DIALECTS["postgresql"], STREAM).upsert("merge-1", MERGED_AT)
    (sqlite,) = merge_sql(DIALECTS["sqlite"], STREAM).upsert("merge-1", MERGED_AT)

    assert postgresql.text == (
        'INSERT INTO "languages_progress_current" ("learner_id", "lesson_id", "xp", '
        '"_order_key", "_deleted", "_load_id", "_merged_at") '
        'SELECT latest."learner_id", latest."lesson_id", latest."xp", latest."_order_key", '
        'latest."_deleted", latest."_load_id", CAST(? AS timestamp(6)) '
        'FROM (SELECT s."learner_id", s."lesson_id", '
        'CASE WHEN s."_event_name" = \'REMOVE\' THEN NULL ELSE s."xp" END AS "xp", '
        's."_sequence_number" AS "_order_key", '
        'CASE WHEN s."_event_name" = \'REMOVE\' THEN TRUE ELSE FALSE END AS "_deleted", '
        's."_load_id", ROW_NUMBER() OVER (PARTITION BY s."learner_id", s."lesson_id" '
        'ORDER BY s."_sequence_number" DESC, s."_loaded_at" DESC, s."_source_line" DESC) '
        'AS "_version_rank" FROM "languages_progress" AS s JOIN "merge_ledger" AS m '
        'ON m."load_id" = s."_load_id" WHERE m."dataset" = ? AND m."merge_id" = ?) AS latest '
        'WHERE latest."_version_rank" = 1 '
        'ON CONFLICT ("learner_id", "lesson_id") DO UPDATE SET "xp" = excluded."xp", '
        '"_order_key" = excluded."_order_key", "_deleted" = excluded."_deleted", '
        '"_load_id" = excluded."_load_id", "_merged_at" = excluded."_merged_at" '
        'WHERE "languages_progress_current"."_order_key" <= excluded."_order_key"'
    )
    # SQLite's upsert is the same statement (the WHERE before ON CONFLICT settles its parser).
    assert sqlite.text == postgresql.text.replace("CAST(? AS timestamp(6))", "CAST(? AS TEXT)")
    parameters = (MERGED_AT_TEXT, "languages/progress", "merge-1")
    assert (postgresql.parameters, sqlite.parameters) == (parameters, parameters)


def test_sql_server_counts_the_rows_written_by_the_merge() -> None:
    count = merge_sql(DIALECTS["mssql"], STREAM).count_written("merge-1")

    assert count.text == (
        "SELECT t.[_deleted], COUNT(*) FROM [languages_progress_current] AS t "
        "JOIN [merge_ledger] AS m ON m.[load_id] = t.[_load_id] "
        "WHERE m.[dataset] = ? AND m.[merge_id] = ? GROUP BY t.[_deleted]"
    )
    assert count.parameters == ("languages/progress", "merge-1")


def test_sql_server_prunes_merged_staging_rows_their_ledger_rows_and_tombstones() -> None:
    staging, ledger, tombstones = merge_sql(DIALECTS["mssql"], STREAM).prune(MERGED_AT)

    assert staging.text == (
        "DELETE FROM [languages_progress] WHERE [_loaded_at] < CAST(? AS datetime2(6)) "
        "AND [_load_id] IN (SELECT [load_id] FROM [merge_ledger] WHERE [dataset] = ?)"
    )
    assert staging.parameters == (MERGED_AT_TEXT, "languages/progress")
    assert ledger.text == (
        "DELETE FROM [merge_ledger] WHERE [dataset] = ? AND NOT EXISTS (SELECT 1 FROM "
        "[languages_progress] AS s WHERE s.[_load_id] = [merge_ledger].[load_id])"
    )
    assert ledger.parameters == ("languages/progress",)
    assert tombstones.text == (
        "DELETE FROM [languages_progress_current] WHERE [_deleted] = CAST(1 AS bit) "
        "AND [_merged_at] < CAST(? AS datetime2(6))"
    )
    assert tombstones.parameters == (MERGED_AT_TEXT,)


def test_a_dataset_without_deletes_prunes_no_tombstones() -> None:
    statements = merge_sql(DIALECTS["mssql"], STAFF).prune(MERGED_AT)

    assert [statement.text.split(" WHERE ")[0] for statement in statements] == [
        "DELETE FROM [maths_staff]",
        "DELETE FROM [merge_ledger]",
    ]


def test_postgresql_prunes_with_the_same_statements() -> None:
    staging, ledger, tombstones = merge_sql(DIALECTS["postgresql"], STREAM).prune(MERGED_AT)

    assert [staging.text, ledger.text, tombstones.text] == [
        'DELETE FROM "languages_progress" WHERE "_loaded_at" < CAST(? AS timestamp(6)) '
        'AND "_load_id" IN (SELECT "load_id" FROM "merge_ledger" WHERE "dataset" = ?)',
        'DELETE FROM "merge_ledger" WHERE "dataset" = ? AND NOT EXISTS (SELECT 1 FROM '
        '"languages_progress" AS s WHERE s."_load_id" = "merge_ledger"."load_id")',
        'DELETE FROM "languages_progress_current" WHERE "_deleted" = TRUE '
        'AND "_merged_at" < CAST(? AS timestamp(6))',
    ]
