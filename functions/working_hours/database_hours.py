"""When the reporting database is up: its scheduler stops it outside its schedule, and RDS takes
minutes to start it again. The loader, the incoming sweeper and the freshness check read its
schedule from one environment variable and agree on what "up" means."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from functions.working_hours.working_time import (
    Schedule,
    ScheduleError,
    running_at,
    schedule_from_dict,
    stretch_start,
)

# RDS takes minutes to start a stopped instance (SQL Server often 10 or more) after the
# scheduler asks at the schedule's start: until it has been running this long, a failed
# connection is the start still under way, not an outage.
DATABASE_STARTUP_GRACE = timedelta(minutes=20)


@dataclass(frozen=True)
class DatabaseHours:
    """The database's schedule."""

    schedule: Schedule

    def may_be_stopped(self, at: datetime) -> bool:
        """Whether at `at` (timezone-aware) the database is stopped, or started less than
        DATABASE_STARTUP_GRACE ago."""
        if not running_at(self.schedule, at):
            return True
        return at - stretch_start(self.schedule, at) < DATABASE_STARTUP_GRACE


def database_hours_from_json(variable: str, text: str) -> DatabaseHours:
    """The hours in environment variable `variable`: JSON, the schedule's `name` and its
    `schedule_to_dict` form. ScheduleError names the variable."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        raise ScheduleError(f"environment variable {variable} is not JSON: {error}") from None
    if not isinstance(raw, dict):
        raise ScheduleError(f"environment variable {variable} must be a JSON object")
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise ScheduleError(f'environment variable {variable} needs a "name"')
    try:
        schedule = schedule_from_dict(name, {k: v for k, v in raw.items() if k != "name"})
    except ScheduleError as problem:
        raise ScheduleError(f"environment variable {variable}: {problem}") from None
    return DatabaseHours(schedule)
