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
from datetime import UTC, datetime, timedelta
from typing import Any

from functions.incoming_sweeper.events import object_created_event
from functions.incoming_sweeper.settings import SweeperSettings
from functions.scheduler.working_time import Schedule, running_at, stretch_start

INCOMING_PREFIX = "incoming/"
# The loader's DATABASE_STARTUP_GRACE (functions/loader/settings.py; a test keeps the two
# equal): RDS takes minutes to start, and until then the loader leaves files where they are.
DATABASE_STARTUP_GRACE = timedelta(minutes=20)
# One Invoke call each (tens of milliseconds), well within the function's timeout; the next run,
# 15 minutes on, takes the rest, and the loader's concurrency is not flooded at the start of day.
MAXIMUM_OBJECTS_PER_RUN = 500


def database_up(schedule: Schedule, at: datetime) -> bool:
    """Whether at `at` (timezone-aware) the schedule has had the database running for at least
    DATABASE_STARTUP_GRACE."""
    return running_at(schedule, at) and at - stretch_start(schedule, at) >= DATABASE_STARTUP_GRACE


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
        if not database_up(schedule, now):
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
        not a folder marker (the loader ignores those), not hidden by a delete marker (someone
        deleted the file). Versions, not only current objects: each upload was an event of its
        own, and a version id is what the loader's ledger knows a load by."""
        deleted: set[str] = set()
        paginator = self.s3.get_paginator("list_object_versions")
        for page in paginator.paginate(Bucket=self.settings.landing_bucket, Prefix=INCOMING_PREFIX):
            # A key's entries are listed newest first, so its latest delete marker comes (on this
            # page or an earlier one) before the versions it hides.
            deleted.update(m["Key"] for m in page.get("DeleteMarkers", []) if m["IsLatest"])
            for version in page.get("Versions", []):
                if not version["Key"].endswith("/") and version["Key"] not in deleted:
                    yield version
