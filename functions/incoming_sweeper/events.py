"""The S3 `ObjectCreated` event the loader would have had for an object version, rebuilt from
its ListObjectVersions entry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote_plus

# Marks the sweeper's events where S3 would name its notification configuration and the
# uploader, neither of which a listing tells.
SWEEPER_ORIGIN = "incoming-sweeper"
# What ListObjectVersions says for an object of a bucket never versioned (or written while
# versioning was suspended); its S3 event carries no versionId.
NULL_VERSION = "null"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def object_created_event(bucket: str, region: str, version: dict[str, Any]) -> dict[str, Any]:
    """One record, as S3 notifies it: the key URL-encoded, the ETag unquoted, the version id
    unless the object has none. The upload's request (its caller, address and request ids) is
    unknown: those fields are left empty, and the configuration id names the sweeper."""
    last_modified: datetime = version["LastModified"]
    s3_object: dict[str, Any] = {
        # S3 sends keys URL-encoded, a space as "+"; the loader decodes them.
        "key": quote_plus(version["Key"], safe="/"),
        "size": version["Size"],
        "eTag": version["ETag"].strip('"'),
    }
    if version["VersionId"] != NULL_VERSION:
        s3_object["versionId"] = version["VersionId"]
    s3_object["sequencer"] = sequencer(last_modified)
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": region,
                "eventTime": event_time(last_modified),
                # The listing does not say how the object was written; Put is the usual way.
                "eventName": "ObjectCreated:Put",
                "userIdentity": {"principalId": SWEEPER_ORIGIN},
                "requestParameters": {"sourceIPAddress": ""},
                "responseElements": {"x-amz-request-id": "", "x-amz-id-2": ""},
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": SWEEPER_ORIGIN,
                    "bucket": {
                        "name": bucket,
                        "ownerIdentity": {"principalId": ""},
                        "arn": f"arn:aws:s3:::{bucket}",
                    },
                    "object": s3_object,
                },
            }
        ]
    }


def event_time(at: datetime) -> str:
    """ISO 8601 in UTC with milliseconds, as S3 writes `eventTime`."""
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def sequencer(last_modified: datetime) -> str:
    """Upper-case hex of the microseconds since 1970: orders the sweeper's events for one key
    as S3's sequencer does; not comparable with the sequencers S3 itself sent."""
    return f"{(last_modified - EPOCH) // timedelta(microseconds=1):018X}"
