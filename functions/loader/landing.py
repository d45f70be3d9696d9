"""One landing-bucket object, end to end: load it, merge its dataset, then archive it; or
quarantine it and alert.

A file that is wrong (RejectedFileError) goes to quarantine with its error report and an alert,
and is done with. A database that cannot be reached raises: the object stays in `incoming/` and
the caller (Lambda's retry of the S3 event) tries again later. A merge that fails after the load
committed is reported in the result and the object archived: the dataset's next merge takes the
load.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from functions.catalog import Catalog, Dataset, UnknownDatasetError
from functions.loader.database import ReusedDatabase
from functions.loader.errors import RejectedFileError
from functions.loader.layout import (
    LandingKey,
    error_report_key,
    is_incoming,
    parse_incoming,
    quarantine_key,
)
from functions.loader.load import load_stream
from functions.loader.merge import merge_after_load
from functions.loader.s3_body import buffered_body
from functions.loader.schema import create_schema
from functions.loader.source import SourceObject

# SNS subjects stop at 100 characters.
SUBJECT_LENGTH = 100


@dataclass
class LandingLoader:
    """Loads landing-bucket objects with one S3 client, SNS client and kept database."""

    s3: Any
    sns: Any
    catalog: Catalog
    database: ReusedDatabase
    alert_topic_arn: str
    clock: Callable[[], datetime] = lambda: datetime.now(UTC).replace(tzinfo=None)

    def __post_init__(self) -> None:
        # Datasets whose tables are known to exist in this container: CREATE ... IF NOT EXISTS
        # runs once.
        self._schema_ready: set[str] = set()

    def process(self, bucket: str, key: str, version_id: str | None, etag: str) -> dict[str, Any]:
        """Loads one object named by an S3 event; the returned dict says what happened."""
        source = SourceObject.s3(bucket, key, version_id, etag)
        # A key ending in "/" is a folder marker (the console's "Create folder"), not a file.
        if not is_incoming(key) or key.endswith("/"):
            return {"status": "ignored", "source": source.uri}
        try:
            return self._load(source)
        except RejectedFileError as rejection:
            self._quarantine(source, rejection)
            return {"status": "quarantined", "source": source.uri, "error": rejection.describe()}

    def _load(self, source: SourceObject) -> dict[str, Any]:
        dataset = self._dataset(source)
        database = self.database.get()
        if dataset.qualified_name not in self._schema_ready:
            create_schema(database.connection, database.dialect, [dataset])
            self._schema_ready.add(dataset.qualified_name)
        try:
            response = self.s3.get_object(**_object_arguments(source))
        except ClientError as error:
            if _is_missing(error):
                # Moved already: by an earlier delivery of this event (archived or quarantined).
                return {"status": "gone", "source": source.uri}
            raise
        loaded_at = self.clock()
        with buffered_body(response["Body"]) as stream:
            result = load_stream(database, dataset, stream, source, loaded_at)
        # Also after `already_loaded`: an earlier invocation may have died before its merge.
        merged = merge_after_load(database, dataset, self.clock())
        # A redelivered event finds the version loaded; the move may not have happened yet.
        self._move(source, _layout_key(source).archive_key(loaded_at))
        return {**result.as_dict(), **merged}

    def _dataset(self, source: SourceObject) -> Dataset:
        landing_key = _layout_key(source)
        try:
            return self.catalog.dataset(landing_key.platform, landing_key.dataset)
        except UnknownDatasetError:
            raise RejectedFileError(
                source.uri, f"no dataset {landing_key.qualified_dataset} in the catalog"
            ) from None

    def _quarantine(self, source: SourceObject, rejection: RejectedFileError) -> None:
        """Reports, alerts, then moves: a failure before the move leaves the object in
        `incoming/` for the retry, which may alert twice but never loses the alert."""
        where = {
            "bucket": source.bucket,
            "key": source.key,
            "version": source.version,
            "quarantined_at": self.clock().isoformat(),
        }
        report = {**rejection.as_report(), **where}
        self.s3.put_object(
            Bucket=source.bucket,
            Key=error_report_key(source.key),
            Body=json.dumps(report, indent=2, ensure_ascii=False).encode("utf-8"),
            ContentType="application/json",
        )
        self.sns.publish(
            TopicArn=self.alert_topic_arn,
            Subject=f"Landing file quarantined: {source.key}"[:SUBJECT_LENGTH],
            Message=json.dumps({**rejection.as_alert(), **where}, indent=2, ensure_ascii=False),
        )
        self._move(source, quarantine_key(source.key))

    def _move(self, source: SourceObject, destination_key: str) -> None:
        """Copies the object's version to `destination_key`, then deletes that version."""
        arguments = _object_arguments(source)
        try:
            # The managed copy switches to multipart above 5 GB, where CopyObject stops.
            self.s3.copy(arguments, source.bucket, destination_key)
        except ClientError as error:
            if _is_missing(error):
                return
            raise
        # Deleting the exact version: a newer upload to the same key must stay in incoming/.
        self.s3.delete_object(**arguments)


def _layout_key(source: SourceObject) -> LandingKey:
    landing_key = parse_incoming(source.key)
    if landing_key is None:
        raise RejectedFileError(source.uri, "the key is not incoming/<platform>/<dataset>/<file>")
    return landing_key


def _object_arguments(source: SourceObject) -> dict[str, str]:
    arguments = {"Bucket": source.bucket, "Key": source.key}
    if not source.version.startswith("etag:"):
        arguments["VersionId"] = source.version
    return arguments


def _is_missing(error: ClientError) -> bool:
    code = error.response.get("Error", {}).get("Code", "")
    return code in ("NoSuchKey", "NoSuchVersion", "404")
