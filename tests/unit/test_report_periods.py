"""Which runs of a report are due and what period each covers, across daylight saving."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from functions.report_runner.definitions import DEFINITIONS_DIR, load_definitions
from functions.report_runner.periods import catch_up_runs, scheduled_runs

LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def weekly():
    return next(r for r in load_definitions(DEFINITIONS_DIR) if r.name == "maths-weekly-attainment")


def test_a_weekly_run_covers_the_week_before_it(weekly) -> None:
    now = datetime(2026, 11, 23, 7, 20, tzinfo=LONDON)

    [run] = catch_up_runs(weekly, now, catch_up_days=7)

    assert run.period_start == datetime(2026, 11, 16, 7, 0, tzinfo=LONDON)
    assert run.period_end == datetime(2026, 11, 23, 7, 0, tzinfo=LONDON)
    assert run.stamp == "20261123T0700Z"
    assert run.bound_parameters() == {
        "period_start": datetime(2026, 11, 16, 7, 0),
        "period_end": datetime(2026, 11, 23, 7, 0),
        "report_date": datetime(2026, 11, 23).date(),
    }


def test_a_run_is_due_only_once_its_time_has_come(weekly) -> None:
    assert catch_up_runs(weekly, datetime(2026, 11, 23, 6, 59, tzinfo=LONDON), 6) == []


@pytest.mark.parametrize(
    ("day", "hours", "period_end_utc"),
    [
        # Spring forward: 07:00 local is 06:00 UTC in summer, and the day is an hour short.
        (datetime(2026, 3, 29), 23, datetime(2026, 3, 29, 6, 0)),
        # Fall back: the day is an hour long, and 07:00 local is 07:00 UTC again.
        (datetime(2026, 10, 25), 25, datetime(2026, 10, 25, 7, 0)),
    ],
)
def test_across_a_clock_change_the_period_follows_the_wall_clock(
    weekly, day: datetime, hours: int, period_end_utc: datetime
) -> None:
    daily = replace(weekly, schedule="0 7 * * *")
    morning = day.replace(tzinfo=LONDON)

    [run] = scheduled_runs(daily, morning.replace(hour=6), morning.replace(hour=8))

    # Aware datetimes of one zone subtract as wall-clock times: compare in UTC.
    length = run.period_end.astimezone(UTC) - run.period_start.astimezone(UTC)
    assert length == timedelta(hours=hours)
    assert run.bound_parameters()["period_end"] == period_end_utc
    assert run.stamp == f"{period_end_utc:%Y%m%dT%H%MZ}"


def test_catch_up_lists_every_missed_run_oldest_first(weekly) -> None:
    weekdays = replace(weekly, schedule="30 7 * * MON-FRI")
    now = datetime(2026, 11, 26, 7, 40, tzinfo=LONDON).astimezone(UTC)

    runs = catch_up_runs(weekdays, now, catch_up_days=7)

    # Thursday 19th 07:40 back to Thursday 26th: Fri, Mon, Tue, Wed, Thu (no weekend runs).
    assert [r.period_end.day for r in runs] == [20, 23, 24, 25, 26]
    # Each run covers the time since the one before: Monday's covers the weekend.
    assert runs[1].period_start == datetime(2026, 11, 20, 7, 30, tzinfo=LONDON)
