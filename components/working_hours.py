"""What a function that follows working hours needs: its package, the holidays library the
Lambda runtime lacks, and schedules in the JSON form the functions read."""

from __future__ import annotations

import json

from functions.working_hours.working_time import Schedule, schedule_to_dict

WORKING_HOURS_PACKAGE = "functions.working_hours"
# Import name -> distribution: the holidays library and what it imports.
HOLIDAY_PACKAGES = {"holidays": "holidays", "dateutil": "python-dateutil", "six": "six"}


def schedules_environment(schedules: tuple[Schedule, ...]) -> str:
    """Schedules as the scheduler reads them: a JSON object by name."""
    return json.dumps({s.name: schedule_to_dict(s) for s in schedules}, sort_keys=True)


def schedule_environment(schedule: Schedule) -> str:
    """One schedule with its name (DATABASE_SCHEDULE), as the functions that follow the
    database's hours read it."""
    return json.dumps({"name": schedule.name, **schedule_to_dict(schedule)}, sort_keys=True)
