"""The incoming sweeper against the emulator's S3, its events handed to the real loader handler
with SQLite and PostgreSQL. The emulator runs no Lambda functions: the sweeper's sender is
replaced by one recording the events (the Invoke call itself is checked through botocore's
Stubber in tests/unit/test_incoming_sweeper_sweep.py)."""

from __future__ import annotations

import dataclasses
import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from functions.incoming_sweeper import handler as sweeper_handler
from functions.incoming_sweeper.sweeper import IncomingSweeper
from functions.loader import handler as loader_handler
from functions.working_hours.working_time import schedule_from_dict, schedule_to_dict

pytestmark = pytest.mark.services

REGION = "eu-west-2"
HEADER = "pupil_id,school_id,year_group,first_name,last_name,enrolled_at\n"
# Running at every hour, so whatever the emulator's LastModified says, "now" is working time and
# the database long started.
ALWAYS = schedule_from_dict(
    "always",
    {"timezone": "UTC", "periods": [{"days": ["mon-sun"], "start": "00:00", "stop": "24:00"}]},
)
WEEKDAYS = schedule_from_dict(
    "reporting-office-hours",
    {
        "timezone": "Europe/London",
        "periods": [{"days": ["mon-fri"], "start": "07:00", "stop": "19:00"}],
        "holidays": {"country": "GB", "subdivision": "ENG"},
    },
)
WEDNESDAY_2300 = datetime(2026, 11, 25, 23, 0, tzinfo=UTC)


def schedule_environment(schedule: Any) -> str:
    """DATABASE_SCHEDULE as the deployment writes it."""
    return json.dumps({"name": schedule.name, **schedule_to_dict(schedule)})


def pupils(*ids: int) -> bytes:
    return (HEADER + "".join(f"{n},1,7,A,B,2026-09-01T08:00:00\n" for n in ids)).encode()


class RecordedS3:
    """The sweeper's S3 client, every call it makes recorded by operation name."""

    def __init__(self, s3: Any) -> None:
        self._s3 = s3
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        if name not in ("meta", "get_paginator"):
            self.calls.append(name)
        if name == "get_paginator":
            return lambda operation: (
                self.calls.append(operation) or self._s3.get_paginator(operation)
            )
        return getattr(self._s3, name)


class CopiesFail:
    """An S3 client whose copies fail, as if the loader died right after its commit."""

    def __init__(self, s3: Any) -> None:
        self.s3 = s3

    def __getattr__(self, name: str) -> Any:
        return getattr(self.s3, name)

    def copy(self, *arguments: Any, **keywords: Any) -> None:
        raise RuntimeError("died before the move")


@pytest.fixture
def sweeper_environment(monkeypatch: pytest.MonkeyPatch) -> Callable[[str, Any], None]:
    """Sets the sweeper's environment for a bucket and schedule; its cached factory is rebuilt."""
    # Kept: a test may replace the module's factory, and this fixture's teardown runs first.
    factory = sweeper_handler.incoming_sweeper

    def set_environment(bucket: str, schedule: Any) -> None:
        monkeypatch.setenv("LANDING_BUCKET", bucket)
        monkeypatch.setenv("LOADER_FUNCTION_NAME", "reporting-landing-loader")
        monkeypatch.setenv("DATABASE_SCHEDULE", schedule_environment(schedule))
        monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "incoming-sweeper")
        monkeypatch.delenv("MINIMUM_AGE_MINUTES", raising=False)
        factory.cache_clear()

    yield set_environment
    factory.cache_clear()


def built_sweeper(now: datetime, sent: list[dict[str, Any]]) -> IncomingSweeper:
    """The function's own sweeper (settings and S3 client from its environment), with its
    clock set and its sends recorded; its S3 calls recorded too."""
    sweeper = sweeper_handler.incoming_sweeper()
    return dataclasses.replace(
        sweeper, s3=RecordedS3(sweeper.s3), send=sent.append, clock=lambda: now
    )


def listed_times(s3: Any, bucket: str) -> dict[str, datetime]:
    listing = s3.list_object_versions(Bucket=bucket, Prefix="incoming/")
    return {v["Key"]: v["LastModified"] for v in listing.get("Versions", [])}


def wait_for_the_next_second(after: datetime) -> None:
    """S3 dates objects to the second: a later upload gets a later LastModified."""
    while datetime.now(UTC) < after + timedelta(seconds=1):
        time.sleep(0.05)


def test_old_files_in_incoming_are_loaded_through_the_real_loader(
    landing, sweeper_environment, lambda_context, query
) -> None:
    # GIVEN two files left in incoming/ (out of hours), files archived and quarantined earlier,
    # then, a second later, a file that has just arrived
    sweeper_environment(landing.bucket, ALWAYS)
    old = {
        "incoming/maths/pupils/night-1.csv": pupils(1, 2),
        "incoming/maths/pupils/night 2+é.csv": pupils(3),
    }
    for key, body in old.items():
        landing.put(key, body)
    settled = [
        "archive/maths/pupils/2026/11/24/earlier.csv",
        "quarantine/maths/pupils/bad.csv",
        "quarantine/maths/pupils/bad.csv.error.json",
    ]
    for key in settled:
        landing.put(key, b"settled")
    oldest_young = max(listed_times(landing.s3, landing.bucket).values())
    wait_for_the_next_second(oldest_young)
    young = "incoming/maths/pupils/just-arrived.csv"
    landing.put(young, pupils(4))

    # WHEN the sweeper runs 30 minutes after the old files' upload
    sent: list[dict[str, Any]] = []
    sweeper = built_sweeper(oldest_young + timedelta(minutes=30), sent)
    summary = sweeper.sweep()

    # THEN it listed incoming/ only, and sent one event for each old file
    assert sweeper.s3.calls == ["list_object_versions"]
    assert summary == {
        "status": "swept",
        "schedule": "always",
        "objects_seen": 3,
        "too_young": 1,
        "resent": 2,
        "capped": False,
    }
    assert sorted(len(event["Records"]) for event in sent) == [1, 1]

    # AND the real loader handler takes each event: loaded, merged and archived
    results = [loader_handler.lambda_handler(e, lambda_context)["results"][0] for e in sent]
    assert sorted((r["source"], r["status"], r["row_count"]) for r in results) == sorted(
        (f"s3://{landing.bucket}/{key}", "loaded", len(body.splitlines()) - 1)
        for key, body in old.items()
    )
    assert query("SELECT pupil_id FROM maths_pupils ORDER BY pupil_id") == [(1,), (2,), (3,)]
    assert query("SELECT object_key FROM load_ledger ORDER BY object_key") == sorted(
        (key,) for key in old
    )
    keys = landing.object_keys()
    assert [key for key in keys if key.startswith("incoming/")] == [young]
    assert sorted(key.rsplit("/", 1)[1] for key in keys if key.startswith("archive/")) == sorted(
        ["earlier.csv", *(key.rsplit("/", 1)[1] for key in old)]
    )
    # Archived and quarantined objects are as they were.
    for key in settled:
        assert landing.read(key) == b"settled"


def test_a_version_already_loaded_is_not_loaded_again(
    landing, sweeper_environment, s3_event, lambda_context, query
) -> None:
    # GIVEN a file whose S3 event was loaded, but whose move failed (it is still in incoming/)
    sweeper_environment(landing.bucket, ALWAYS)
    key = "incoming/maths/pupils/moved-late.csv"
    body = pupils(7)
    version_id, etag = landing.put(key, body)
    loader = loader_handler.landing_loader()
    loader.s3 = CopiesFail(loader.s3)
    with pytest.raises(RuntimeError, match="died before the move"):
        loader_handler.lambda_handler(
            s3_event(landing.bucket, key, version_id, etag, len(body)), lambda_context
        )
    loader.s3 = loader.s3.s3
    ((load_id,),) = query("SELECT load_id FROM load_ledger")
    assert landing.object_keys() == [key]

    # WHEN the sweeper sends it again, and the loader runs on that event twice
    sent: list[dict[str, Any]] = []
    last_modified = listed_times(landing.s3, landing.bucket)[key]
    built_sweeper(last_modified + timedelta(minutes=30), sent).sweep()
    (event,) = sent
    again = loader_handler.lambda_handler(event, lambda_context)["results"][0]
    redelivered = loader_handler.lambda_handler(event, lambda_context)["results"][0]

    # THEN the ledger knows the version: no new rows, and the file is archived
    assert (again["status"], again["load_id"]) == ("already_loaded", load_id)
    assert redelivered["status"] == "gone"
    assert query("SELECT pupil_id FROM maths_pupils") == [(7,)]
    assert query("SELECT COUNT(*) FROM load_ledger") == [(1,)]
    assert [k.split("/")[0] for k in landing.object_keys()] == ["archive"]


def test_deleted_files_stay_deleted_and_every_version_is_sent(
    landing, sweeper_environment, lambda_context, query
) -> None:
    # GIVEN a key uploaded twice, a file deleted from incoming/ by hand, and one deleted and
    # then uploaded again
    sweeper_environment(landing.bucket, ALWAYS)
    twice = "incoming/maths/pupils/twice.csv"
    first_version, _ = landing.put(twice, pupils(1))
    second_version, _ = landing.put(twice, pupils(2))
    deleted = "incoming/maths/pupils/deleted.csv"
    landing.put(deleted, pupils(9))
    landing.s3.delete_object(Bucket=landing.bucket, Key=deleted)
    reuploaded = "incoming/maths/pupils/reuploaded.csv"
    landing.put(reuploaded, pupils(8))
    landing.s3.delete_object(Bucket=landing.bucket, Key=reuploaded)
    reuploaded_version, _ = landing.put(reuploaded, pupils(3))
    newest = max(listed_times(landing.s3, landing.bucket).values())

    # WHEN the sweeper runs, and the loader takes its events
    sent: list[dict[str, Any]] = []
    summary = built_sweeper(newest + timedelta(minutes=30), sent).sweep()
    for event in sent:
        loader_handler.lambda_handler(event, lambda_context)

    # THEN both versions of the first were sent and loaded, and of the others only the upload
    # after the delete
    assert sorted(e["Records"][0]["s3"]["object"]["versionId"] for e in sent) == sorted(
        [first_version, second_version, reuploaded_version]
    )
    assert (summary["objects_seen"], summary["resent"]) == (3, 3)
    assert query("SELECT pupil_id FROM maths_pupils ORDER BY pupil_id") == [(1,), (2,), (3,)]
    assert not [key for key in landing.object_keys() if key.startswith("incoming/")]


def test_out_of_hours_nothing_is_listed_or_sent(
    aws, sweeper_environment, lambda_context, monkeypatch
) -> None:
    # GIVEN an old file in incoming/ at 23:00 on a Wednesday (the database stopped)
    s3 = aws.client("s3")
    bucket = f"landing-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_object(Bucket=bucket, Key="incoming/maths/pupils/night.csv", Body=pupils(1))
    sweeper_environment(bucket, WEEKDAYS)
    sent: list[dict[str, Any]] = []
    sweeper = built_sweeper(WEDNESDAY_2300, sent)
    monkeypatch.setattr(sweeper_handler, "incoming_sweeper", lambda: sweeper)

    # WHEN the scheduled run's event reaches the handler
    summary = sweeper_handler.lambda_handler({"source": "schedule"}, lambda_context)

    # THEN it does nothing, and says so
    assert (summary["status"], summary["resent"]) == ("skipped", 0)
    assert (sweeper.s3.calls, sent) == ([], [])


def test_the_handler_sweeps_with_the_environment_it_was_given(
    aws, sweeper_environment, lambda_context, monkeypatch
) -> None:
    # GIVEN an unversioned bucket holding one old file, and a minimum age of 5 minutes
    s3 = aws.client("s3")
    bucket = f"landing-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    key = "incoming/maths/pupils/unversioned.csv"
    s3.put_object(Bucket=bucket, Key=key, Body=pupils(1))
    sweeper_environment(bucket, ALWAYS)
    monkeypatch.setenv("MINIMUM_AGE_MINUTES", "5")
    sent: list[dict[str, Any]] = []
    sweeper = built_sweeper(listed_times(s3, bucket)[key] + timedelta(minutes=5), sent)
    monkeypatch.setattr(sweeper_handler, "incoming_sweeper", lambda: sweeper)

    # WHEN the handler runs
    summary = sweeper_handler.lambda_handler({"source": "schedule"}, lambda_context)

    # THEN it sent the file's event, with no version id (the loader then keys its ledger by
    # the ETag, as for the first event)
    assert (summary["status"], summary["resent"], summary["too_young"]) == ("swept", 1, 0)
    ((record,),) = [event["Records"] for event in sent]
    assert record["awsRegion"] == REGION
    assert record["s3"]["bucket"]["name"] == bucket
    assert record["s3"]["object"]["key"] == key
    assert "versionId" not in record["s3"]["object"]
    assert sweeper.settings.loader_function_name == "reporting-landing-loader"
    assert sweeper.settings.minimum_age == timedelta(minutes=5)
