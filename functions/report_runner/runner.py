"""One pass of the report runner: find the runs due (catching up on any missed while the server
was stopped), and deliver each: query, file, upload, record, email.

A failing report is alerted on the ops topic and retried on the next pass; it never stops the
other reports. A database the schedule has stopped is waited for without an alert.
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from functions.loader.database import Database
from functions.loader.errors import DatabaseStoppedError, DatabaseUnavailableError
from functions.report_runner.definitions import ReportDefinition
from functions.report_runner.deliveries import (
    DELIVERED,
    SENDING,
    ReportsBucket,
    file_key,
    record_key,
)
from functions.report_runner.email import report_email, send_report_email
from functions.report_runner.outputs import ReportTooLargeError, write_report
from functions.report_runner.periods import ReportRun, catch_up_runs
from functions.report_runner.query import report_query
from functions.report_runner.settings import RunnerSettings

logger = logging.getLogger("report_runner")
# SNS subjects stop at 100 characters.
MAX_SUBJECT = 100


@dataclass
class PassSummary:
    """What one pass did, printed as JSON by the command."""

    now: str
    delivered: list[dict[str, object]] = field(default_factory=list)
    failed: list[dict[str, object]] = field(default_factory=list)
    unconfirmed: list[str] = field(default_factory=list)
    # Runs left for a later pass because the database is stopped by its schedule.
    waiting: list[str] = field(default_factory=list)


@dataclass
class ReportRunner:
    settings: RunnerSettings
    reports: tuple[ReportDefinition, ...]
    bucket: ReportsBucket
    ses: Any
    sns: Any
    open_database: Callable[[], Database]
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    def due(self, summary: PassSummary | None = None) -> list[ReportRun]:
        """The runs of the catch-up window with no delivery record since the report's first
        record there, oldest first per report (only the latest when there is no record).

        With a `summary`, a record left `sending` by an interrupted pass is reported there and
        on the ops topic, once, and marked `unconfirmed`."""
        now = self.clock()
        due = []
        for report in self.reports:
            runs = catch_up_runs(report, now, self.settings.catch_up_days)
            if not runs:
                continue
            records = self.bucket.records(report.name, runs[0].period_end)
            if records:
                # Runs before the report's first delivery in the window were never owed.
                first = min(records)
                runs = [run for run in runs if record_key(run) >= first]
            else:
                # A new report, or one stopped for longer than the window: no backfill, only
                # its latest run.
                runs = runs[-1:]
            for run in runs:
                state = records.get(record_key(run))
                if state is None:
                    due.append(run)
                elif state == SENDING and summary is not None:
                    self._unconfirmed(run, summary)
        return due

    def run_pass(self) -> PassSummary:
        summary = PassSummary(now=self.clock().isoformat())
        due = self.due(summary)
        if not due:
            return summary
        try:
            database = self.open_database()
        except DatabaseStoppedError as error:
            logger.info("database stopped by its schedule; %d runs wait: %s", len(due), error)
            summary.waiting = [f"{run.report.name} {run.stamp}" for run in due]
            return summary
        except DatabaseUnavailableError as error:
            for run in due:
                self._failed(run, summary, f"the reporting database is unavailable: {error}")
            return summary
        try:
            for run in due:
                self._deliver(database, run, summary)
        finally:
            database.close()
        return summary

    def _deliver(self, database: Database, run: ReportRun, summary: PassSummary) -> None:
        report = run.report
        with tempfile.TemporaryDirectory(dir=self.settings.work_dir) as directory:
            path = Path(directory) / file_key(run).rsplit("/", 1)[1]
            try:
                with report_query(database, run) as result:
                    rows = write_report(path, report.format, result.columns, result.rows)
                key = self.bucket.upload(run, path)
            except (database.driver.Error, ReportTooLargeError, ClientError, OSError) as error:
                self._failed(run, summary, f"{type(error).__name__}: {error}")
                return
            size = path.stat().st_size
        details = {
            "report": report.name,
            "period_start": run.period_start.isoformat(),
            "period_end": run.period_end.isoformat(),
            "file": key,
            "rows": rows,
            "bytes": size,
            "recipients": list(report.recipients),
        }
        if not self.bucket.claim(run, details):
            logger.info("%s %s: another pass claimed it", report.name, run.stamp)
            return
        signed_at = self.clock()
        email = report_email(
            run,
            rows=rows,
            size=size,
            location=f"s3://{self.bucket.bucket}/{key}",
            link=self.bucket.link(key, self.settings.link_expiry),
            link_expires=signed_at + self.settings.link_expiry,
        )
        try:
            message_id = send_report_email(self.ses, self.settings.sender, run, email)
        except ClientError as error:
            self.bucket.release(run)
            self._failed(run, summary, f"SES refused the email: {error}")
            return
        delivered = {**details, "ses_message_id": message_id, "sent_at": signed_at.isoformat()}
        self.bucket.mark(run, delivered, DELIVERED)
        logger.info("%s %s: delivered %d rows to %s", report.name, run.stamp, rows, key)
        summary.delivered.append(delivered)

    def _failed(self, run: ReportRun, summary: PassSummary, problem: str) -> None:
        logger.error("%s %s: %s", run.report.name, run.stamp, problem)
        failure = {"report": run.report.name, "run": run.stamp, "problem": problem}
        summary.failed.append(failure)
        self._alert(f"Report failed: {run.report.name} {run.stamp}", failure)

    def _unconfirmed(self, run: ReportRun, summary: PassSummary) -> None:
        problem = (
            "a pass stopped while sending this run's email: it may or may not have been sent, "
            f"and is not sent again; delete {record_key(run)} to send it"
        )
        logger.warning("%s %s: %s", run.report.name, run.stamp, problem)
        self.bucket.mark_unconfirmed(record_key(run))
        summary.unconfirmed.append(f"{run.report.name} {run.stamp}")
        self._alert(
            f"Report email unconfirmed: {run.report.name} {run.stamp}",
            {"report": run.report.name, "run": run.stamp, "problem": problem},
        )

    def _alert(self, subject: str, details: dict[str, object]) -> None:
        self.sns.publish(
            TopicArn=self.settings.alert_topic_arn,
            Subject=subject[:MAX_SUBJECT],
            Message=json.dumps({"source": "report-runner", **details}, indent=2),
        )
