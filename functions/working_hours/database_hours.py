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

# The scheduler asks RDS to start the database within its rate (5 minutes) of the schedule's
# start, and SQL Server often takes 10 to 20 minutes more: until the schedule has been running
# this long, a failed connection is the start still under way, not an outage.
DATABASE_STARTUP_GRACE = timedelta(minutes=45)


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
