"""Extracts end to end: a real PostgreSQL database as the maths platform's replica, the
extractor's handler writing parts to the landing bucket on the emulator, the landing loader's
handler loading each part as its S3 event arrives, and the merge keeping `maths_staff_current`
one row per member of staff, in PostgreSQL and in SQLite.

The emulator runs no triggers: the test lists the new objects and builds their S3 events.
"""

from __future__ import annotations

import gzip
import hashlib
import hmac
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from service_fixtures import CATALOG_DIR
from source_replica import HASH_KEY, LandingBucket, Source, at, email

from functions.catalog import catalog_bundle
from functions.extractor import handler as extractor
from functions.loader import handler as loader

pytestmark = pytest.mark.services

STAFF = "maths/staff"


@pytest.fixture
def pipeline(
    *,
    aws: Any,
    environment: dict[str, str],
    connection_strings: list[str],
    landing_bucket: LandingBucket,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> LandingBucket:
    """Both handlers' environments: the extractor's replicas and the loader's database."""
    bundle = tmp_path / "catalog.json"
    bundle.write_text(catalog_bundle(CATALOG_DIR), encoding="utf-8")
    topic = aws.client("sns").create_topic(Name=f"alerts-{uuid.uuid4().hex[:8]}")["TopicArn"]
    for name, value in {
        **environment,
        "CATALOG_FILE": str(bundle),
        "DATABASE_URL": database_url,
        "ALERT_TOPIC_ARN": topic,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("DATABASE_SECRET_ARN", raising=False)
    extractor.extractor.cache_clear()
    loader.landing_loader.cache_clear()
    yield landing_bucket
    extractor.extractor.cache_clear()
    loader.landing_loader.cache_clear()


def _extract(landing: LandingBucket, context: Any) -> list[str]:
    """Runs the extractor's handler for the staff dataset; returns the parts waiting in
    incoming/ (the loader moves the earlier ones away)."""
    extractor.lambda_handler({"datasets": [STAFF]}, context)
    return landing.object_keys("incoming/maths/staff/")


def _deliver(landing: LandingBucket, keys: list[str], s3_event, context) -> list[dict]:
    """The loader's handler, once per part, with the event S3 sends for its current version."""
    results = []
    for key in keys:
        head = landing.s3.head_object(Bucket=landing.bucket, Key=key)
        event = s3_event(landing.bucket, key, head["VersionId"], head["ETag"], 1)
        results += loader.lambda_handler(event, context)["results"]
    return results


def _email_hash(staff_id: int) -> str:
    return hmac.new(HASH_KEY.encode(), email(staff_id).encode(), hashlib.sha256).hexdigest()


def _current(query: Callable[..., list[tuple]]) -> list[tuple]:
    rows = query(
        "SELECT staff_id, email_hash, role, _deleted FROM maths_staff_current ORDER BY staff_id"
    )
    return [
        (int(staff_id), hashed, role, bool(deleted)) for staff_id, hashed, role, deleted in rows
    ]


def test_the_replicas_rows_become_one_current_row_each_without_clear_values(
    pipeline: LandingBucket, source: Source, query, s3_event, lambda_context
) -> None:
    # GIVEN staff on the replica, one soft-deleted (the catalog's filter keeps it out)
    for staff_id, minutes in ((1, 0), (2, 1), (3, 2)):
        source.staff(staff_id, minutes)
    source.staff(4, 3, deleted=True)

    # WHEN the extractor runs and the loader takes each part as it lands
    first = _extract(pipeline, lambda_context)
    loads = _deliver(pipeline, first, s3_event, lambda_context)

    # THEN the reporting table holds each member once, the email only as its keyed hash
    assert [load["status"] for load in loads] == ["loaded"] * len(first)
    assert _current(query) == [(n, _email_hash(n), "teacher", False) for n in (1, 2, 3)]
    landed = b"".join(
        gzip.decompress(pipeline.body(key)) for key in pipeline.object_keys("archive/")
    )
    assert _email_hash(1).encode() in landed
    assert b"@school.example" not in landed and b"NOTE-SECRET" not in landed

    # AND WHEN two members change and the extractor runs again
    source.staff(2, 10, role="head of maths")
    source.staff(3, 11, role="deputy head")
    second = _extract(pipeline, lambda_context)
    _deliver(pipeline, second, s3_event, lambda_context)

    # THEN only those rows changed, and the boundary rows read again changed nothing
    assert _current(query) == [
        (1, _email_hash(1), "teacher", False),
        (2, _email_hash(2), "head of maths", False),
        (3, _email_hash(3), "deputy head", False),
    ]


def test_an_older_extract_loaded_late_never_overwrites_a_newer_one(
    pipeline: LandingBucket, source: Source, query, s3_event, lambda_context
) -> None:
    # GIVEN two extracts, the second newer, whose parts reach the loader in reverse order
    source.staff(1, 0, role="teacher")
    first = _extract(pipeline, lambda_context)
    source.staff(1, 5, role="head of year")
    second = sorted(set(_extract(pipeline, lambda_context)) - set(first))

    # WHEN the newer parts load first and the older ones after
    _deliver(pipeline, second, s3_event, lambda_context)
    _deliver(pipeline, first, s3_event, lambda_context)

    # THEN the reporting table keeps the newer version, with its watermark as the order key
    assert _current(query) == [(1, _email_hash(1), "head of year", False)]
    (order_key,) = query("SELECT _order_key FROM maths_staff_current")[0]
    assert str(order_key).startswith(str(at(5)).split(".")[0])


def test_a_rerun_after_a_crash_changes_no_reporting_value(
    pipeline: LandingBucket, source: Source, query, s3_event, lambda_context
) -> None:
    # GIVEN an extract loaded and merged
    for staff_id in (1, 2):
        source.staff(staff_id, staff_id)
    parts = _extract(pipeline, lambda_context)
    _deliver(pipeline, parts, s3_event, lambda_context)
    values = (
        "SELECT staff_id, school_id, email_hash, role, updated_at, _order_key, _deleted"
        " FROM maths_staff_current ORDER BY staff_id"
    )
    before = query(values)

    # WHEN the same window is extracted again (the state lost, as after a crash before it was
    # written) and its parts are delivered again
    pipeline.s3.delete_object(Bucket=pipeline.bucket, Key="extract-state/maths/staff.json")
    again = _extract(pipeline, lambda_context)
    results = _deliver(pipeline, again, s3_event, lambda_context)

    # THEN the same objects were written, loaded again (new versions), and no reporting row
    # changed its values (only which load it last came from)
    assert again == parts
    assert all(result["status"] == "loaded" for result in results)
    assert query(values) == before
