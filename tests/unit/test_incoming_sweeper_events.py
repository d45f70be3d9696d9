"""The sweeper's S3 events: the notification S3 sends, rebuilt from a ListObjectVersions entry."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.data_classes import S3Event

from functions.incoming_sweeper.events import event_time, object_created_event, sequencer

KEY = "incoming/maths/schools/2026 11/schools+extra é.csv"
# A ListObjectVersions entry as boto3 returns it (LastModified timezone-aware).
VERSION = {
    "ETag": '"b6d767d2f8ed5d21a44b0e5886680cb9"',
    "Size": 47,
    "StorageClass": "STANDARD",
    "Key": KEY,
    "VersionId": "3HL4kqtJlcpXroDTDmJ-rmSpXd3dIbrHY",
    "IsLatest": True,
    "LastModified": datetime(2026, 11, 26, 23, 36, 7, 250000, tzinfo=UTC),
}


def test_a_version_becomes_the_record_s3_sends() -> None:
    event = object_created_event("reporting-landing", "eu-west-2", VERSION)

    assert event == {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": "eu-west-2",
                "eventTime": "2026-11-26T23:36:07.250Z",
                "eventName": "ObjectCreated:Put",
                "userIdentity": {"principalId": "incoming-sweeper"},
                "requestParameters": {"sourceIPAddress": ""},
                "responseElements": {"x-amz-request-id": "", "x-amz-id-2": ""},
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": "incoming-sweeper",
                    "bucket": {
                        "name": "reporting-landing",
                        "ownerIdentity": {"principalId": ""},
                        "arn": "arn:aws:s3:::reporting-landing",
                    },
                    "object": {
                        "key": "incoming/maths/schools/2026+11/schools%2Bextra+%C3%A9.csv",
                        "size": 47,
                        "eTag": "b6d767d2f8ed5d21a44b0e5886680cb9",
                        "versionId": "3HL4kqtJlcpXroDTDmJ-rmSpXd3dIbrHY",
                        # 1,795,736,167,250,000 µs since 1970, in hex.
                        "sequencer": "0000066136685BF850",
                    },
                },
            }
        ]
    }


def test_the_loader_reads_back_the_listed_object(s3_event) -> None:
    # The fields the loader's handler reads, through powertools as it reads them, are those of
    # the event the loader's own tests build for the same upload.
    built = S3Event(object_created_event("reporting-landing", "eu-west-2", VERSION))
    expected = S3Event(
        s3_event("reporting-landing", KEY, VERSION["VersionId"], VERSION["ETag"], VERSION["Size"])
    )

    (record,) = built.records
    (reference,) = expected.records
    assert (record.event_source, record.event_name.split(":")[0]) == ("aws:s3", "ObjectCreated")
    assert record.s3.bucket.name == reference.s3.bucket.name == "reporting-landing"
    assert unquote_plus(record.s3.get_object.key) == unquote_plus(reference.s3.get_object.key)
    assert unquote_plus(record.s3.get_object.key) == KEY
    assert record.s3.get_object.version_id == reference.s3.get_object.version_id
    assert record.s3.get_object.etag == reference.s3.get_object.etag
    assert record.s3.get_object.size == reference.s3.get_object.size == 47


def test_an_object_without_versions_has_no_version_id() -> None:
    # An unversioned bucket lists its objects as version "null"; S3's event carries none, and
    # the loader's ledger then knows the load by the ETag, as it did for the first event.
    unversioned = VERSION | {"VersionId": "null"}

    record = object_created_event("reporting-landing", "eu-west-2", unversioned)["Records"][0]

    assert "versionId" not in record["s3"]["object"]
    assert S3Event({"Records": [record]}).record.s3.get_object.version_id is None


def test_event_time_is_utc_with_milliseconds() -> None:
    local = datetime.fromisoformat("2026-07-01T09:30:00.123456+01:00")

    assert event_time(local) == "2026-07-01T08:30:00.123Z"


def test_sequencers_order_the_versions_of_a_key_by_their_time() -> None:
    earlier = sequencer(datetime(2026, 11, 26, 23, 36, 7, tzinfo=UTC))
    later = sequencer(datetime(2026, 11, 26, 23, 36, 8, tzinfo=UTC))

    assert len(earlier) == len(later) == 18
    assert earlier < later
    assert int(later, 16) - int(earlier, 16) == 1_000_000
