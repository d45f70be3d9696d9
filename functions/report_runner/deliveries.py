"""The reports bucket: where a run's file goes, and the delivery record that makes a run send
its email once.

Layout: `reports/<name>/<local date>/<name>_<stamp>.<format>` for the file, and beside it
`<name>_<stamp>.delivery.json`, the record. The record is created with `If-None-Match: *` before
the email is sent (a claim no second runner can also win) and says `delivered` once SES took the
email. A claim found still `sending` means a runner stopped mid-send: whether the email left is
unknown, so it is reported once (`unconfirmed`) and never sent again by itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from functions.report_runner.outputs import CONTENT_TYPES
from functions.report_runner.periods import ReportRun

REPORTS_PREFIX = "reports/"
RECORD_SUFFIX = ".delivery.json"
SENDING, DELIVERED, UNCONFIRMED = "sending", "delivered", "unconfirmed"


def file_key(run: ReportRun) -> str:
    report = run.report
    return (
        f"{REPORTS_PREFIX}{report.name}/{run.report_date.isoformat()}/"
        f"{report.name}_{run.stamp}.{report.format}"
    )


def record_key(run: ReportRun) -> str:
    return file_key(run).rsplit(".", 1)[0] + RECORD_SUFFIX


@dataclass
class ReportsBucket:
    """The bucket, its SSE-KMS key, and one S3 client."""

    s3: Any
    bucket: str
    key_arn: str

    def records(self, name: str, since: datetime) -> dict[str, str]:
        """Record key -> state of report `name`'s runs from the local date of `since` on (one
        listing, from that date's folder)."""
        prefix = f"{REPORTS_PREFIX}{name}/"
        start_after = f"{prefix}{since.date() - timedelta(days=1)}/~"
        states = {}
        paginator = self.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix, StartAfter=start_after):
            for item in page.get("Contents", []):
                if item["Key"].endswith(RECORD_SUFFIX):
                    states[item["Key"]] = self._state(item["Key"])
        return states

    def upload(self, run: ReportRun, path: Path) -> str:
        """Uploads the run's file (multipart when large), encrypted with the reports key."""
        key = file_key(run)
        self.s3.upload_file(
            str(path),
            self.bucket,
            key,
            ExtraArgs={
                "ServerSideEncryption": "aws:kms",
                "SSEKMSKeyId": self.key_arn,
                "ContentType": CONTENT_TYPES[run.report.format],
                "ContentDisposition": f'attachment; filename="{key.rsplit("/", 1)[1]}"',
            },
        )
        return key

    def claim(self, run: ReportRun, details: dict[str, object]) -> bool:
        """Creates the run's record as `sending`; False when a record already exists."""
        try:
            self._put_record(run, {**details, "state": SENDING}, IfNoneMatch="*")
        except ClientError as error:
            if error.response["Error"]["Code"] in ("PreconditionFailed", "412"):
                return False
            raise
        return True

    def release(self, run: ReportRun) -> None:
        """Deletes a claim whose email SES refused, so the next run tries again."""
        self.s3.delete_object(Bucket=self.bucket, Key=record_key(run))

    def mark(self, run: ReportRun, details: dict[str, object], state: str) -> None:
        self._put_record(run, {**details, "state": state})

    def mark_unconfirmed(self, key: str) -> None:
        record = json.loads(self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read())
        record.update(state=UNCONFIRMED, reported_at=datetime.now(UTC).isoformat())
        self._put(key, record)

    def link(self, key: str, expires: timedelta) -> str:
        """A presigned GET of `key`, valid for `expires` (and no longer than the credentials
        that sign it)."""
        return self.s3.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": key},
            ExpiresIn=int(expires.total_seconds()),
        )

    def _state(self, key: str) -> str:
        body = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        return json.loads(body).get("state", SENDING)

    def _put_record(self, run: ReportRun, record: dict[str, object], **conditions: str) -> None:
        self._put(record_key(run), record, **conditions)

    def _put(self, key: str, record: dict[str, object], **conditions: str) -> None:
        self.s3.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=json.dumps(record, indent=2, default=str).encode(),
            ContentType="application/json",
            ServerSideEncryption="aws:kms",
            SSEKMSKeyId=self.key_arn,
            **conditions,
        )
