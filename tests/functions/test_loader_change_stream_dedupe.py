"""Change streams deliver at least once: their staging tables hold each change once.

Against SQLite and PostgreSQL; SQL Server's DDL and statements are pinned in
`tests/unit/test_dialect_sql.py`.
"""

from __future__ import annotations

import io
import json

import pytest

from functions.catalog import load_catalog
from functions.loader.database import connect, parse_target
from functions.loader.load import BATCH_ROWS, LoadResult, load_stream
from functions.loader.schema import create_schema
from functions.loader.settings import DEFAULT_CATALOG_DIR
from functions.loader.source import SourceObject

pytestmark = pytest.mark.services

CATALOG = load_catalog(DEFAULT_CATALOG_DIR)
LESSON_PROGRESS = CATALOG.find("languages/lesson_progress")
ASSESSMENTS = CATALOG.find("maths/assessments")
STREAM_KEY = "incoming/languages/lesson_progress/2026/11/25/10/stream-1.gz"


def change(event: str, learner: int, lesson: str, sequence: str, xp: int | None = 10) -> dict:
    """A change envelope of the LessonProgress table, as the stream pipeline writes it."""
    envelope = {
        "table": "LessonProgress",
        "eventName": event,
        "keys": {"learnerId": learner, "lessonId": lesson},
        "approximateCreationTime": 1764064800,
        "sequenceNumber": sequence,
    }
    if event != "REMOVE":
        envelope["newImage"] = {"learnerId": learner, "lessonId": lesson, "xp": xp}
    return envelope


def envelopes(*changes: dict) -> bytes:
    return "".join(json.dumps(envelope) + "\n" for envelope in changes).encode()


@pytest.fixture
def loader_database(database_url: str):
    database = connect(parse_target(database_url))
    create_schema(database.connection, database.dialect, [LESSON_PROGRESS, ASSESSMENTS])
    yield database
    database.close()


def load(database, dataset, body: bytes, key: str, version: str = "v1") -> LoadResult:
    source = SourceObject("landing", key, version)
    return load_stream(database, dataset, io.BytesIO(body), source)


def stored_changes(query) -> list[tuple]:
    """The staged changes in sequence order, sequence numbers without their zero padding."""
    rows = query(
        "SELECT learner_id, lesson_id, _event_name, _sequence_number, xp"
        " FROM languages_lesson_progress ORDER BY _sequence_number, learner_id"
    )
    return [(*row[:3], row[3].lstrip("0"), *row[4:]) for row in rows]


def test_sequence_numbers_are_stored_zero_padded_so_text_order_is_numeric(
    loader_database, query
) -> None:
    # 99 < 100 as numbers, but "99" > "100" as text: padding keeps the column's order right.
    load(
        loader_database,
        LESSON_PROGRESS,
        envelopes(change("MODIFY", 1, "fr-01", "100", xp=12), change("INSERT", 1, "fr-01", "99")),
        STREAM_KEY,
    )

    rows = query(
        "SELECT _sequence_number, xp FROM languages_lesson_progress ORDER BY _sequence_number"
    )

    assert rows == [("99".zfill(40), 10), ("100".zfill(40), 12)]


@pytest.mark.parametrize(
    ("copy_key", "copy_version"),
    [
        (STREAM_KEY, "v2"),
        ("incoming/languages/lesson_progress/2026/11/25/11/stream-1-redelivered.gz", "v1"),
    ],
    ids=["a new version of the same key", "another key"],
)
def test_a_file_delivered_again_adds_no_change_twice(
    loader_database, query, copy_key, copy_version
) -> None:
    # GIVEN a file of three changes, loaded
    body = envelopes(
        change("INSERT", 1, "fr-01", "100"),
        change("MODIFY", 1, "fr-01", "101", xp=25),
        change("INSERT", 2, "fr-01", "102"),
    )
    first = load(loader_database, LESSON_PROGRESS, body, STREAM_KEY)

    # WHEN the same changes arrive again as another object (a redelivered stream batch, or a
    # file copied back after the first was archived): a new ledger row, so a new load
    again = load(loader_database, LESSON_PROGRESS, body, copy_key, copy_version)

    # THEN the table holds each change once, and the second load says it skipped all three
    assert (first.status, first.row_count, first.duplicates_skipped) == ("loaded", 3, 0)
    assert (again.status, again.row_count, again.duplicates_skipped) == ("loaded", 0, 3)
    assert again.as_dict()["duplicates_skipped"] == 3
    assert stored_changes(query) == [
        (1, "fr-01", "INSERT", "100", 10),
        (1, "fr-01", "MODIFY", "101", 25),
        (2, "fr-01", "INSERT", "102", 10),
    ]
    assert sorted(query("SELECT object_key, object_version, row_count FROM load_ledger")) == sorted(
        [(STREAM_KEY, "v1", 3), (copy_key, copy_version, 0)]
    )


def test_a_change_repeated_within_one_file_is_stored_once(loader_database, query) -> None:
    # GIVEN one file holding the same change twice (one statement on PostgreSQL: ON CONFLICT
    # DO NOTHING skips a row that repeats one inserted by the same statement)
    body = envelopes(
        change("INSERT", 1, "fr-01", "100"),
        change("INSERT", 2, "fr-01", "101"),
        change("INSERT", 1, "fr-01", "100"),
    )

    # WHEN it loads
    result = load(loader_database, LESSON_PROGRESS, body, STREAM_KEY)

    # THEN the change is stored once, and counted once in the ledger
    assert (result.row_count, result.duplicates_skipped) == (2, 1)
    assert stored_changes(query) == [
        (1, "fr-01", "INSERT", "100", 10),
        (2, "fr-01", "INSERT", "101", 10),
    ]
    assert query("SELECT row_count FROM load_ledger") == [(2,)]


def test_a_change_repeated_in_a_later_batch_is_stored_once(loader_database, query) -> None:
    # GIVEN a file whose last line, past the first batch (statement), repeats its first
    distinct = [change("INSERT", n, "fr-01", str(1000 + n)) for n in range(BATCH_ROWS)]
    body = envelopes(*distinct, distinct[0])

    # WHEN it loads
    result = load(loader_database, LESSON_PROGRESS, body, STREAM_KEY)

    # THEN the repeat is skipped
    assert (result.row_count, result.duplicates_skipped) == (BATCH_ROWS, 1)
    assert query("SELECT COUNT(*) FROM languages_lesson_progress") == [(BATCH_ROWS,)]


def test_changes_of_one_item_with_their_own_sequence_numbers_are_all_kept(
    loader_database, query
) -> None:
    # GIVEN two changes of one item, and a REMOVE then a new INSERT of it
    body = envelopes(
        change("INSERT", 1, "fr-01", "100"),
        change("MODIFY", 1, "fr-01", "101", xp=25),
        change("REMOVE", 1, "fr-01", "102"),
        change("INSERT", 1, "fr-01", "103", xp=5),
    )

    # WHEN they load
    result = load(loader_database, LESSON_PROGRESS, body, STREAM_KEY)

    # THEN every change is kept: same keys, different sequence numbers
    assert (result.row_count, result.duplicates_skipped) == (4, 0)
    assert stored_changes(query) == [
        (1, "fr-01", "INSERT", "100", 10),
        (1, "fr-01", "MODIFY", "101", 25),
        (1, "fr-01", "REMOVE", "102", None),
        (1, "fr-01", "INSERT", "103", 5),
    ]


def test_the_same_sequence_number_for_other_keys_is_another_change(loader_database, query) -> None:
    body = envelopes(change("INSERT", 1, "fr-01", "100"), change("INSERT", 1, "fr-02", "100"))

    result = load(loader_database, LESSON_PROGRESS, body, STREAM_KEY)

    assert (result.row_count, result.duplicates_skipped) == (2, 0)
    assert query("SELECT COUNT(*) FROM languages_lesson_progress") == [(2,)]


def test_a_csv_dataset_still_stores_repeated_rows(loader_database, query) -> None:
    # GIVEN a CSV file holding the same row twice, loaded as two versions
    text = (
        "assessment_id,pupil_id,topic,score,max_score,passed,completed_at\n"
        "1,1,x,1,1,t,\n"
        "1,1,x,1,1,t,\n"
    )
    key = "incoming/maths/assessments/a.csv"
    results = [
        load(loader_database, ASSESSMENTS, text.encode(), key, version) for version in ("v1", "v2")
    ]

    # THEN every row is stored, as before, and no duplicate count is reported
    assert [(r.row_count, r.duplicates_skipped) for r in results] == [(2, None), (2, None)]
    assert "duplicates_skipped" not in results[0].as_dict()
    assert query("SELECT COUNT(*) FROM maths_assessments") == [(4,)]
