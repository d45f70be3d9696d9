"""Which runs of a report are due: the cron times of its schedule that passed within the
catch-up window, each with the period it covers (from the schedule's previous time to its own).

A run's identity is the UTC time it was scheduled for, so a run missed while the server was
stopped is the same run when the server catches up, and is delivered once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from cronsim import CronSim

from functions.report_runner.definitions import ReportDefinition


@dataclass(frozen=True)
class ReportRun:
    """One scheduled run: it reports on [period_start, period_end), both aware datetimes in the
    report's time zone."""

    report: ReportDefinition
    period_start: datetime
    period_end: datetime

    @property
    def stamp(self) -> str:
        """The run's identity in file names: its scheduled time in UTC, e.g. 20261123T0700Z."""
        return f"{self.period_end.astimezone(UTC):%Y%m%dT%H%MZ}"

    @property
    def report_date(self) -> date:
        """The local date the period ends on: the run's folder under reports/<name>/."""
        return self.period_end.date()

    def bound_parameters(self) -> dict[str, object]:
        """The built-in parameters: the period as naive UTC (the reporting tables' time) and
        the local report date."""
        return {
            "period_start": _naive_utc(self.period_start),
            "period_end": _naive_utc(self.period_end),
            "report_date": self.report_date,
        }


def scheduled_runs(report: ReportDefinition, since: datetime, until: datetime) -> list[ReportRun]:
    """The runs scheduled after `since` and at or before `until`, oldest first."""
    zone = ZoneInfo(report.timezone)
    runs = []
    for fire in CronSim(report.schedule, since.astimezone(zone)):
        if fire > until:
            break
        previous = next(CronSim(report.schedule, fire, reverse=True))
        runs.append(ReportRun(report, previous, fire))
    return runs


def catch_up_runs(report: ReportDefinition, now: datetime, catch_up_days: int) -> list[ReportRun]:
    """The runs of the last `catch_up_days` up to `now`: what a runner that was stopped may
    still owe."""
    return scheduled_runs(report, now - timedelta(days=catch_up_days), now)


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)
