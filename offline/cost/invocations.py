"""How often an EventBridge Scheduler expression fires in an average month of the period.

`rate(N minutes|hours|days)`, `at(yyyy-mm-ddThh:mm:ss)` and the common `cron(...)` forms:
numbers, names, `*`, `?`, ranges, lists and `/` steps. `L`, `W` and `#` are refused
(UnsupportedExpressionError) rather than guessed. Cron fields (AWS's): minutes, hours,
day-of-month, month, day-of-week (1-7 = SUN-SAT), year; counted on local days of the schedule's
timezone, so a DST change moves a run, never adds or drops one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from offline.cost.period import MONTHS, Period

_RATE = re.compile(r"rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)")
_AT = re.compile(r"at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)")
_CRON = re.compile(r"cron\(([^)]*)\)")
_MINUTES_PER = {"minute": 1, "hour": 60, "day": 1440}
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_WEEKDAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


class UnsupportedExpressionError(ValueError):
    """An expression this counter does not understand; the message quotes it."""


def monthly_invocations(expression: str, period: Period, timezone: str = "UTC") -> float:
    """Invocations of `expression` in an average month of `period`."""
    text = expression.strip()
    if rate := _RATE.fullmatch(text):
        every = int(rate.group(1)) * _MINUTES_PER[rate.group(2).rstrip("s")]
        if every == 0:
            raise UnsupportedExpressionError(f"{expression}: a rate must be at least 1")
        minutes = (period.stop - period.start).total_seconds() / 60
        return minutes / every / MONTHS
    if at := _AT.fullmatch(text):
        when = datetime.fromisoformat(at.group(1)).replace(tzinfo=ZoneInfo(timezone))
        return (1 if period.start <= when < period.stop else 0) / MONTHS
    if cron := _CRON.fullmatch(text):
        return _cron_runs(expression, cron.group(1).split(), period, timezone) / MONTHS
    raise UnsupportedExpressionError(f"{expression}: not a rate(), at() or cron() expression")


def _cron_runs(expression: str, fields: list[str], period: Period, timezone: str) -> int:
    if len(fields) != 6:
        raise UnsupportedExpressionError(f"{expression}: cron() takes six fields")
    minutes, hours, day_of_month, month, day_of_week, year = fields
    if (day_of_month == "?") == (day_of_week == "?"):
        raise UnsupportedExpressionError(
            f"{expression}: exactly one of day-of-month and day-of-week must be '?'"
        )
    try:
        per_day = len(_values(minutes, 0, 59)) * len(_values(hours, 0, 23))
        months = _values(month, 1, 12, _MONTHS)
        years = _values(year, 1970, 2199)
        days = None if day_of_month == "?" else _values(day_of_month, 1, 31)
        # AWS numbers weekdays 1 (SUN) to 7 (SAT); Python's weekday() is 0 (MON) to 6 (SUN).
        weekdays = (
            None
            if day_of_week == "?"
            else {(d - 2) % 7 for d in _values(day_of_week, 1, 7, _WEEKDAYS)}
        )
    except ValueError as problem:
        raise UnsupportedExpressionError(f"{expression}: {problem}") from None
    zone = ZoneInfo(timezone)
    runs = 0
    for day in _local_days(period, zone):
        if day.month not in months or day.year not in years:
            continue
        if (days is not None and day.day in days) or (
            weekdays is not None and day.weekday() in weekdays
        ):
            runs += per_day
    return runs


def _local_days(period: Period, zone: ZoneInfo) -> Iterator[date]:
    day = period.start.astimezone(zone).date()
    last = (period.stop - timedelta(microseconds=1)).astimezone(zone).date()
    while day <= last:
        yield day
        day += timedelta(1)


def _values(field: str, low: int, high: int, names: tuple[str, ...] = ()) -> set[int]:
    """The numbers a cron field matches: `*`, `5`, `MON-FRI`, `0/15`, `8-17`, `1,3,5`..."""
    found: set[int] = set()
    for part in field.split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if step < 1:
            raise ValueError(f"step {step_text} must be at least 1")
        if base == "*":
            first, last = low, high
        elif "-" in base:
            start, _, end = base.partition("-")
            first, last = _number(start, names, low), _number(end, names, low)
        else:
            first = _number(base, names, low)
            last = high if step_text else first
        if not low <= first <= last <= high:
            raise ValueError(f"'{part}' is outside {low}-{high}")
        found.update(range(first, last + 1, step))
    return found


def _number(text: str, names: tuple[str, ...], low: int) -> int:
    if text.upper() in names:
        return names.index(text.upper()) + low
    if not text.isdigit():
        raise ValueError(f"'{text}' is not a number or name this counter understands")
    return int(text)
