"""One run of the freshness check: read the ledger, assess each dataset, alert once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from functions.freshness.last_loads import last_successful_loads
from functions.freshness.settings import FreshnessSettings
from functions.freshness.staleness import alert_body, alert_subject, assess
from functions.loader.database import Database
from functions.working_hours.database_hours import DatabaseHours


@dataclass
class FreshnessCheck:
    """Checks the watched datasets with one SNS client and a way to open the database."""

    settings: FreshnessSettings
    open_database: Callable[[], Database]
    sns: Any
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    def run(self) -> dict[str, Any]:
        """Checks now; returns the summary the handler logs. Database and SNS errors raise."""
        now = self.clock()
        schedule = self.settings.schedule
        summary: dict[str, Any] = {"schedule": schedule.name, "checked_at": now.isoformat()}
        if DatabaseHours(schedule).may_be_stopped(now):
            # Out of hours the database is stopped (and no hours count towards any window);
            # in the first minutes of the schedule it may still be starting (the loader's
            # grace): a failed connection then would be a false alarm.
            return {**summary, "status": "skipped", "datasets": [], "stale": []}
        # Opened per run and closed, not kept: the check runs a few times a day, and a kept
        # connection would outlive each evening's database stop.
        database = self.open_database()
        try:
            last_loads = last_successful_loads(database, sorted(self.settings.windows))
        finally:
            database.close()
        results = assess(schedule, self.settings.windows, last_loads, now)
        stale = [result for result in results if result.stale]
        message_id = None
        if stale:
            message_id = self.sns.publish(
                TopicArn=self.settings.alert_topic_arn,
                Subject=alert_subject(stale),
                Message=alert_body(stale, schedule, now),
            )["MessageId"]
        return {
            **summary,
            "status": "checked",
            "datasets": [result.as_dict() for result in results],
            "stale": [result.dataset for result in stale],
            "alert_message_id": message_id,
        }
