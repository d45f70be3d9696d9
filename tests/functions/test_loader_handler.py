"""The loader function end to end: real objects and events on the emulator, real moves, real
rows in SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import threading
from collections.abc import Callable
from typing import Any

import pytest

from functions.catalog import load_catalog
from functions.loader import handler
from functions.loader.database import ReusedDatabase, connect, parse_target
from functions.loader.errors import DatabaseUnavailableError
from functions.loader.landing import LandingLoader
from functions.loader.schema import create_schema
from functions.loader.settings import DEFAULT_CATALOG_DIR

pytestmark = pytest.mark.services

PUPILS = "incoming/maths/pupils/pupils-2026-11-26.csv"
MATHS_PUPILS = load_catalog(DEFAULT_CATALOG_DIR).find("maths/pupils")
PUPIL_COLUMNS = "pupil_id, school_id, year_group, first_name, last_name, enrolled_at"
HEADER = "pupil_id,school_id,year_group,first_name,last_name,enrolled_at\n"


@pytest.fixture
def invoke(
    landing: Any,
    s3_event: Callable[..., dict[str, Any]],
    lambda_context: Any,
) -> Callable[[str, bytes], dict[str, Any]]:
    """Uploads `body` to `key` and runs the handler on the object's event; returns its result."""

    def run(key: str, body: bytes) -> dict[str, Any]:
        version_id, etag = landing.put(key, body)
        event = s3_event(landing.bucket, key, version_id, etag, len(body))
        return handler.lambda_handler(event, lambda_context)["results"][0]

    return run


def staged(query: Callable[..., list[tuple[Any, ...]]], columns: str, table: str) -> list:
    return query(f"SELECT {columns} FROM {table} ORDER BY _source_line")


def test_csv_file_is_loaded_then_archived(invoke, landing, query) -> None:
    # GIVEN an RFC 4180 file: quoted fields, a comma, doubled quotes and a CRLF inside quotes
    body = (
        b"pupil_id,school_id,year_group,first_name,last_name,enrolled_at\r\n"
        b'1,10,7,"Ada, Jr.","O""Brien",2026-09-01T08:30:00\r\n'
        b'2,10,,"Line\r\nbreak",Smith,2026-09-01 08:31:00+01:00\r\n'
    )

    # WHEN the handler runs on its event
    result = invoke(PUPILS, body)

    # THEN every row is staged with its load metadata and the file is archived
    assert result["status"] == "loaded"
    assert result["row_count"] == 2
    rows = staged(query, PUPIL_COLUMNS + ", _source_line, _load_id, _source_object", "maths_pupils")
    source = f"s3://{landing.bucket}/{PUPILS}"
    load_id = result["load_id"]
    assert [(*row[:5], _timestamp(row[5]), *row[6:]) for row in rows] == [
        (1, 10, 7, "Ada, Jr.", 'O"Brien', dt.datetime(2026, 9, 1, 8, 30), 2, load_id, source),
        (2, 10, None, "Line\r\nbreak", "Smith", dt.datetime(2026, 9, 1, 7, 31), 3, load_id, source),
    ]
    day = _timestamp(query("SELECT DISTINCT _loaded_at FROM maths_pupils")[0][0])
    assert landing.object_keys() == [f"archive/maths/pupils/{day:%Y/%m/%d}/pupils-2026-11-26.csv"]
    assert landing.read(landing.object_keys()[0]) == body
    assert query("SELECT object_key, row_count, load_id FROM load_ledger") == [
        (PUPILS, 2, result["load_id"])
    ]


def test_event_keys_are_url_decoded(invoke, landing, query) -> None:
    key = "incoming/maths/schools/2026 11/schools+extra é.csv"
    body = b"school_id,urn,name,local_authority,phase,subscribed_on\n1,100001,Hill Top,,,\n"

    result = invoke(key, body)

    assert result["status"] == "loaded"
    assert query("SELECT _source_object FROM maths_schools") == [(f"s3://{landing.bucket}/{key}",)]
    assert landing.object_keys()[0].endswith("/2026 11/schools+extra é.csv")


def test_gzip_csv_with_bom_loads(invoke, query) -> None:
    body = gzip.compress(
        "\ufeffSCHOOL_ID,Name,URN,Phase,Local_Authority,Subscribed_On\n"
        "7,Ávila School,100007,primary,Leeds,2026-09-01\n".encode()
    )

    result = invoke("incoming/maths/schools/schools.csv.gz", body)

    assert result["status"] == "loaded"
    assert query("SELECT school_id, urn, name, phase FROM maths_schools") == [
        (7, "100007", "Ávila School", "primary")
    ]


def test_json_lines_load_with_keys_in_any_case(invoke, query) -> None:
    lines = [
        {
            "attemptId": "a-1",
            "readerId": 5,
            "bookId": 9,
            "correctAnswers": 4,
            "totalQuestions": 5,
            "finishedAt": "2026-11-25T10:00:00Z",
            "device": "tablet",
        },
        {
            "ATTEMPTID": "a-2",
            "readerid": 6,
            "bookId": 9,
            "correctAnswers": 5,
            "totalQuestions": 5,
            "finishedAt": 1764064800,
        },
    ]
    body = gzip.compress("".join(json.dumps(line) + "\n" for line in lines).encode())

    result = invoke("incoming/reading/quiz_attempts/2026/11/25/10/part-0001.gz", body)

    assert result["status"] == "loaded"
    rows = staged(
        query, "attempt_id, reader_id, correct_answers, finished_at", "reading_quiz_attempts"
    )
    assert [row[:3] for row in rows] == [("a-1", 5, 4), ("a-2", 6, 5)]
    assert [_timestamp(row[3]) for row in rows] == [
        dt.datetime(2026, 11, 25, 10, 0),
        dt.datetime(2025, 11, 25, 10, 0),
    ]


def test_stream_envelopes_are_flattened(invoke, query) -> None:
    # GIVEN change envelopes as the stream pipeline writes them, one per line
    envelopes = [
        {
            "table": "LessonProgress",
            "eventName": "INSERT",
            "keys": {"learnerId": 1, "lessonId": "fr-01"},
            "newImage": {"learnerId": 1, "lessonId": "fr-01", "xp": 10, "streakDays": 1},
            "approximateCreationTime": 1764064800,
            "sequenceNumber": "100000000000000000001",
        },
        {
            "table": "LessonProgress",
            "eventName": "MODIFY",
            "keys": {"learnerId": 1, "lessonId": "fr-01"},
            "newImage": {
                "learnerId": 1,
                "lessonId": "fr-01",
                "xp": 25,
                "completedAt": "2026-11-25T10:05:00Z",
            },
            "approximateCreationTime": 1764065100,
            "sequenceNumber": "100000000000000000002",
        },
        {
            "table": "LessonProgress",
            "eventName": "REMOVE",
            "keys": {"learnerId": 1, "lessonId": "fr-01"},
            "approximateCreationTime": 1764065400,
            "sequenceNumber": "100000000000000000003",
        },
    ]
    body = gzip.compress("".join(json.dumps(e) + "\n" for e in envelopes).encode())

    # WHEN the Firehose object arrives
    result = invoke("incoming/languages/lesson_progress/2026/11/25/10/stream-1.gz", body)

    # THEN each envelope is one row: the item's columns plus the change's metadata
    assert result["status"] == "loaded"
    rows = staged(
        query,
        "learner_id, lesson_id, xp, streak_days, completed_at, _event_name, _sequence_number,"
        " _approximate_creation_time",
        "languages_lesson_progress",
    )
    assert [(r[:4], _maybe_timestamp(r[4]), r[5], r[6], _timestamp(r[7])) for r in rows] == [
        (
            (1, "fr-01", 10, 1),
            None,
            "INSERT",
            "100000000000000000001".zfill(40),
            dt.datetime(2025, 11, 25, 10, 0),
        ),
        (
            (1, "fr-01", 25, None),
            dt.datetime(2026, 11, 25, 10, 5),
            "MODIFY",
            "100000000000000000002".zfill(40),
            dt.datetime(2025, 11, 25, 10, 5),
        ),
        (
            (1, "fr-01", None, None),
            None,
            "REMOVE",
            "100000000000000000003".zfill(40),
            dt.datetime(2025, 11, 25, 10, 10),
        ),
    ]


def test_header_only_file_loads_no_rows_and_is_archived(invoke, landing, query) -> None:
    result = invoke(PUPILS, b"pupil_id,school_id,enrolled_at,first_name,last_name,year_group\n")

    assert (result["status"], result["row_count"]) == ("loaded", 0)
    assert query("SELECT COUNT(*) FROM maths_pupils") == [(0,)]
    assert query("SELECT row_count FROM load_ledger") == [(0,)]
    assert [key.split("/")[0] for key in landing.object_keys()] == ["archive"]


def test_unicode_round_trips_exactly(invoke, query) -> None:
    names = ["Zoë", "Łukasz", "José\u0301", "王小明", "さくら", "🦊 Fox 👩‍🏫", "Ελένη"]
    body = "pupil_id,school_id,year_group,first_name,last_name,enrolled_at\n" + "".join(
        f"{number},1,,{name},{name[::-1]},2026-09-01T08:00:00\n"
        for number, name in enumerate(names, start=1)
    )

    invoke(PUPILS, body.encode())

    rows = query("SELECT first_name, last_name FROM maths_pupils ORDER BY pupil_id")
    assert [first.encode() for first, _ in rows] == [name.encode() for name in names]
    assert [last for _, last in rows] == [name[::-1] for name in names]


def test_undeclared_and_hostile_headers_are_dropped(invoke, query) -> None:
    # GIVEN extra columns, one of them named like an injection, declared ones in another order
    body = (
        b'"pupil_id""); DROP TABLE maths_pupils; --",ENROLLED_AT,Pupil_Id,notes,school_id,'
        b" Year_Group ,LAST_NAME,First_Name\n"
        b"x,2026-09-01T08:00:00,5,free text,3,,,\n"
    )

    result = invoke(PUPILS, body)

    assert result["status"] == "loaded"
    assert query("SELECT pupil_id, school_id, year_group, first_name FROM maths_pupils") == [
        (5, 3, None, "")
    ]


# file, line, column, error in the report, error in the alert where it withholds the value
REJECTIONS = {
    "ragged row": (
        HEADER + "1,2,7,A,B,2026-09-01T08:00:00\n2,2,7,A,B\n",
        3,
        None,
        "5 fields where the header has 6",
        None,
    ),
    "bad number": (
        HEADER + "1,2,7,A,B,2026-09-01T08:00:00\n2,two,7,A,B,2026-09-01T08:00:00\n",
        3,
        "school_id",
        "not an integer: 'two'",
        "not an integer: [value withheld]",
    ),
    "bad date": (
        HEADER + "1,2,7,A,B,2026-02-30T08:00:00\n",
        2,
        "enrolled_at",
        "not a timestamp: '2026-02-30T08:00:00' (day is out of range for month)",
        "not a timestamp: [value withheld] (day is out of range for month)",
    ),
    "missing column": (
        "pupil_id,year_group,first_name,last_name,enrolled_at\n1,7,A,B,2026-09-01T08:00:00\n",
        1,
        None,
        "missing declared column(s): school_id",
        None,
    ),
    "hostile header in place of a column": (
        'pupil_id,"school_id\'; DROP TABLE load_ledger; --",year_group,first_name,last_name,'
        "enrolled_at\n1,2,7,A,B,2026-09-01T08:00:00\n",
        1,
        None,
        "missing declared column(s): school_id",
        None,
    ),
    "empty file": ("", 1, None, "empty file: a CSV file needs a header line", None),
    "null in a key column": (
        HEADER + ",2,7,A,B,2026-09-01T08:00:00\n",
        2,
        "pupil_id",
        "empty value in a column declared nullable: false",
        None,
    ),
}


@pytest.mark.parametrize("case", REJECTIONS, ids=list(REJECTIONS))
def test_a_bad_file_is_quarantined_with_its_report_and_an_alert(
    case: str, invoke, landing, query
) -> None:
    body, line, column, error, alert_error = REJECTIONS[case]

    result = invoke(PUPILS, body.encode())

    assert result["status"] == "quarantined"
    report_key = "quarantine/maths/pupils/pupils-2026-11-26.csv.error.json"
    assert landing.object_keys() == ["quarantine/maths/pupils/pupils-2026-11-26.csv", report_key]
    assert landing.read("quarantine/maths/pupils/pupils-2026-11-26.csv") == body.encode()
    report = json.loads(landing.read(report_key))
    expected = {"source": f"s3://{landing.bucket}/{PUPILS}", "line": line, "column": column}
    assert {key: report[key] for key in expected} == expected
    assert report["error"] == error
    assert landing.alerts() == [{**report, "error": alert_error or error}]
    assert query("SELECT COUNT(*) FROM load_ledger") == [(0,)]
    assert query("SELECT COUNT(*) FROM maths_pupils") == [(0,)]


def test_the_alert_withholds_the_offending_value(invoke, landing) -> None:
    # GIVEN a file whose bad value is personal data
    body = HEADER + "1,Jane Doe 1 Acacia Avenue,7,A,B,2026-09-01T08:00:00\n"

    # WHEN it is quarantined
    invoke(PUPILS, body.encode())

    # THEN the report in the bucket quotes the value, the alert names only where and why
    report_key = "quarantine/maths/pupils/pupils-2026-11-26.csv.error.json"
    assert "Jane Doe" in json.loads(landing.read(report_key))["error"]
    [alert] = landing.alerts()
    assert (alert["line"], alert["column"], alert["error"]) == (
        2,
        "school_id",
        "not an integer: [value withheld]",
    )
    assert "Jane Doe" not in json.dumps(alert)


def test_an_alert_that_fails_to_publish_is_sent_on_the_retry(landing, database_url, query) -> None:
    # GIVEN a bad file, and an SNS client whose first publish fails
    body = (HEADER + "1,two,7,A,B,2026-09-01T08:00:00\n").encode()
    version_id, etag = landing.put(PUPILS, body)
    loader = _loader(landing, database_url)
    loader.sns = _PublishFailingOnce(loader.sns)

    # WHEN the first attempt fails on the publish and the event is retried
    with pytest.raises(RuntimeError, match="SNS unavailable"):
        loader.process(landing.bucket, PUPILS, version_id, etag)
    still_incoming = landing.object_keys()
    result = loader.process(landing.bucket, PUPILS, version_id, etag)

    # THEN the file waited in incoming/ for the retry, which quarantined it and sent the alert
    assert PUPILS in still_incoming
    assert result["status"] == "quarantined"
    assert [alert["error"] for alert in landing.alerts()] == ["not an integer: [value withheld]"]
    assert landing.object_keys() == [
        "quarantine/maths/pupils/pupils-2026-11-26.csv",
        "quarantine/maths/pupils/pupils-2026-11-26.csv.error.json",
    ]


def test_a_folder_marker_is_ignored(invoke, landing) -> None:
    # GIVEN the empty object the S3 console's "Create folder" puts under incoming/
    key = "incoming/maths/pupils/"

    # WHEN its event arrives
    result = invoke(key, b"")

    # THEN it is left alone: not loaded, not quarantined, no alert
    assert result == {"status": "ignored", "source": f"s3://{landing.bucket}/{key}"}
    assert landing.object_keys() == [key]
    assert landing.alerts() == []


def test_a_file_of_an_unknown_dataset_is_quarantined(invoke, landing) -> None:
    result = invoke("incoming/maths/teachers/t.csv", b"teacher_id\n1\n")

    assert result["status"] == "quarantined"
    assert landing.object_keys() == [
        "quarantine/maths/teachers/t.csv",
        "quarantine/maths/teachers/t.csv.error.json",
    ]
    assert [alert["error"] for alert in landing.alerts()] == [
        "no dataset maths/teachers in the catalog"
    ]


def test_a_redelivered_event_is_a_no_op(landing, s3_event, lambda_context, query) -> None:
    body = (HEADER + "1,2,7,A,B,2026-09-01T08:00:00\n").encode()
    version_id, etag = landing.put(PUPILS, body)
    event = s3_event(landing.bucket, PUPILS, version_id, etag, len(body))

    first = handler.lambda_handler(event, lambda_context)["results"][0]
    again = handler.lambda_handler(event, lambda_context)["results"][0]

    assert (first["status"], again["status"]) == ("loaded", "gone")
    assert query("SELECT COUNT(*) FROM maths_pupils") == [(1,)]


def test_a_version_loaded_but_not_yet_moved_is_archived_without_loading_again(
    landing, s3_event, lambda_context, query, database_url
) -> None:
    # GIVEN a version that an earlier invocation loaded, which then died before the move
    body = (HEADER + "1,2,7,A,B,2026-09-01T08:00:00\n").encode()
    version_id, etag = landing.put(PUPILS, body)
    event = s3_event(landing.bucket, PUPILS, version_id, etag, len(body))
    first = _loader(landing, database_url)
    first.s3 = _ObjectsThatCannotMove(first.s3)
    with pytest.raises(RuntimeError, match="died before the move"):
        first.process(landing.bucket, PUPILS, version_id, etag)

    # WHEN the event is delivered again
    result = handler.lambda_handler(event, lambda_context)["results"][0]

    # THEN nothing is loaded twice and the file reaches the archive
    assert result["status"] == "already_loaded"
    assert query("SELECT COUNT(*) FROM maths_pupils") == [(1,)]
    assert [key.split("/")[0] for key in landing.object_keys()] == ["archive"]


def test_a_new_version_of_the_same_key_is_new_data(invoke, query) -> None:
    invoke(
        PUPILS,
        (HEADER + "1,2,7,A,B,2026-09-01T08:00:00\n").encode(),
    )
    second = invoke(
        PUPILS,
        (HEADER + "1,3,7,A,B,2026-09-02T08:00:00\n").encode(),
    )

    assert second["status"] == "loaded"
    assert query("SELECT school_id FROM maths_pupils ORDER BY school_id") == [(2,), (3,)]
    assert query("SELECT COUNT(DISTINCT object_version) FROM load_ledger") == [(2,)]


def test_a_loaded_file_is_merged_into_its_reporting_table(invoke, query) -> None:
    # GIVEN a file of two pupils, loaded
    first = invoke(
        PUPILS, (HEADER + "1,2,7,A,B,2026-09-01T08:00:00\n3,2,7,C,D,2026-09-01T08:00:00\n").encode()
    )

    # WHEN a new version of the file changes pupil 3
    second = invoke(PUPILS, (HEADER + "3,5,8,C,D,2026-09-02T08:00:00\n").encode())

    # THEN each result says what its merge did, and the reporting table holds one row a pupil
    assert first["merge"] == {"loads_merged": 1, "rows_upserted": 2, "tombstones": 0}
    assert second["merge"] == {"loads_merged": 1, "rows_upserted": 1, "tombstones": 0}
    assert second["prune"] == {"staging_rows_pruned": 0, "loads_pruned": 0, "tombstones_pruned": 0}
    assert query("SELECT pupil_id, school_id, _load_id FROM maths_pupils_current ORDER BY 1") == [
        (1, 2, first["load_id"]),
        (3, 5, second["load_id"]),
    ]


def test_a_failed_merge_keeps_the_load_for_the_next_merge(invoke, landing, database, query) -> None:
    # GIVEN a loaded file, then a reporting table that has gone (the merge after a load fails)
    invoke(PUPILS, (HEADER + "1,2,7,A,B,2026-09-01T08:00:00\n").encode())
    cursor = database.connection.cursor()
    cursor.execute("DROP TABLE maths_pupils_current")
    database.connection.commit()

    # WHEN a file loads but cannot be merged, and one loads after the table is back
    failed = invoke(PUPILS, (HEADER + "2,2,7,A,B,2026-09-01T08:00:00\n").encode())
    create_schema(database.connection, database.dialect, [MATHS_PUPILS])
    recovered = invoke(PUPILS, (HEADER + "3,2,7,A,B,2026-09-01T08:00:00\n").encode())

    # THEN the failed merge left its load committed and archived, and the next merge took it
    assert (failed["status"], list(failed["merge"]), "prune" in failed) == (
        "loaded",
        ["error"],
        False,
    )
    assert [key.split("/")[0] for key in landing.object_keys()] == ["archive"]
    assert recovered["merge"] == {"loads_merged": 2, "rows_upserted": 2, "tombstones": 0}
    assert query("SELECT pupil_id FROM maths_pupils_current ORDER BY 1") == [(2,), (3,)]


def test_two_concurrent_invocations_load_the_object_once(landing, database_url, query) -> None:
    # GIVEN two function instances given the same event, the first paused inside its
    # transaction after claiming the object and before reading it
    body = "pupil_id,school_id,year_group,first_name,last_name,enrolled_at\n" + "".join(
        f"{n},1,7,A,B,2026-09-01T08:00:00\n" for n in range(1, 1001)
    )
    version_id, etag = landing.put(PUPILS, body.encode())
    claimed, release = threading.Event(), threading.Event()
    first, second = _loader(landing, database_url), _loader(landing, database_url)
    first.s3 = _PausedReads(first.s3, claimed, release)
    results: dict[str, dict[str, Any]] = {}

    def run(name: str, loader: LandingLoader) -> None:
        results[name] = loader.process(landing.bucket, PUPILS, version_id, etag)

    threads = [threading.Thread(target=run, args=("first", first))]
    threads[0].start()
    assert claimed.wait(timeout=60)

    # WHEN the second runs while the first holds its claim, then the first goes on
    threads.append(threading.Thread(target=run, args=("second", second)))
    threads[1].start()
    if not database_url.startswith("sqlite"):
        # PostgreSQL shows the second waiting on the first's ledger key before we go on.
        _wait_for_lock_waiter(query)
    release.set()
    for thread in threads:
        thread.join(timeout=120)

    # THEN the rows are written once, by the first
    assert results["first"]["status"] == "loaded"
    assert results["second"]["status"] in ("already_loaded", "gone")
    assert query("SELECT COUNT(*), COUNT(DISTINCT pupil_id) FROM maths_pupils") == [(1000, 1000)]
    assert query("SELECT COUNT(*) FROM load_ledger") == [(1,)]
    assert [key.split("/")[0] for key in landing.object_keys()] == ["archive"]


@pytest.mark.parametrize(
    "unreachable",
    [
        # Nothing listens on port 1 of the loopback address.
        "postgresql://loader:secret@127.0.0.1:1/staging",
        "sqlite:////nonexistent-directory/staging.db",
    ],
    ids=["postgresql", "sqlite"],
)
def test_a_database_that_is_down_is_retried_not_quarantined(
    unreachable, landing, s3_event, lambda_context, monkeypatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", unreachable)
    monkeypatch.setenv("DATABASE_LOGIN_TIMEOUT_SECONDS", "2")
    body = (HEADER + "1,2,7,A,B,2026-09-01T08:00:00\n").encode()
    version_id, etag = landing.put(PUPILS, body)
    event = s3_event(landing.bucket, PUPILS, version_id, etag, len(body))

    with pytest.raises(DatabaseUnavailableError):
        handler.lambda_handler(event, lambda_context)

    assert landing.object_keys() == [PUPILS]
    assert landing.alerts() == []


def test_the_sample_aws_event_is_accepted(sample_s3_event, lambda_context, landing) -> None:
    # The sample's key is not under incoming/: accepted, and left alone.
    results = handler.lambda_handler(sample_s3_event, lambda_context)["results"]

    assert results == [
        {
            "status": "ignored",
            "source": "s3://lambda-artifacts-deafc19498e3f2df/b21b84d653bb07b05b1e6b33684dc11b",
        }
    ]


def _loader(landing: Any, database_url: str) -> LandingLoader:
    """A second function instance: its own clients and connection."""
    import boto3

    target = parse_target(database_url)
    return LandingLoader(
        s3=boto3.client("s3"),
        sns=boto3.client("sns"),
        catalog=load_catalog(DEFAULT_CATALOG_DIR),
        database=ReusedDatabase(lambda: connect(target)),
        alert_topic_arn=landing.topic_arn,
    )


class _ObjectsThatCannotMove:
    """An S3 client whose copies fail, as if the function died right after its commit."""

    def __init__(self, s3: Any) -> None:
        self._s3 = s3

    def __getattr__(self, name: str) -> Any:
        return getattr(self._s3, name)

    def copy(self, *arguments: Any, **keywords: Any) -> None:
        raise RuntimeError("died before the move")


class _PublishFailingOnce:
    """An SNS client whose first publish fails, as SNS can when throttled or unreachable."""

    def __init__(self, sns: Any) -> None:
        self._sns = sns
        self._failed = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sns, name)

    def publish(self, **arguments: Any) -> dict[str, Any]:
        if not self._failed:
            self._failed = True
            raise RuntimeError("SNS unavailable")
        return self._sns.publish(**arguments)


class _PausedReads:
    """An S3 client whose object bodies signal `claimed` and wait for `release` on first read."""

    def __init__(self, s3: Any, claimed: threading.Event, release: threading.Event) -> None:
        self._s3 = s3
        self._claimed = claimed
        self._release = release

    def __getattr__(self, name: str) -> Any:
        return getattr(self._s3, name)

    def get_object(self, **arguments: Any) -> dict[str, Any]:
        response = self._s3.get_object(**arguments)
        body = response["Body"]
        claimed, release = self._claimed, self._release

        class PausedBody:
            def read(self, size: int = -1) -> bytes:
                # The loader claims the ledger row before it reads the first byte.
                claimed.set()
                assert release.wait(timeout=60)
                return body.read(size)

            def close(self) -> None:
                body.close()

        return {**response, "Body": PausedBody()}


def _wait_for_lock_waiter(query: Callable[..., list[tuple[Any, ...]]]) -> None:
    for _ in range(600):
        waiting = query(
            "SELECT COUNT(*) FROM pg_stat_activity"
            " WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )
        if waiting[0][0]:
            return
        threading.Event().wait(0.1)
    raise AssertionError("the second invocation never waited on the first's claim")


def _timestamp(value: Any) -> dt.datetime:
    """SQLite returns timestamps as ISO text, PostgreSQL as datetimes."""
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)


def _maybe_timestamp(value: Any) -> dt.datetime | None:
    return None if value is None else _timestamp(value)
