"""The extractor end to end: a real PostgreSQL database as the source replica (its own database
in the test cluster, its default time zone Europe/Paris), the landing bucket and the secrets on
the emulator, and the parts loaded back with the real loader library.

The test cluster has no TLS certificate, so pyodbc's connect is given the connection string the
extractor builds (which must say `SSLmode=verify-full`) with the mode relaxed to `disable`; host,
port, database and login still come from REPLICAS and the login secret.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import pytest
from service_fixtures import FakeLambdaContext
from source_replica import (
    OVERLAP,
    STAFF_HEADER,
    LandingBucket,
    Source,
    at,
    email,
    email_hash,
    staff_row,
)

from functions.catalog import Catalog, catalog_bundle, load_catalog, parse_platform
from functions.extractor import handler
from functions.extractor.connections import ReplicaConnector, open_odbc
from functions.extractor.runs import Extractor
from functions.extractor.settings import ExtractorSettings
from functions.extractor.window import window_after
from functions.loader.database import connect, parse_target
from functions.loader.load import load_stream
from functions.loader.schema import create_schema
from functions.loader.settings import DEFAULT_CATALOG_DIR
from functions.loader.source import SourceObject

pytestmark = pytest.mark.services
# The context of a scheduled run, with the time a run checks before each page.
SCHEDULED = FakeLambdaContext(function_name="extractor")

CATALOG = load_catalog(DEFAULT_CATALOG_DIR)
STAFF = CATALOG.find("maths/staff")
BOOK_PROGRESS = CATALOG.find("reading/book_progress")
# An integer watermark that is also the key.
(LAB_EVENTS,) = parse_platform(
    {
        "platform": "lab",
        "datasets": [
            {
                "name": "events",
                "source": "test",
                "table": "lab_events",
                "keys": ["event_id"],
                "watermark": "event_id",
                "extract": {"database": "bench", "from": "public.lab_events"},
                "columns": [
                    {"name": "event_id", "type": "integer", "nullable": False},
                    {"name": "kind", "type": "string", "max_length": 20},
                ],
            }
        ],
    },
    source="test",
)


class RecordingCursor:
    """A pyodbc cursor that records each statement it executes."""

    def __init__(self, cursor: Any, statements: list[str]) -> None:
        self._cursor = cursor
        self._statements = statements

    def execute(self, sql: str, *parameters: object) -> Any:
        self._statements.append(sql)
        self._cursor.execute(sql, *parameters)
        return self

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


class RecordingConnection:
    def __init__(self, connection: Any, statements: list[str]) -> None:
        self._connection = connection
        self._statements = statements

    def cursor(self) -> RecordingCursor:
        return RecordingCursor(self._connection.cursor(), self._statements)

    def execute(self, sql: str, *parameters: object) -> Any:
        self._statements.append(sql)
        return self._connection.execute(sql, *parameters)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)


@dataclass
class Run:
    """Runs the extractor library as the handler does, on a catalog the test may change."""

    environment: dict[str, str]
    s3: Any
    secrets: Any
    # Every statement the extractor executed, in order.
    statements: list[str] = field(default_factory=list)
    catalog: Catalog = CATALOG

    def batch_rows(self, rows: int) -> Run:
        """The same run with pages of `rows` (below the catalog's minimum of 100)."""
        datasets = tuple(
            replace(d, extract=replace(d.extract, batch_rows=rows)) if d.extract else d
            for d in (*CATALOG.datasets, LAB_EVENTS)
        )
        return replace(self, catalog=Catalog(datasets))

    def __call__(
        self, *names: str, may_start_page: Callable[[], bool] = lambda: True
    ) -> list[dict[str, object]]:
        extractor = Extractor(
            settings=ExtractorSettings.from_environment(self.environment),
            catalog=self.catalog,
            s3=self.s3,
            secrets=self.secrets,
            connector=ReplicaConnector(
                self.secrets,
                connect=lambda text: RecordingConnection(open_odbc(text), self.statements),
            ),
        )
        return extractor.run(list(names), may_start_page)


@pytest.fixture
def run(
    aws: Any,
    environment: dict[str, str],
    landing_bucket: LandingBucket,
    connection_strings: list[str],
) -> Run:
    # The bucket's client, whose PutObject calls `landing_bucket` records.
    return Run(environment, landing_bucket.s3, aws.client("secretsmanager"))


def staff_parts(window_id: str, count: int) -> list[str]:
    return [f"incoming/maths/staff/{window_id}-{number:05d}.csv.gz" for number in range(count)]


def test_a_first_extract_writes_every_row_in_pages_and_the_state_last(
    run: Run, source: Source, landing_bucket: LandingBucket
) -> None:
    # GIVEN four current staff members and one deleted, pages of two rows
    for staff_id in (1, 2, 3, 4):
        source.staff(staff_id, 10 * staff_id)
    source.staff(5, 15, deleted=True)

    # WHEN the dataset is extracted for the first time
    results = run.batch_rows(2)("maths/staff")

    # THEN every current row is in two parts named after the first window, then the state
    window_id = window_after(STAFF, None, OVERLAP).id
    assert results == [
        {
            "dataset": "maths/staff",
            "status": "extracted",
            "window": window_id,
            "parts": 2,
            "rows": 4,
            "skipped": 0,
            "watermark": "2026-03-01T09:40:00",
        }
    ]
    parts = staff_parts(window_id, 2)
    assert landing_bucket.object_keys() == parts
    assert landing_bucket.rows(parts[0]) == [STAFF_HEADER, staff_row(1, 10), staff_row(2, 20)]
    assert landing_bucket.rows(parts[1]) == [STAFF_HEADER, staff_row(3, 30), staff_row(4, 40)]
    assert landing_bucket.written == [*parts, "extract-state/maths/staff.json"]
    assert landing_bucket.state(STAFF) == {
        "watermark": "2026-03-01T09:40:00",
        "resume_keys": None,
        "window": window_id,
        "parts": 2,
        "rows": 4,
        "part_digests": {
            key: hashlib.sha256(landing_bucket.body(key)).hexdigest() for key in parts
        },
    }


def test_a_later_extract_reads_rows_past_the_watermark_and_the_boundary_rows(
    run: Run, source: Source, landing_bucket: LandingBucket
) -> None:
    # GIVEN a first extract up to 09:40, then an insert and an update
    for staff_id in (1, 2, 3, 4):
        source.staff(staff_id, 10 * staff_id)
    run("maths/staff")
    landing_bucket.written.clear()
    source.staff(6, 50)
    source.staff(1, 55, role="head")

    # WHEN the next run extracts
    results = run("maths/staff")

    # THEN it reads from 09:35 (the watermark less the overlap): the boundary row 4 again, the
    # new row 6 and the updated row 1, one part named after that window
    window_id = window_after(STAFF, at(40), OVERLAP).id
    assert window_after(STAFF, at(40), OVERLAP).start == at(35)
    assert results[0] == {
        "dataset": "maths/staff",
        "status": "extracted",
        "window": window_id,
        "parts": 1,
        "rows": 3,
        "skipped": 0,
        "watermark": "2026-03-01T09:55:00",
    }
    (part,) = staff_parts(window_id, 1)
    assert landing_bucket.written == [part, "extract-state/maths/staff.json"]
    assert landing_bucket.rows(part) == [
        STAFF_HEADER,
        staff_row(4, 40),
        staff_row(6, 50),
        staff_row(1, 55, role="head"),
    ]
    # AND a run with nothing new reads again only the rows within the overlap of 09:55
    again = run("maths/staff")[0]
    assert (again["rows"], again["watermark"]) == (2, "2026-03-01T09:55:00")
    (boundary,) = staff_parts(window_after(STAFF, at(55), OVERLAP).id, 1)
    assert landing_bucket.rows(boundary) == [
        STAFF_HEADER,
        staff_row(6, 50),
        staff_row(1, 55, "head"),
    ]


def test_rows_sharing_a_watermark_across_page_boundaries_are_each_read_once(
    run: Run, source: Source, landing_bucket: LandingBucket
) -> None:
    # GIVEN seven progress rows changed at the same instant, around one changed before
    for reader_id, book_id in [(2, 1), (1, 3), (1, 1), (3, 9), (2, 2), (1, 2), (3, 1)]:
        source.book(reader_id, book_id, pages=reader_id * book_id, finished=False, minutes=30)
    source.book(9, 9, pages=1, finished=True, minutes=20)

    # WHEN they are extracted in pages of two
    results = run.batch_rows(2)("reading/book_progress")

    # THEN the pages follow (watermark, reader_id, book_id) and hold every row exactly once
    window_id = window_after(BOOK_PROGRESS, None, OVERLAP).id
    assert results[0]["parts"] == 4
    assert results[0]["rows"] == 8
    keys = [f"incoming/reading/book_progress/{window_id}-{n:05d}.csv.gz" for n in range(4)]
    assert landing_bucket.object_keys() == keys
    read = [row[:2] for key in keys for row in landing_bucket.rows(key)[1:]]
    assert read == [
        ["9", "9"],
        ["1", "1"],
        ["1", "2"],
        ["1", "3"],
        ["2", "1"],
        ["2", "2"],
        ["3", "1"],
        ["3", "9"],
    ]
    assert [len(landing_bucket.rows(key)) - 1 for key in keys] == [2, 2, 2, 2]
    assert landing_bucket.rows(keys[0])[1] == ["9", "9", "1", "true", "2026-03-01 09:20:00"]


def test_late_rows_at_the_watermark_or_inside_the_overlap_are_picked_up(
    run: Run, source: Source, landing_bucket: LandingBucket
) -> None:
    # GIVEN a first extract up to 09:40 (row 4 the last read)
    for staff_id in (2, 3, 4):
        source.staff(staff_id, 10 * staff_id)
    run("maths/staff")
    first_keys = landing_bucket.object_keys()
    # AND rows committed after it with older watermarks: one at 09:40 itself with a lower key,
    # one inside the 5-minute overlap, one before it
    source.staff(1, 40)
    source.staff(7, 37)
    source.staff(8, 34)

    # WHEN the next run extracts
    run("maths/staff")

    # THEN the rows at the watermark and inside the overlap are read; the one committed more
    # than OVERLAP_SECONDS late is not (the documented bound)
    (part,) = [key for key in landing_bucket.object_keys() if key not in first_keys]
    assert landing_bucket.rows(part) == [
        STAFF_HEADER,
        staff_row(7, 37),
        staff_row(1, 40),
        staff_row(4, 40),
    ]


def test_a_run_that_fails_before_its_state_is_rerun_into_the_same_objects(
    run: Run, source: Source, landing_bucket: LandingBucket
) -> None:
    # GIVEN a first extract, then new rows
    for staff_id in (1, 2, 3, 4):
        source.staff(staff_id, 10 * staff_id)
    run.batch_rows(2)("maths/staff")
    state_before = landing_bucket.state(STAFF)
    source.staff(6, 50)
    source.staff(7, 51)

    # WHEN a run writes its parts but fails to write its state
    def fail_state_write(params: dict[str, Any], **_: Any) -> None:
        if params["Key"].startswith("extract-state/"):
            raise ConnectionError("state write lost")

    landing_bucket.s3.meta.events.register("before-parameter-build.s3.PutObject", fail_state_write)
    failed = run.batch_rows(2)("maths/staff")
    landing_bucket.s3.meta.events.unregister(
        "before-parameter-build.s3.PutObject", fail_state_write
    )

    # THEN the dataset fails and its watermark stays
    assert failed == [
        {"dataset": "maths/staff", "status": "failed", "error": "ConnectionError: state write lost"}
    ]
    assert landing_bucket.state(STAFF) == state_before
    window_id = window_after(STAFF, at(40), OVERLAP).id
    parts = staff_parts(window_id, 2)
    assert [key for key in landing_bucket.object_keys() if window_id in key] == parts

    # WHEN it is rerun
    rerun = run.batch_rows(2)("maths/staff")

    # THEN it writes the same keys with the same bytes, then the state
    assert rerun[0]["window"] == window_id
    assert rerun[0]["parts"] == 2
    for key in parts:
        first, second = landing_bucket.versions(key)
        assert first == second
    assert landing_bucket.rows(parts[0]) == [STAFF_HEADER, staff_row(4, 40), staff_row(6, 50)]
    assert landing_bucket.rows(parts[1]) == [STAFF_HEADER, staff_row(7, 51)]
    assert landing_bucket.state(STAFF)["watermark"] == "2026-03-01T09:51:00"


def test_a_run_out_of_time_stores_its_last_page_and_the_next_goes_on(
    run: Run, source: Source, landing_bucket: LandingBucket
) -> None:
    # GIVEN seven rows, and time for two pages of two
    for staff_id in range(1, 8):
        source.staff(staff_id, 10 * staff_id)
    pages_left = iter([True, True, False])

    # WHEN a run stops early
    partial = run.batch_rows(2)("maths/staff", may_start_page=lambda: next(pages_left))

    # THEN it stores the watermark and key of its last row, to resume after
    assert partial[0]["status"] == "partial"
    assert partial[0]["rows"] == 4
    assert landing_bucket.state(STAFF)["watermark"] == "2026-03-01T09:40:00"
    assert landing_bucket.state(STAFF)["resume_keys"] == [4]

    # WHEN the next run has time
    finished = run.batch_rows(2)("maths/staff")

    # THEN it reads on strictly after that row, and every row has been read once
    assert finished[0]["status"] == "extracted"
    read = [row[0] for key in landing_bucket.object_keys() for row in landing_bucket.rows(key)[1:]]
    assert sorted(read) == [str(staff_id) for staff_id in range(1, 8)]
    assert landing_bucket.state(STAFF)["watermark"] == "2026-03-01T10:10:00"


def test_an_integer_watermark_reads_its_last_value_again(
    run: Run, source: Source, landing_bucket: LandingBucket
) -> None:
    # GIVEN events 1-3 extracted, then events 4 and 5
    for event_id in (1, 2, 3):
        source.execute("INSERT INTO public.lab_events VALUES (?, 'start')", event_id)
    runner = run.batch_rows(100)
    runner("lab/events")
    source.execute("INSERT INTO public.lab_events VALUES (4, 'stop'), (5, NULL)")

    # WHEN the next run extracts
    result = runner("lab/events")[0]

    # THEN it starts at the stored value (>=): event 3 again, then 4 and 5
    window = window_after(LAB_EVENTS, 3, OVERLAP)
    assert result["window"] == window.id
    assert landing_bucket.rows(window.part_key(0)) == [
        ["event_id", "kind"],
        ["3", "start"],
        ["4", "stop"],
        ["5", ""],
    ]
    assert landing_bucket.state(LAB_EVENTS)["watermark"] == 5
    assert 'WHERE ("event_id" >= ?)' in run.statements[-1]


def test_hashed_values_leave_as_keyed_hmac_and_never_in_clear(
    run: Run, source: Source, landing_bucket: LandingBucket
) -> None:
    # GIVEN staff with emails, dates of birth and private notes, one without an email
    for staff_id in (1, 2, 3):
        source.staff(staff_id, staff_id)
    source.execute("UPDATE public.staff SET email = NULL WHERE id = 3")

    # WHEN they are extracted
    run("maths/staff")

    # THEN each email is the HMAC-SHA-256 hex of its text under the hash key, NULL stays empty,
    # and no clear email, birth date or note is in any object of the bucket
    (part,) = landing_bucket.object_keys()
    assert [row[2] for row in landing_bucket.rows(part)[1:]] == [email_hash(1), email_hash(2), ""]
    assert all(len(row[2]) == 64 for row in landing_bucket.rows(part)[1:3])
    every_object = [landing_bucket.body(key) for key in landing_bucket.object_keys("")]
    texts = [
        gzip.decompress(body).decode() if body[:2] == b"\x1f\x8b" else body.decode()
        for body in every_object
    ]
    assert len(texts) == 2  # the part and the state
    for text in texts:
        for staff_id in (1, 2, 3):
            assert email(staff_id) not in text
            assert f"1980-01-{staff_id:02d}" not in text
            assert f"NOTE-SECRET-{staff_id}" not in text


def test_only_declared_source_fields_are_ever_queried(
    run: Run, source: Source, landing_bucket: LandingBucket, connection_strings: list[str]
) -> None:
    # GIVEN staff rows, pages of two
    for staff_id in (1, 2, 3):
        source.staff(staff_id, 10 * staff_id)

    # WHEN they are extracted
    run.batch_rows(2)("maths/staff")

    # THEN the session is set to UTC and every SELECT names exactly the declared source fields;
    # the dropped date of birth and the undeclared note are in no statement
    select = 'SELECT "id", "school_id", "email", "role", "updated_at" FROM "public"."staff"'
    order = 'ORDER BY "updated_at", "id" LIMIT 2'
    after = (
        f'{select} WHERE (deleted_at IS NULL) AND ("updated_at" >= CAST(? AS timestamp))'
        ' AND ("updated_at" > CAST(? AS timestamp) OR'
        f' ("updated_at" = CAST(? AS timestamp) AND ("id" > ?))) {order}'
    )
    assert run.statements == [
        "SET TIME ZONE 'UTC'",
        f"{select} WHERE (deleted_at IS NULL) {order}",
        after,
    ]
    for statement in run.statements:
        assert "date_of_birth" not in statement
        assert "private_note" not in statement
        assert "*" not in statement
    # AND the login came from the secret, over a connection that requires TLS
    source_login = json.loads(run.environment["REPLICAS"])["maths"]["homework"]
    assert connection_strings == [
        f"Driver=PostgreSQL Unicode;Server={source_login['host']};Port={source_login['port']};"
        f"Database={source_login['database']};Uid=reporting;Pwd=reporting;SSLmode=verify-full;"
        "pqopt={sslrootcert=/opt/etc/rds-ca-bundle.pem};BoolsAsChar=0;"
    ]


def test_the_where_filter_keeps_deleted_rows_out(
    run: Run, source: Source, landing_bucket: LandingBucket
) -> None:
    # GIVEN a row extracted, then deleted (soft) with a newer watermark, and a new deleted row
    source.staff(1, 10)
    source.staff(2, 12)
    run("maths/staff")
    source.staff(1, 20, deleted=True)
    source.staff(3, 21, deleted=True)

    # WHEN the next run extracts
    result = run("maths/staff")[0]

    # THEN neither deleted row is read: only the boundary row 2 again
    assert result["rows"] == 1
    (part,) = [key for key in landing_bucket.object_keys() if result["window"] in key]
    assert landing_bucket.rows(part) == [STAFF_HEADER, staff_row(2, 12)]


def test_extracted_parts_load_into_staging_exactly(
    run: Run, source: Source, landing_bucket: LandingBucket, database_url: str, query: Any
) -> None:
    # GIVEN staff and reading progress extracted in pages (one role NULL: CSV writes it empty)
    source.staff(1, 10, role="head")
    source.staff(2, 20, role=None)
    source.staff(3, 30)
    source.book(1, 1, pages=120, finished=True, minutes=5.000001)
    source.book(1, 2, pages=0, finished=False, minutes=5.000001)
    source.book(7, 3, pages=2147483647, finished=False, minutes=6)
    runner = run.batch_rows(2)
    assert [r["status"] for r in runner("maths/staff", "reading/book_progress")] == [
        "extracted",
        "extracted",
    ]

    # WHEN every part is loaded by the loader library
    database = connect(parse_target(database_url))
    create_schema(database.connection, database.dialect, [STAFF, BOOK_PROGRESS])
    for key in landing_bucket.object_keys():
        dataset = STAFF if "/maths/" in key else BOOK_PROGRESS
        head = landing_bucket.s3.head_object(Bucket=landing_bucket.bucket, Key=key)
        source_object = SourceObject.s3(landing_bucket.bucket, key, head["VersionId"], head["ETag"])
        result = load_stream(database, dataset, io.BytesIO(landing_bucket.body(key)), source_object)
        assert result.status == "loaded"
    database.close()

    # THEN the staging rows are exactly the source's, typed as the catalog declares
    staff = query(
        "SELECT staff_id, school_id, email_hash, role, updated_at FROM maths_staff"
        " ORDER BY staff_id"
    )
    assert [(*row[:4], _timestamp(row[4])) for row in staff] == [
        (1, 10, email_hash(1), "head", at(10)),
        (2, 10, email_hash(2), "", at(20)),
        (3, 10, email_hash(3), "teacher", at(30)),
    ]
    progress = query(
        "SELECT reader_id, book_id, pages_read, finished, updated_at FROM reading_book_progress"
        " ORDER BY reader_id, book_id"
    )
    assert [(*row[:3], bool(row[3]), _timestamp(row[4])) for row in progress] == [
        (1, 1, 120, True, datetime(2026, 3, 1, 9, 5, 0, 60)),
        (1, 2, 0, False, datetime(2026, 3, 1, 9, 5, 0, 60)),
        (7, 3, 2147483647, False, at(6)),
    ]


def _timestamp(value: object) -> object:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


@pytest.fixture
def handler_environment(
    environment: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> Iterator[None]:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    bundle = tmp_path / "catalog.json"
    bundle.write_text(catalog_bundle(DEFAULT_CATALOG_DIR), encoding="utf-8")
    monkeypatch.setenv("CATALOG_FILE", str(bundle))
    handler.extractor.cache_clear()
    yield
    handler.extractor.cache_clear()


def test_the_scheduled_handler_extracts_every_dataset_of_the_replicas_platforms(
    handler_environment: None,
    connection_strings: list[str],
    source: Source,
    landing_bucket: LandingBucket,
) -> None:
    # GIVEN rows in both extracted datasets
    source.staff(1, 10)
    source.book(1, 1, pages=5, finished=False, minutes=10)

    # WHEN the schedule invokes the function
    response = handler.lambda_handler({"source": "schedule"}, SCHEDULED)

    # THEN each dataset with an extract on a platform of REPLICAS is extracted, in catalog order
    assert [(r["dataset"], r["status"], r["rows"]) for r in response["results"]] == [
        ("maths/staff", "extracted", 1),
        ("reading/book_progress", "extracted", 1),
    ]
    assert landing_bucket.object_keys("extract-state/") == [
        "extract-state/maths/staff.json",
        "extract-state/reading/book_progress.json",
    ]
    assert len(connection_strings) == 2


def test_a_failing_dataset_fails_the_invocation_after_the_others_ran(
    handler_environment: None,
    connection_strings: list[str],
    source: Source,
    landing_bucket: LandingBucket,
) -> None:
    # GIVEN a staff row, and an event naming a dataset that has no extract
    source.staff(1, 10)

    # WHEN the function is invoked for both
    with pytest.raises(handler.ExtractsFailedError) as raised:
        handler.lambda_handler(
            {"datasets": ["maths/pupils", "maths/staff"]},
            SCHEDULED,
        )

    # THEN the invocation fails naming it, and staff was still extracted
    assert str(raised.value) == (
        "maths/pupils: ExtractConfigError: maths/pupils has no extract in the catalog"
    )
    assert landing_bucket.object_keys("extract-state/") == ["extract-state/maths/staff.json"]


def test_datasets_that_cannot_be_extracted_are_reported_each(
    run: Run, source: Source, landing_bucket: LandingBucket
) -> None:
    # GIVEN REPLICAS without the reading platform's replica
    replicas = json.loads(run.environment["REPLICAS"])
    del replicas["reading"]
    only_maths = replace(run, environment={**run.environment, "REPLICAS": json.dumps(replicas)})
    source.staff(1, 10)

    # WHEN a run names an unknown dataset, one without a replica, and staff
    results = only_maths("maths/nope", "reading/book_progress", "maths/staff")

    # THEN the first two fail with the reason, and staff is extracted
    assert [(r["dataset"], r["status"], r.get("error")) for r in results] == [
        (
            "maths/nope",
            "failed",
            "ExtractConfigError: no dataset maths/nope in the catalog",
        ),
        (
            "reading/book_progress",
            "failed",
            "ExtractConfigError: reading/book_progress reads replica 'library', which REPLICAS"
            " does not list for platform 'reading'",
        ),
        ("maths/staff", "extracted", None),
    ]


def test_an_event_with_datasets_that_are_not_names_is_refused(handler_environment: None) -> None:
    with pytest.raises(handler.InvalidEventError):
        handler.lambda_handler({"datasets": "maths/staff"}, SCHEDULED)


def test_a_run_out_of_time_inside_the_overlap_resumes_after_its_last_row(
    run: Run, source: Source, landing_bucket: LandingBucket
) -> None:
    # GIVEN a first extract up to 09:40, then rows committed late inside its overlap
    source.staff(1, 40)
    run("maths/staff")
    for staff_id, minutes in ((2, 36), (3, 37), (4, 38)):
        source.staff(staff_id, minutes)

    # WHEN the next run has time for one page, which ends before 09:40
    partial = run.batch_rows(2)("maths/staff", may_start_page=iter([True, False]).__next__)

    # THEN it stores that page's last row, and the run after reads on from there, no overlap
    assert (partial[0]["status"], partial[0]["watermark"]) == ("partial", "2026-03-01T09:37:00")
    assert landing_bucket.state(STAFF)["resume_keys"] == [3]
    finished = run.batch_rows(2)("maths/staff")[0]
    (part,) = staff_parts(finished["window"], 1)
    assert landing_bucket.rows(part) == [STAFF_HEADER, staff_row(4, 38), staff_row(1, 40)]
    assert landing_bucket.state(STAFF)["resume_keys"] is None


def test_more_rows_at_one_watermark_than_a_run_reads_are_each_extracted_once(
    run: Run, source: Source, landing_bucket: LandingBucket
) -> None:
    # GIVEN ten rows changed by one bulk update (one watermark), and time for two pages of two
    for staff_id in range(1, 11):
        source.staff(staff_id, 40)
    runner = run.batch_rows(2)

    # WHEN three runs extract it
    statuses = [
        runner("maths/staff", may_start_page=iter([True, True, False]).__next__)[0]["status"]
        for _ in range(3)
    ]

    # THEN each run went on after the last row of the one before: every row was read once
    assert statuses == ["partial", "partial", "extracted"]
    read = [
        row[0]
        for key in landing_bucket.object_keys()
        for body in landing_bucket.versions(key)
        for row in list(csv.reader(io.StringIO(gzip.decompress(body).decode())))[1:]
    ]
    assert sorted(read, key=int) == [str(staff_id) for staff_id in range(1, 11)]
    assert landing_bucket.state(STAFF)["resume_keys"] is None


def test_a_run_with_no_source_change_writes_nothing(
    run: Run, source: Source, landing_bucket: LandingBucket
) -> None:
    # GIVEN an extract, and a second run that read the rows of its overlap into a new window
    for staff_id in (1, 2, 3, 4):
        source.staff(staff_id, 10 * staff_id)
    run("maths/staff")
    run("maths/staff")
    (boundary,) = staff_parts(window_after(STAFF, at(40), OVERLAP).id, 1)
    landing_bucket.written.clear()

    # WHEN a run finds the same rows in the same window
    (result,) = run("maths/staff")

    # THEN it writes no part and no state: no new version reaches the loader
    assert (result["status"], result["parts"], result["skipped"]) == ("unchanged", 1, 1)
    assert landing_bucket.written == []
    assert len(landing_bucket.versions(boundary)) == 1

    # AND WHEN a row commits late inside that window, its part is written again
    source.staff(7, 38)
    (changed,) = run("maths/staff")
    assert (changed["status"], changed["skipped"]) == ("extracted", 0)
    assert landing_bucket.written == [boundary, "extract-state/maths/staff.json"]
    assert landing_bucket.rows(boundary) == [STAFF_HEADER, staff_row(7, 38), staff_row(4, 40)]
