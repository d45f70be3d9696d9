"""One sweep over a listing, with a recorded S3 client and sender; and the Invoke call itself
through botocore's Stubber."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from functions.incoming_sweeper.events import object_created_event
from functions.incoming_sweeper.settings import SweeperSettings
from functions.incoming_sweeper.sweeper import (
    IncomingSweeper,
    LoaderInvoker,
)
from functions.working_hours.working_time import schedule_from_dict

WEEKDAYS = schedule_from_dict(
    "reporting-office-hours",
    {"timezone": "UTC", "periods": [{"days": ["mon-fri"], "start": "07:00", "stop": "19:00"}]},
)
SETTINGS = SweeperSettings(
    landing_bucket="reporting-landing",
    loader_function_name="reporting-landing-loader",
    database_schedule=WEEKDAYS,
    minimum_age=timedelta(minutes=30),
)
WEDNESDAY_1000 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def version(key: str, minutes_old: int, version_id: str = "v1", latest: bool = True) -> dict:
    return {
        "Key": key,
        "VersionId": version_id,
        "IsLatest": latest,
        "ETag": '"0cc175b9c0f1b6a831c399e269772661"',
        "Size": 1,
        "LastModified": WEDNESDAY_1000 - timedelta(minutes=minutes_old),
    }


def marker(key: str, minutes_old: int, latest: bool = True) -> dict:
    return {
        "Key": key,
        "VersionId": "m1",
        "IsLatest": latest,
        "LastModified": WEDNESDAY_1000 - timedelta(minutes=minutes_old),
    }


class ListedBucket:
    """An S3 client whose ListObjectVersions pages are given; records what was listed."""

    meta = SimpleNamespace(region_name="eu-west-2")

    def __init__(self, pages: list[dict[str, Any]]) -> None:
        self.pages = pages
        self.listings: list[dict[str, Any]] = []

    def get_paginator(self, operation: str) -> ListedBucket:
        assert operation == "list_object_versions"
        return self

    def paginate(self, **arguments: Any) -> Any:
        self.listings.append(arguments)
        yield from self.pages


def sweeper(pages: list[dict[str, Any]], sent: list, now: datetime = WEDNESDAY_1000, **options):
    return IncomingSweeper(
        s3=ListedBucket(pages), send=sent.append, settings=SETTINGS, clock=lambda: now, **options
    )


def test_old_enough_objects_are_sent_one_event_each() -> None:
    # GIVEN one object older than the minimum age, one exactly as old, one younger
    pages = [
        {
            "Versions": [
                version("incoming/maths/pupils/a.csv", 31),
                version("incoming/maths/pupils/b.csv", 30),
                version("incoming/maths/pupils/c.csv", 29),
            ]
        }
    ]
    sent: list[dict[str, Any]] = []
    run = sweeper(pages, sent)

    # WHEN a sweep runs in working hours
    summary = run.sweep()

    # THEN only incoming/ is listed, and the two old enough go to the loader
    assert run.s3.listings == [{"Bucket": "reporting-landing", "Prefix": "incoming/"}]
    assert sent == [
        object_created_event("reporting-landing", "eu-west-2", pages[0]["Versions"][0]),
        object_created_event("reporting-landing", "eu-west-2", pages[0]["Versions"][1]),
    ]
    assert summary == {
        "status": "swept",
        "schedule": "reporting-office-hours",
        "objects_seen": 3,
        "too_young": 1,
        "resent": 2,
        "capped": False,
    }


def test_deleted_files_and_folder_markers_are_not_sent_every_live_version_is() -> None:
    # GIVEN a key deleted by hand (its delete marker on the page before its version), a folder
    # marker, a key uploaded twice, and a key deleted and then uploaded again
    pages = [
        {"DeleteMarkers": [marker("incoming/maths/pupils/deleted.csv", 80)]},
        {
            "Versions": [
                version("incoming/maths/pupils/deleted.csv", 90, latest=False),
                version("incoming/maths/pupils/", 90),
                version("incoming/maths/pupils/reuploaded.csv", 60, "v2"),
                version("incoming/maths/pupils/reuploaded.csv", 90, "v1", latest=False),
                version("incoming/maths/pupils/twice.csv", 60, "v2"),
                version("incoming/maths/pupils/twice.csv", 90, "v1", latest=False),
            ],
            "DeleteMarkers": [marker("incoming/maths/pupils/reuploaded.csv", 75, latest=False)],
        },
    ]
    sent: list[dict[str, Any]] = []

    # WHEN a sweep runs
    summary = sweeper(pages, sent).sweep()

    # THEN both versions of the key uploaded twice are sent, and of the other only what came
    # after its deletion
    assert [
        (e["Records"][0]["s3"]["object"]["key"], e["Records"][0]["s3"]["object"]["versionId"])
        for e in sent
    ] == [
        ("incoming/maths/pupils/reuploaded.csv", "v2"),
        ("incoming/maths/pupils/twice.csv", "v2"),
        ("incoming/maths/pupils/twice.csv", "v1"),
    ]
    assert (summary["objects_seen"], summary["resent"]) == (3, 3)


def test_the_current_version_is_sent_even_when_written_in_the_second_of_a_delete() -> None:
    pages = [
        {
            "Versions": [version("incoming/maths/pupils/a.csv", 60, "v2")],
            "DeleteMarkers": [marker("incoming/maths/pupils/a.csv", 60, latest=False)],
        }
    ]
    sent: list[dict[str, Any]] = []

    assert sweeper(pages, sent).sweep()["resent"] == 1


def test_a_run_sends_at_most_its_cap() -> None:
    pages = [{"Versions": [version(f"incoming/maths/pupils/{n}.csv", 60) for n in range(5)]}]
    sent: list[dict[str, Any]] = []

    summary = sweeper(pages, sent, maximum_objects=3).sweep()

    assert len(sent) == 3
    assert (summary["resent"], summary["capped"]) == (3, True)


@pytest.mark.parametrize(
    "now",
    [
        datetime(2026, 11, 25, 23, 0, tzinfo=UTC),
        # Started at 07:00, not yet up.
        datetime(2026, 11, 25, 7, 10, tzinfo=UTC),
        datetime(2026, 11, 28, 12, 0, tzinfo=UTC),
    ],
    ids=["23:00", "starting", "saturday"],
)
def test_while_the_database_is_stopped_or_starting_nothing_is_listed_or_sent(now) -> None:
    pages = [{"Versions": [version("incoming/maths/pupils/a.csv", 600)]}]
    sent: list[dict[str, Any]] = []
    run = sweeper(pages, sent, now=now)

    summary = run.sweep()

    assert (run.s3.listings, sent) == ([], [])
    assert summary == {
        "status": "skipped",
        "schedule": "reporting-office-hours",
        "objects_seen": 0,
        "too_young": 0,
        "resent": 0,
        "capped": False,
    }


def test_the_loader_is_invoked_asynchronously_with_the_event() -> None:
    # GIVEN a real Lambda client whose requests botocore's Stubber checks (nothing is sent)
    client = boto3.client(
        "lambda",
        region_name="eu-west-2",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    event = object_created_event(
        "reporting-landing", "eu-west-2", version("incoming/maths/pupils/a b.csv", 60)
    )
    with Stubber(client) as stubber:
        stubber.add_response(
            "invoke",
            {"StatusCode": 202, "Payload": io.BytesIO(b"")},
            {
                "FunctionName": "reporting-landing-loader",
                "InvocationType": "Event",
                "Payload": json.dumps(event).encode("utf-8"),
            },
        )

        # WHEN the invoker sends it
        LoaderInvoker(client, "reporting-landing-loader")(event)

        # THEN exactly that Invoke request was made
        stubber.assert_no_pending_responses()
