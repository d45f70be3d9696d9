"""The merge into reporting tables, and the pruning, against SQLite and PostgreSQL.

SQL Server's statements are pinned in `tests/unit/test_merge_sql.py`.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import time
import types
from collections.abc import Callable
from typing import Any

import pytest

from functions.catalog import Dataset, load_catalog
from functions.loader.cli import main
from functions.loader.database import Database, ReusedDatabase, connect, parse_target
from functions.loader.dialects import DIALECTS
from functions.loader.load import LoadResult, load_stream
from functions.loader.merge import (
    MergeLockError,
    MergeResult,
    PruneResult,
    merge,
    merge_after_load,
    prune,
)
from functions.loader.schema import create_schema
from functions.loader.settings import DEFAULT_CATALOG_DIR
from functions.loader.source import SourceObject

pytestmark = pytest.mark.services

CATALOG = load_catalog(DEFAULT_CATALOG_DIR)
# Keys (reader_id, book_id), watermark updated_at.
BOOK_PROGRESS = CATALOG.find("reading/book_progress")
# A change stream: keys (learner_id, lesson_id), ordered by sequence number.
LESSON_PROGRESS = CATALOG.find("languages/lesson_progress")
# Key reader_id, no watermark: the later load wins.
READERS = CATALOG.find("reading/readers")

BOOK_HEADER = "reader_id,book_id,pages_read,finished,updated_at\n"
READERS_HEADER = "reader_id,school_id,display_name,reading_age,created_at\n"
DAY_0 = dt.datetime(2026, 11, 1, 9, 0)

Query = Callable[..., list[tuple[Any, ...]]]


@pytest.fixture
def loader_database(database_url: str):
    database = connect(parse_target(database_url))
    create_schema(database.connection, database.dialect, [BOOK_PROGRESS, LESSON_PROGRESS, READERS])
    yield database
    database.close()


def load(
    database: Database,
    dataset: Dataset,
    text: str,
    name: str,
    loaded_at: dt.datetime | None = None,
) -> LoadResult:
    """Loads `text` as the file `name` of `dataset`."""
    source = SourceObject("landing", f"incoming/{dataset.qualified_name}/{name}", "v1")
    return load_stream(database, dataset, io.BytesIO(text.encode()), source, loaded_at)


def change(event: str, learner: int, sequence: str, xp: int | None = None) -> str:
    """A change envelope of lesson fr-01 of `learner`, as the stream pipeline writes it."""
    keys = {"learnerId": learner, "lessonId": "fr-01"}
    envelope: dict[str, Any] = {
        "table": "LessonProgress",
        "eventName": event,
        "keys": keys,
        "approximateCreationTime": 1764064800,
        "sequenceNumber": sequence,
    }
    if event != "REMOVE":
        envelope["newImage"] = {**keys, "xp": xp}
    return json.dumps(envelope) + "\n"


def book_progress(query: Query) -> list[tuple[Any, ...]]:
    """(reader, book, pages, finished, updated_at, order key, deleted, load id), by key."""
    rows = query(
        "SELECT reader_id, book_id, pages_read, finished, updated_at, _order_key, _deleted,"
        " _load_id FROM reading_book_progress_current ORDER BY reader_id, book_id"
    )
    return [(*r[:3], bool(r[3]), _ts(r[4]), _ts(r[5]), bool(r[6]), r[7]) for r in rows]


def lesson_progress(query: Query) -> list[tuple[Any, ...]]:
    """(learner, xp, sequence number unpadded, deleted, load id), by learner."""
    rows = query(
        "SELECT learner_id, xp, _order_key, _deleted, _load_id"
        " FROM languages_lesson_progress_current ORDER BY learner_id"
    )
    return [(r[0], r[1], r[2].lstrip("0"), bool(r[3]), r[4]) for r in rows]


def test_a_first_load_merges_into_one_row_per_key(loader_database, query) -> None:
    # GIVEN a file of two rows, loaded
    loaded = load(
        loader_database,
        BOOK_PROGRESS,
        BOOK_HEADER + "1,7,10,f,2026-11-01T09:00:00\n1,8,300,t,2026-11-01T09:05:00\n",
        "p1.csv",
    )

    # WHEN the dataset is merged
    result = merge(loader_database, BOOK_PROGRESS)

    # THEN the reporting table holds each key once, as loaded
    assert result == MergeResult(loads_merged=1, rows_upserted=2, tombstones=0)
    first, second = dt.datetime(2026, 11, 1, 9, 0), dt.datetime(2026, 11, 1, 9, 5)
    assert book_progress(query) == [
        (1, 7, 10, False, first, first, False, loaded.load_id),
        (1, 8, 300, True, second, second, False, loaded.load_id),
    ]
    assert query("SELECT dataset, load_id FROM merge_ledger") == [
        ("reading/book_progress", loaded.load_id)
    ]


def test_a_newer_change_in_a_later_load_overwrites(loader_database, query) -> None:
    load(loader_database, BOOK_PROGRESS, BOOK_HEADER + "1,7,10,f,2026-11-01T09:00:00\n", "a.csv")
    merge(loader_database, BOOK_PROGRESS)
    newer = load(
        loader_database, BOOK_PROGRESS, BOOK_HEADER + "1,7,25,t,2026-11-02T09:00:00\n", "b.csv"
    )

    result = merge(loader_database, BOOK_PROGRESS)

    assert result == MergeResult(loads_merged=1, rows_upserted=1, tombstones=0)
    updated = dt.datetime(2026, 11, 2, 9, 0)
    assert book_progress(query) == [(1, 7, 25, True, updated, updated, False, newer.load_id)]


def test_an_older_change_loaded_later_does_not_overwrite(loader_database, query) -> None:
    # GIVEN a merged row updated at 10:00
    current = load(
        loader_database, BOOK_PROGRESS, BOOK_HEADER + "1,7,25,t,2026-11-02T10:00:00\n", "a.csv"
    )
    merge(loader_database, BOOK_PROGRESS)

    # WHEN a file arriving later holds the row as it was at 09:00
    load(loader_database, BOOK_PROGRESS, BOOK_HEADER + "1,7,10,f,2026-11-02T09:00:00\n", "b.csv")
    result = merge(loader_database, BOOK_PROGRESS)

    # THEN the load is merged but the newer version stays
    assert result == MergeResult(loads_merged=1, rows_upserted=0, tombstones=0)
    kept = dt.datetime(2026, 11, 2, 10, 0)
    assert book_progress(query) == [(1, 7, 25, True, kept, kept, False, current.load_id)]


def test_of_several_versions_in_one_load_the_latest_wins(loader_database, query) -> None:
    # GIVEN one file with three versions of (1, 7) out of order, and two versions of (1, 8)
    # with the same watermark
    loaded = load(
        loader_database,
        BOOK_PROGRESS,
        BOOK_HEADER + "1,7,10,f,2026-11-01T09:00:00\n"
        "1,7,30,t,2026-11-01T11:00:00\n"
        "1,8,5,f,2026-11-01T09:00:00\n"
        "1,7,20,f,2026-11-01T10:00:00\n"
        "1,8,6,f,2026-11-01T09:00:00\n",
        "p.csv",
    )

    # WHEN it is merged
    result = merge(loader_database, BOOK_PROGRESS)

    # THEN each key holds its highest watermark, and of equal watermarks the later line
    assert result == MergeResult(loads_merged=1, rows_upserted=2, tombstones=0)
    latest, tied = dt.datetime(2026, 11, 1, 11, 0), dt.datetime(2026, 11, 1, 9, 0)
    assert book_progress(query) == [
        (1, 7, 30, True, latest, latest, False, loaded.load_id),
        (1, 8, 6, False, tied, tied, False, loaded.load_id),
    ]


def test_a_remove_leaves_a_tombstone_that_only_a_newer_change_replaces(
    loader_database, query
) -> None:
    # GIVEN learner 1's progress inserted then removed, and learner 2's inserted, merged
    first = load(
        loader_database,
        LESSON_PROGRESS,
        change("INSERT", 1, "100", xp=10) + change("REMOVE", 1, "102") + change("INSERT", 2, "103"),
        "s1.jsonl",
    )
    removed = merge(loader_database, LESSON_PROGRESS)

    # WHEN a change older than the REMOVE arrives late, and then a newer INSERT
    load(loader_database, LESSON_PROGRESS, change("MODIFY", 1, "101", xp=15), "s2.jsonl")
    late = merge(loader_database, LESSON_PROGRESS)
    tombstone = lesson_progress(query)
    again = load(loader_database, LESSON_PROGRESS, change("INSERT", 1, "104", xp=5), "s3.jsonl")
    newer = merge(loader_database, LESSON_PROGRESS)

    # THEN the REMOVE is a tombstone, non-key columns NULL; the late change leaves it be; the
    # newer INSERT brings the row back
    assert removed == MergeResult(loads_merged=1, rows_upserted=2, tombstones=1)
    assert late == MergeResult(loads_merged=1, rows_upserted=0, tombstones=0)
    assert tombstone == [
        (1, None, "102", True, first.load_id),
        (2, None, "103", False, first.load_id),
    ]
    assert newer == MergeResult(loads_merged=1, rows_upserted=1, tombstones=0)
    assert lesson_progress(query) == [
        (1, 5, "104", False, again.load_id),
        (2, None, "103", False, first.load_id),
    ]


def test_merging_again_changes_nothing(loader_database, query) -> None:
    # GIVEN both kinds of dataset loaded and merged, a tombstone among the rows
    load(loader_database, BOOK_PROGRESS, BOOK_HEADER + "1,7,10,f,2026-11-01T09:00:00\n", "a.csv")
    load(
        loader_database,
        LESSON_PROGRESS,
        change("INSERT", 1, "100", xp=10) + change("REMOVE", 2, "101"),
        "s.jsonl",
    )
    for dataset in (BOOK_PROGRESS, LESSON_PROGRESS):
        merge(loader_database, dataset, now=DAY_0)
    tables = ("reading_book_progress_current", "languages_lesson_progress_current", "merge_ledger")
    before = {table: query(f"SELECT * FROM {table} ORDER BY 1, 2") for table in tables}

    # WHEN both are merged again, later
    results = [
        merge(loader_database, dataset, now=DAY_0 + dt.timedelta(hours=1))
        for dataset in (BOOK_PROGRESS, LESSON_PROGRESS)
    ]

    # THEN nothing was merged and every row is as it was, `_merged_at` included
    assert results == [MergeResult(0, 0, 0), MergeResult(0, 0, 0)]
    assert {table: query(f"SELECT * FROM {table} ORDER BY 1, 2") for table in tables} == before
    assert [len(rows) for rows in before.values()] == [1, 2, 2]


def test_without_a_watermark_the_later_load_wins(loader_database, query) -> None:
    # GIVEN two loads of reader 1, the later one's file read first, merged together
    later = load(
        loader_database,
        READERS,
        READERS_HEADER + "1,4,Mia B.,9.5,2026-01-05T09:00:00\n",
        "b.csv",
        loaded_at=DAY_0 + dt.timedelta(hours=2),
    )
    load(
        loader_database,
        READERS,
        READERS_HEADER + "1,4,Mia,9.0,2026-01-05T09:00:00\n2,4,Ali,8.0,2026-01-06T09:00:00\n",
        "a.csv",
        loaded_at=DAY_0,
    )
    together = merge(loader_database, READERS)

    # WHEN a third load follows, merged on its own
    newest = load(
        loader_database,
        READERS,
        READERS_HEADER + "2,5,Ali,8.5,2026-01-06T09:00:00\n",
        "c.csv",
        loaded_at=DAY_0 + dt.timedelta(hours=3),
    )
    alone = merge(loader_database, READERS)

    # THEN each key holds its version from the load with the latest `_loaded_at`
    assert together == MergeResult(loads_merged=2, rows_upserted=2, tombstones=0)
    assert alone == MergeResult(loads_merged=1, rows_upserted=1, tombstones=0)
    rows = query(
        "SELECT reader_id, school_id, display_name, _order_key, _load_id"
        " FROM reading_readers_current ORDER BY reader_id"
    )
    assert [(*row[:3], _ts(row[3]), row[4]) for row in rows] == [
        (1, 4, "Mia B.", DAY_0 + dt.timedelta(hours=2), later.load_id),
        (2, 5, "Ali", DAY_0 + dt.timedelta(hours=3), newest.load_id),
    ]


def test_prune_deletes_only_merged_old_staging_rows_and_old_tombstones(
    loader_database, query
) -> None:
    # GIVEN (retention 30 days) a load of day 0 merged on day 0: a live row and a tombstone
    old = load(
        loader_database,
        LESSON_PROGRESS,
        change("INSERT", 1, "100", xp=10) + change("REMOVE", 1, "101") + change("INSERT", 2, "102"),
        "old.jsonl",
        loaded_at=DAY_0,
    )
    merge(loader_database, LESSON_PROGRESS, now=DAY_0)
    # a load of day 20 merged on day 20: a tombstone
    recent = load(
        loader_database,
        LESSON_PROGRESS,
        change("REMOVE", 3, "103"),
        "recent.jsonl",
        loaded_at=DAY_0 + dt.timedelta(days=20),
    )
    merge(loader_database, LESSON_PROGRESS, now=DAY_0 + dt.timedelta(days=20))
    # and a load of day 0 not merged yet
    unmerged = load(
        loader_database, LESSON_PROGRESS, change("INSERT", 4, "104"), "late.jsonl", DAY_0
    )

    # WHEN the dataset is pruned on day 35 (cut-off: day 5)
    result = prune(loader_database, LESSON_PROGRESS, now=DAY_0 + dt.timedelta(days=35))

    # THEN the old merged load's staging and ledger rows and the day-0 tombstone are gone
    assert result == PruneResult(staging_rows=3, loads=1, tombstones=1)
    assert sorted(query("SELECT _load_id FROM languages_lesson_progress")) == sorted(
        [(recent.load_id,), (unmerged.load_id,)]
    )
    assert query("SELECT load_id FROM merge_ledger") == [(recent.load_id,)]
    assert lesson_progress(query) == [
        (2, None, "102", False, old.load_id),
        (3, None, "103", True, recent.load_id),
    ]


def test_the_command_line_merges_and_prunes_a_dataset(database_url, tmp_path, capsys) -> None:
    # GIVEN a file loaded by hand (which merges it too), and a row loaded since, unmerged
    path = tmp_path / "readers.csv"
    path.write_text(READERS_HEADER + "1,4,Mia,9.5,2026-01-05T09:00:00\n", encoding="utf-8")
    main(["load", "--dataset", "reading/readers", "--db", database_url, str(path)])
    database = connect(parse_target(database_url))
    load(database, READERS, READERS_HEADER + "2,4,Ali,8.0,2026-01-06T09:00:00\n", "b.csv")
    database.close()

    # WHEN the dataset is merged, then pruned, by hand
    statuses = [
        main([command, "reading/readers", "--db", database_url]) for command in ("merge", "prune")
    ]

    # THEN the load printed its merge, and each command what it did
    loaded, merged, pruned = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert statuses == [0, 0]
    assert (loaded["status"], loaded["merge"]) == (
        "loaded",
        {"loads_merged": 1, "rows_upserted": 1, "tombstones": 0},
    )
    assert merged == {"loads_merged": 1, "rows_upserted": 1, "tombstones": 0}
    assert pruned == {"staging_rows_pruned": 0, "loads_pruned": 0, "tombstones_pruned": 0}


def test_a_merge_not_granted_the_lock_in_time_fails_and_a_later_one_merges(
    loader_database, database_url, query
) -> None:
    # GIVEN a committed load, and another connection holding the dataset's merge lock
    loaded = load(
        loader_database, READERS, READERS_HEADER + "1,4,Mia,9.5,2026-01-05T09:00:00\n", "a.csv"
    )
    holder = connect(parse_target(database_url))
    holder.connection.cursor().execute(
        "BEGIN IMMEDIATE"
        if holder.dialect.name == "sqlite"
        else "LOCK TABLE reading_readers_current IN SHARE ROW EXCLUSIVE MODE"
    )

    # WHEN the dataset is merged with a 1 s lock timeout
    started = time.monotonic()
    with pytest.raises(MergeLockError) as failure:
        merge(loader_database, READERS, lock_timeout_seconds=1)
    waited = time.monotonic() - started

    # THEN it fails within the timeout, clearly, having merged nothing
    assert 1 <= waited < 5
    assert str(failure.value).startswith("the merge lock of reading/readers was not taken: ")
    assert ("database is locked" if holder.dialect.name == "sqlite" else "lock timeout") in str(
        failure.value
    )
    assert query("SELECT COUNT(*) FROM reading_readers_current") == [(0,)]
    assert query("SELECT COUNT(*) FROM merge_ledger") == [(0,)]
    assert query("SELECT COUNT(*) FROM reading_readers") == [(1,)]

    # AND once the lock is released, the next merge takes the load
    holder.connection.rollback()
    holder.close()
    assert merge(loader_database, READERS, lock_timeout_seconds=1) == MergeResult(1, 1, 0)
    assert query("SELECT reader_id, _load_id FROM reading_readers_current") == [(1, loaded.load_id)]


class FakeDriverError(Exception):
    pass


class SessionLostConnection:
    """A SQL Server connection whose merge lock release fails; merges find no load."""

    def __init__(self) -> None:
        self.closed = False

    def cursor(self) -> SessionLostCursor:
        if self.closed:
            raise FakeDriverError("Attempt to use a closed connection.")
        return SessionLostCursor()

    def commit(self) -> None:
        pass

    def rollback(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True


class SessionLostCursor:
    def execute(self, text: str, parameters: tuple[object, ...] = ()) -> None:
        if text.startswith("EXEC sp_releaseapplock"):
            raise FakeDriverError("Communication link failure")

    def fetchone(self) -> tuple[int]:
        return (0,)

    def fetchall(self) -> list[tuple[int]]:
        return [(1,)]

    def close(self) -> None:
        pass


def test_a_merge_lock_not_released_closes_the_kept_connection() -> None:
    # GIVEN a kept SQL Server connection whose merge lock release will fail
    driver = types.ModuleType("fake_pyodbc")
    driver.Error = FakeDriverError  # type: ignore[attr-defined]
    opened: list[SessionLostConnection] = []

    def open_database() -> Database:
        opened.append(SessionLostConnection())
        return Database(opened[-1], DIALECTS["mssql"], driver)

    kept = ReusedDatabase(open_database)

    # WHEN a load's merge runs on it
    outcome = merge_after_load(kept.get(), READERS)

    # THEN the merge reports the failed release, the connection is closed (ending the session
    # that may hold the lock), and the next use opens another
    assert outcome == {
        "merge": {
            "error": "the merge lock of reading/readers was not released, so the connection "
            "was closed: Communication link failure"
        }
    }
    assert opened[0].closed
    assert kept.get().connection is opened[1]


def _ts(value: Any) -> dt.datetime:
    """SQLite returns timestamps as ISO text, PostgreSQL as datetimes."""
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)
