"""Working-time schedules: London's clock changes, England's bank holidays, hours counted by
hand, stretches, and the JSON form the functions receive."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from functions.working_hours.working_time import (
    HolidayRegion,
    Period,
    Schedule,
    ScheduleError,
    check_region,
    holiday_name,
    parse_clock,
    parse_days,
    period,
    running_at,
    running_hours,
    schedule_from_dict,
    schedule_to_dict,
    stretch_start,
)

LONDON = ZoneInfo("Europe/London")
WEEKDAYS = frozenset(range(5))
# 08:00-18:00 London time on weekdays, England's bank holidays off.
DAY_SHIFT = Schedule(
    name="day-shift",
    timezone="Europe/London",
    periods=(Period(WEEKDAYS, time(8), time(18)),),
    holidays=HolidayRegion("GB", "ENG"),
    enforced=False,
    maintenance_lead_minutes=0,
)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def london(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


@pytest.mark.parametrize(
    ("at", "running"),
    [
        # Friday before the clocks go forward on Sunday 2026-03-29: GMT, 08:00 is 08:00Z.
        ("2026-03-27T07:59", False),
        ("2026-03-27T08:00", True),
        ("2026-03-27T17:59", True),
        ("2026-03-27T18:00", False),
        # The Monday after: BST, 08:00 is 07:00Z.
        ("2026-03-30T06:59", False),
        ("2026-03-30T07:00", True),
        ("2026-03-30T16:59", True),
        ("2026-03-30T17:00", False),
        # Friday before the clocks go back on Sunday 2026-10-25: still BST.
        ("2026-10-23T06:59", False),
        ("2026-10-23T07:00", True),
        ("2026-10-23T17:00", False),
        # The Monday after: GMT again.
        ("2026-10-26T07:59", False),
        ("2026-10-26T08:00", True),
        ("2026-10-26T17:59", True),
        ("2026-10-26T18:00", False),
    ],
)
def test_a_period_keeps_to_london_wall_time_across_both_clock_changes(at, running):
    assert running_at(DAY_SHIFT, utc(at)) is running


@pytest.mark.parametrize(
    ("at", "began"),
    [
        # Sunday of each change: the stopped stretch began at Friday's 18:00 London time.
        ("2026-03-29T12:00", "2026-03-27T18:00"),
        ("2026-10-25T12:00", "2026-10-23T17:00"),
        # Monday mid-morning: the running stretch began at 08:00 London time.
        ("2026-03-30T09:00", "2026-03-30T07:00"),
        ("2026-10-26T09:00", "2026-10-26T08:00"),
    ],
)
def test_stretch_start_across_the_clock_changes(at, began):
    assert stretch_start(DAY_SHIFT, utc(at)) == utc(began)


@pytest.mark.parametrize(
    ("start", "stop", "hours"),
    [
        # The Sunday the clocks go forward has 23 hours, the one they go back 25.
        ("2026-03-28T00:00", "2026-03-31T00:00", 23),
        ("2026-10-24T00:00", "2026-10-27T00:00", 25),
    ],
)
def test_a_whole_day_period_runs_for_the_hours_the_day_really_has(start, stop, hours):
    sundays = replace(DAY_SHIFT, periods=(Period(frozenset({6}), time(0), None),))
    assert running_hours(sundays, utc(start), utc(stop)) == hours


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (date(2026, 12, 25), "Christmas Day"),
        (date(2026, 8, 31), "Late Summer Bank Holiday"),
        (date(2026, 12, 28), "Boxing Day (observed)"),
        (date(2026, 8, 28), None),
        (date(2026, 12, 24), None),
    ],
)
def test_holiday_names_come_from_the_schedules_region(day, name):
    assert holiday_name(DAY_SHIFT, day) == name


@pytest.mark.parametrize(
    ("at", "running"),
    [
        # Christmas Day (a Friday) and the late summer bank holiday (a Monday) are off.
        ("2026-12-25T12:00", False),
        ("2026-08-31T12:00", False),
        ("2026-12-24T12:00", True),
        ("2026-09-01T12:00", True),
    ],
)
def test_bank_holidays_are_days_off(at, running):
    assert running_at(DAY_SHIFT, london(at)) is running


def test_without_a_holiday_region_holidays_are_working_days():
    every_day = replace(DAY_SHIFT, holidays=None)
    assert holiday_name(every_day, date(2026, 12, 25)) is None
    assert running_at(every_day, london("2026-12-25T12:00"))


def test_an_unknown_country_fails_with_its_code():
    with pytest.raises(ScheduleError, match="country 'XX'"):
        check_region(HolidayRegion("XX", None))


def test_an_unknown_subdivision_fails_naming_the_known_ones():
    with pytest.raises(ScheduleError, match=r"subdivision 'XYZ' is not one of GB's: .*ENG"):
        check_region(HolidayRegion("GB", "XYZ"))


@pytest.mark.parametrize(
    ("start", "stop", "hours"),
    [
        # An ordinary week: five days of ten hours.
        ("2026-09-07T00:00", "2026-09-14T00:00", 50),
        # The week of the late summer bank holiday: Tuesday to Friday.
        ("2026-08-31T00:00", "2026-09-07T00:00", 40),
        # Christmas week: Monday to Thursday (Christmas Day is Friday).
        ("2026-12-21T00:00", "2026-12-28T00:00", 40),
        # The week after: Boxing Day observed on Monday, New Year's Day on Friday.
        ("2026-12-28T00:00", "2027-01-04T00:00", 30),
        # Good Friday and Easter Monday, in the week the clocks went forward.
        ("2026-03-30T00:00", "2026-04-06T00:00", 40),
        # Parts of days: 12:00-15:30, and 17:00 to 09:00 the next morning (1 + 1).
        ("2026-09-09T12:00", "2026-09-09T15:30", 3.5),
        ("2026-09-09T17:00", "2026-09-10T09:00", 2),
        # A weekend.
        ("2026-09-12T00:00", "2026-09-14T00:00", 0),
    ],
)
def test_running_hours_match_a_count_by_hand(start, stop, hours):
    assert running_hours(DAY_SHIFT, london(start), london(stop)) == hours


@pytest.mark.parametrize(
    ("at", "began"),
    [
        # Before Tuesday's start, after a bank holiday Monday: stopped since Friday 18:00.
        ("2026-09-01T07:00", "2026-08-28T18:00"),
        ("2026-09-01T10:00", "2026-09-01T08:00"),
        ("2026-09-01T18:00", "2026-09-01T18:00"),
        # Christmas: stopped since Christmas Eve's 18:00 through the weekend.
        ("2026-12-27T12:00", "2026-12-24T18:00"),
    ],
)
def test_stretch_start_is_the_last_change(at, began):
    assert stretch_start(DAY_SHIFT, london(at)) == london(began)


def test_periods_that_touch_at_midnight_are_one_stretch():
    weekend_cover = replace(
        DAY_SHIFT,
        periods=(
            Period(frozenset({4}), time(0), None),
            Period(frozenset({5}), time(0), time(12)),
        ),
        holidays=None,
    )
    assert running_at(weekend_cover, london("2026-09-11T23:59"))
    assert stretch_start(weekend_cover, london("2026-09-12T11:00")) == london("2026-09-11T00:00")
    assert not running_at(weekend_cover, london("2026-09-12T12:00"))
    assert (
        running_hours(weekend_cover, london("2026-09-07T00:00"), london("2026-09-14T00:00")) == 36
    )


def test_the_json_form_round_trips():
    schedule = Schedule(
        name="late",
        timezone="America/New_York",
        periods=(
            Period(frozenset({0, 1, 2}), time(9, 30), None),
            Period(frozenset({5}), time(10), time(14, 15)),
        ),
        holidays=HolidayRegion("US", "NY"),
        enforced=True,
        maintenance_lead_minutes=45,
    )
    assert schedule_to_dict(schedule)["periods"][0] == {
        "days": ["mon", "tue", "wed"],
        "start": "09:30",
        "stop": "24:00",
    }
    assert schedule_from_dict("late", schedule_to_dict(schedule)) == schedule


def test_a_missing_key_is_named():
    with pytest.raises(ScheduleError, match="schedule 'x': timezone is required"):
        schedule_from_dict("x", {"periods": [{"days": ["mon"], "start": "08:00", "stop": "09:00"}]})


@pytest.mark.parametrize(
    ("definition", "message"),
    [
        ({"timezone": "Europe/Nowhere", "periods": []}, "timezone .Europe/Nowhere. is not an IANA"),
        ({"timezone": "Europe/London", "periods": []}, "periods must not be empty"),
        (
            {
                "timezone": "Europe/London",
                "periods": [{"days": ["mon"], "start": "9", "stop": "10"}],
            },
            "must be a time HH:MM",
        ),
    ],
)
def test_a_bad_definition_is_a_schedule_error(definition, message):
    with pytest.raises(ScheduleError, match=message):
        schedule_from_dict("x", definition)


def test_days_ranges_and_names():
    assert parse_days(["mon-wed", "fri"]) == frozenset({0, 1, 2, 4})
    assert parse_days(["SAT", "sun"]) == frozenset({5, 6})
    with pytest.raises(ScheduleError, match="runs forwards"):
        parse_days(["fri-mon"])
    with pytest.raises(ScheduleError, match="not a day"):
        parse_days(["weekday"])
    with pytest.raises(ScheduleError, match="at least one day"):
        parse_days([])


def test_clock_times_and_periods():
    assert parse_clock("07:30") == time(7, 30)
    assert parse_clock("24:00", stop=True) is None
    with pytest.raises(ScheduleError):
        parse_clock("24:00")
    with pytest.raises(ScheduleError):
        parse_clock("25:00", stop=True)
    with pytest.raises(ScheduleError, match="must be after start"):
        period(WEEKDAYS, time(18), time(8))
    assert period(WEEKDAYS, time(18), None).stop is None
