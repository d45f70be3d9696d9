"""Working-time schedules: weekly periods in an IANA timezone, minus public holidays.

Pure and shared: the scheduler function decides start/stop with it, the freshness check counts
working hours with it, and the cost estimator counts the hours compute runs. Holidays come from
the `holidays` library (maintained upstream), never a hand-typed list.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
END_OF_DAY = "24:00"
# How far back `stretch_start` looks for the last change; longer stretches start "long ago".
LOOKBACK_DAYS = 31


class ScheduleError(ValueError):
    """A schedule definition that cannot be used; the message names the key."""


@dataclass(frozen=True)
class Period:
    """Running from `start` to `stop` (local wall time) on each of `days` (0 = Monday)."""

    days: frozenset[int]
    start: time
    # None: until midnight (written "24:00").
    stop: time | None


@dataclass(frozen=True)
class HolidayRegion:
    """Whose public holidays stop the schedule: an ISO country code and optional subdivision."""

    country: str
    subdivision: str | None


@dataclass(frozen=True)
class Schedule:
    name: str
    timezone: str
    periods: tuple[Period, ...]
    # None: holidays are working days.
    holidays: HolidayRegion | None
    # Stop compute started by hand out of hours (otherwise left running until the next stop).
    enforced: bool
    # Start a stopped RDS instance this long before its maintenance window (0: never).
    maintenance_lead_minutes: int


@dataclass(frozen=True)
class Interval:
    """A half-open UTC interval during which the schedule runs."""

    start: datetime
    stop: datetime


def running_at(schedule: Schedule, at: datetime) -> bool:
    """Whether compute on `schedule` should run at the instant `at` (timezone-aware)."""
    return any(i.start <= at < i.stop for i in _intervals_around(schedule, at))


def stretch_start(schedule: Schedule, at: datetime) -> datetime:
    """When the current running or stopped stretch began: the last change at or before `at`
    (or LOOKBACK_DAYS ago when nothing changed since then)."""
    intervals = _intervals_around(schedule, at)
    for interval in intervals:
        if interval.start <= at < interval.stop:
            return interval.start
    ended = [i.stop for i in intervals if i.stop <= at]
    return max(ended) if ended else at - timedelta(days=LOOKBACK_DAYS)


def running_hours(schedule: Schedule, start: datetime, stop: datetime) -> float:
    """Hours between `start` and `stop` during which the schedule runs."""
    seconds = sum(
        (min(i.stop, stop) - max(i.start, start)).total_seconds()
        for i in _merged(
            _intervals(schedule, _local_date(schedule, start), _local_date(schedule, stop))
        )
        if i.stop > start and i.start < stop
    )
    return seconds / 3600


def holiday_name(schedule: Schedule, day: date) -> str | None:
    """The public holiday on local `day`, if the schedule's region has one."""
    region = schedule.holidays
    if region is None:
        return None
    return _holidays(region.country, region.subdivision, day.year).get(day)


def _intervals_around(schedule: Schedule, at: datetime) -> list[Interval]:
    today = _local_date(schedule, at)
    return _merged(
        _intervals(schedule, today - timedelta(days=LOOKBACK_DAYS), today + timedelta(1))
    )


def _intervals(schedule: Schedule, first: date, last: date) -> Iterator[Interval]:
    zone = ZoneInfo(schedule.timezone)
    day = first
    while day <= last:
        if holiday_name(schedule, day) is None:
            for period in schedule.periods:
                if day.weekday() in period.days:
                    start = datetime.combine(day, period.start, zone)
                    stop = (
                        datetime.combine(day + timedelta(1), time(0), zone)
                        if period.stop is None
                        else datetime.combine(day, period.stop, zone)
                    )
                    yield Interval(start.astimezone(UTC), stop.astimezone(UTC))
        day += timedelta(1)


def _merged(intervals: Iterator[Interval]) -> list[Interval]:
    """Overlapping or touching intervals joined (Friday 00:00-24:00 and Saturday 00:00-...)."""
    merged: list[Interval] = []
    for interval in sorted(intervals, key=lambda i: i.start):
        if merged and interval.start <= merged[-1].stop:
            merged[-1] = Interval(merged[-1].start, max(merged[-1].stop, interval.stop))
        else:
            merged.append(interval)
    return merged


def _local_date(schedule: Schedule, at: datetime) -> date:
    return at.astimezone(ZoneInfo(schedule.timezone)).date()


@cache
def _holidays(country: str, subdivision: str | None, year: int) -> Mapping[date, str]:
    # Imported here: the library loads every country's rules (~0.1 s), needed only with holidays.
    import holidays  # noqa: PLC0415

    return dict(holidays.country_holidays(country, subdiv=subdivision, years=year))


def schedule_from_dict(name: str, raw: Mapping[str, Any]) -> Schedule:
    """A schedule from its JSON form (`schedule_to_dict`); ScheduleError names the bad key."""
    try:
        zone = str(raw["timezone"])
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            # ZoneInfoNotFoundError is a KeyError: left alone it would read as a missing key.
            raise ScheduleError(
                f"schedule '{name}': timezone '{zone}' is not an IANA timezone"
            ) from None
        periods = tuple(_period(item) for item in raw["periods"])
        if not periods:
            raise ScheduleError(f"schedule '{name}': periods must not be empty")
        region = raw.get("holidays")
        holidays_region = (
            None
            if region is None
            else HolidayRegion(str(region["country"]), region.get("subdivision") or None)
        )
        # The region is checked when the stack config is read (`check_region`), not here: that
        # imports the holidays library (~0.5 s uncompiled on a cold start), which the loader
        # needs only when the database cannot be reached.
        return Schedule(
            name=name,
            timezone=zone,
            periods=periods,
            holidays=holidays_region,
            enforced=bool(raw.get("enforced", False)),
            maintenance_lead_minutes=int(raw.get("maintenanceLeadMinutes", 0)),
        )
    except KeyError as missing:
        raise ScheduleError(f"schedule '{name}': {missing.args[0]} is required") from None
    except (TypeError, ValueError) as problem:
        if isinstance(problem, ScheduleError):
            raise
        raise ScheduleError(f"schedule '{name}': {problem}") from None


def schedule_to_dict(schedule: Schedule) -> dict[str, Any]:
    """The JSON form a function receives in its environment."""
    region = schedule.holidays
    return {
        "timezone": schedule.timezone,
        "periods": [
            {
                "days": [DAYS[d] for d in sorted(p.days)],
                "start": p.start.strftime("%H:%M"),
                "stop": END_OF_DAY if p.stop is None else p.stop.strftime("%H:%M"),
            }
            for p in schedule.periods
        ],
        "holidays": None
        if region is None
        else {"country": region.country, "subdivision": region.subdivision},
        "enforced": schedule.enforced,
        "maintenanceLeadMinutes": schedule.maintenance_lead_minutes,
    }


def parse_days(values: list[str]) -> frozenset[int]:
    """Weekday names (`mon`..`sun`) to numbers; a range `mon-fri` counts as its days."""
    days: set[int] = set()
    for value in values:
        first, _, last = str(value).lower().partition("-")
        if first not in DAYS or (last and last not in DAYS):
            raise ScheduleError(f"'{value}' is not a day: use {', '.join(DAYS)} or a range mon-fri")
        start, stop = DAYS.index(first), DAYS.index(last or first)
        if stop < start:
            raise ScheduleError(f"'{value}': a range runs forwards from mon to sun")
        days.update(range(start, stop + 1))
    if not days:
        raise ScheduleError("days must name at least one day")
    return frozenset(days)


def parse_clock(value: str, *, stop: bool = False) -> time | None:
    """`HH:MM` to a time; a stop may be 24:00 (None: midnight at the end of the day)."""
    if stop and value == END_OF_DAY:
        return None
    try:
        return datetime.strptime(value, "%H:%M").time()
    except ValueError:
        raise ScheduleError(f"'{value}' must be a time HH:MM (00:00-23:59)") from None


def period(days: frozenset[int], start: time, stop: time | None) -> Period:
    """A period; it must stop after it starts, on the same day."""
    if stop is not None and stop <= start:
        raise ScheduleError(
            f"stop {stop:%H:%M} must be after start {start:%H:%M} (a period that runs past "
            "midnight is two periods)"
        )
    return Period(days, start, stop)


def _period(raw: Mapping[str, Any]) -> Period:
    return period(
        parse_days(list(raw["days"])),
        parse_clock(str(raw["start"])),
        parse_clock(str(raw["stop"]), stop=True),
    )


def check_region(region: HolidayRegion) -> HolidayRegion:
    """The region, if the holidays library knows its country and subdivision."""
    import holidays  # noqa: PLC0415

    supported = holidays.list_supported_countries()
    if region.country not in supported:
        raise ScheduleError(
            f"country '{region.country}' is not an ISO 3166 code the holidays library knows"
        )
    subdivisions = supported[region.country]
    if region.subdivision is not None and region.subdivision not in subdivisions:
        raise ScheduleError(
            f"subdivision '{region.subdivision}' is not one of {region.country}'s: "
            + ", ".join(subdivisions)
        )
    return region
