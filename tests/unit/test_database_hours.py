"""When the reporting database is up, as the loader, the sweeper and the freshness check see it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from functions.working_hours.database_hours import (
    DATABASE_STARTUP_GRACE,
    DatabaseHours,
    database_hours_from_json,
)
from functions.working_hours.working_time import ScheduleError, schedule_from_dict, schedule_to_dict

OFFICE_HOURS = schedule_from_dict(
    "reporting-office-hours",
    {
        "timezone": "Europe/London",
        "periods": [{"days": ["mon-fri"], "start": "07:00", "stop": "19:00"}],
        "holidays": {"country": "GB", "subdivision": "ENG"},
    },
)


@pytest.mark.parametrize(
    ("now", "up"),
    [
        (datetime(2026, 11, 25, 6, 59, tzinfo=UTC), False),
        (datetime(2026, 11, 25, 7, 0, tzinfo=UTC), False),
        (datetime(2026, 11, 25, 7, 44, 59, tzinfo=UTC), False),
        (datetime(2026, 11, 25, 7, 45, tzinfo=UTC), True),
        (datetime(2026, 11, 25, 18, 59, tzinfo=UTC), True),
        (datetime(2026, 11, 25, 19, 0, tzinfo=UTC), False),
        (datetime(2026, 11, 25, 23, 0, tzinfo=UTC), False),
        # Saturday; Christmas Day (a Friday); Monday 28 December, the Boxing Day substitute.
        (datetime(2026, 11, 28, 12, 0, tzinfo=UTC), False),
        (datetime(2026, 12, 25, 12, 0, tzinfo=UTC), False),
        (datetime(2026, 12, 28, 12, 0, tzinfo=UTC), False),
        # British Summer Time: 07:45 in London is 06:45 UTC.
        (datetime(2026, 7, 1, 6, 45, tzinfo=UTC), True),
        (datetime(2026, 7, 1, 7, 44, tzinfo=UTC) - timedelta(hours=1), False),
    ],
)
def test_the_database_is_up_once_it_has_run_for_the_grace(now: datetime, up: bool) -> None:
    # The loader excuses a failed connection, and the sweeper and the freshness check wait,
    # exactly while this says "may be stopped".
    assert DatabaseHours(OFFICE_HOURS).may_be_stopped(now) is not up


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "DATABASE_SCHEDULE is not JSON"),
        ("[]", "DATABASE_SCHEDULE must be a JSON object"),
        ('{"timezone": "UTC"}', 'DATABASE_SCHEDULE needs a "name"'),
        ('{"name": "x", "timezone": "UTC", "periods": []}', "DATABASE_SCHEDULE: schedule 'x'"),
    ],
)
def test_a_bad_schedule_names_its_variable(text: str, message: str) -> None:
    with pytest.raises(ScheduleError, match=message):
        database_hours_from_json("DATABASE_SCHEDULE", text)


def test_the_schedule_round_trips_through_its_variable() -> None:
    text = json.dumps({"name": OFFICE_HOURS.name, **schedule_to_dict(OFFICE_HOURS)})
    assert database_hours_from_json("DATABASE_SCHEDULE", text).schedule == OFFICE_HOURS
    assert timedelta(minutes=45) == DATABASE_STARTUP_GRACE
