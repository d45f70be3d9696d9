"""One sweep: while the reporting database is up, every object in `incoming/` older than the
loader's own attempts is sent back to the loader as the S3 event it would have had.

A file stays in `incoming/` when its event went unprocessed: the database was stopped out of
hours (the loader then leaves it), or the loader's retries ran out. Sending it again is safe: the
loader's ledger makes a reload of a loaded version a no-op, and an object already moved is
`gone`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from functions.incoming_sweeper.events import object_created_event
from functions.incoming_sweeper.settings import SweeperSettings
from functions.working_hours.database_hours import DatabaseHours

INCOMING_PREFIX = "incoming/"
# One Invoke call each (tens of milliseconds), well within the function's timeout; the next run,
# 15 minutes on, takes the rest. A night's backlog reaches the loader a hundred files at a time
# rather than all at once: Lambda queues asynchronous events past the loader's concurrency, and
# a file still queued after 30 minutes would be sent again (harmless, the ledger, but wasted).
MAXIMUM_OBJECTS_PER_RUN = 100


@dataclass(frozen=True)
class LoaderInvoker:
    """Hands an event to the loader as S3 does: an asynchronous invocation, so the loader's own
    retries and failure queue cover it as they cover S3's events."""

    lambda_client: Any
    function_name: str

    def __call__(self, event: dict[str, Any]) -> None:
        self.lambda_client.invoke(
            FunctionName=self.function_name,
            InvocationType="Event",
            Payload=json.dumps(event).encode("utf-8"),
        )


@dataclass
class IncomingSweeper:
    """Sweeps the landing bucket's `incoming/` prefix with one S3 client and one sender."""

    s3: Any
    # Sends one S3 event to the loader (LoaderInvoker in the function).
    send: Callable[[dict[str, Any]], None]
    settings: SweeperSettings
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    maximum_objects: int = MAXIMUM_OBJECTS_PER_RUN

    def sweep(self) -> dict[str, Any]:
        """Sends the old enough objects, one event (and loader invocation) each; returns counts.

        The loader takes events of several records, but one file per invocation keeps what S3
        does: each file has the loader's whole timeout, and its own retries and failure-queue
        entry.
        """
        now = self.clock()
        schedule = self.settings.database_schedule
        summary: dict[str, Any] = {
            "schedule": schedule.name,
            "objects_seen": 0,
            "too_young": 0,
            "resent": 0,
            "capped": False,
        }
        if DatabaseHours(schedule).may_be_stopped(now):
            return {"status": "skipped", **summary}
        region = self.s3.meta.region_name
        cutoff = now - self.settings.minimum_age
        for version in self._files():
            summary["objects_seen"] += 1
            if version["LastModified"] > cutoff:
                summary["too_young"] += 1
                continue
            if summary["resent"] == self.maximum_objects:
                # The listing stops here: the next run starts again from the first key.
                summary["capped"] = True
                break
            self.send(object_created_event(self.settings.landing_bucket, region, version))
            summary["resent"] += 1
        return {"status": "swept", **summary}

    def _files(self) -> Iterator[dict[str, Any]]:
        """Every object version under `incoming/` the loader would have been sent, in key order:
        not a folder marker (the loader ignores those), not deleted (hidden by a delete marker:
        someone deleted the file). Versions, not only current objects: each upload was an event
        of its own, and a version id is what the loader's ledger knows a load by."""
        # The loader deletes the versions it moves by id, which leaves no delete marker.
        last_deleted: dict[str, datetime] = {}
        paginator = self.s3.get_paginator("list_object_versions")
        for page in paginator.paginate(Bucket=self.settings.landing_bucket, Prefix=INCOMING_PREFIX):
            # A key's entries are listed newest first, so a delete marker comes (on this page or
            # an earlier one) before the older versions it hides.
            for marker in page.get("DeleteMarkers", []):
                key, deleted_at = marker["Key"], marker["LastModified"]
                last_deleted[key] = max(deleted_at, last_deleted.get(key, deleted_at))
            for version in page.get("Versions", []):
                key = version["Key"]
                deleted_at = last_deleted.get(key)
                # The current version is newer than any marker: S3's times are to the second, so
                # one written in the second of a delete would otherwise look deleted.
                hidden = (
                    deleted_at is not None
                    and not version["IsLatest"]
                    and version["LastModified"] <= deleted_at
                )
                if not key.endswith("/") and not hidden:
                    yield version
