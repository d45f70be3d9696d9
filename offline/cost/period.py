"""The 12 months an estimate averages over, and the hours a schedule runs in them, per month.

A fixed period (the price table's effective date plus one year) keeps the output the same on
every run, whatever today's date, and averages out short and long months, DST and holidays.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from functions.working_hours.working_time import Schedule, running_hours

MONTHS = 12


@dataclass(frozen=True)
class Period:
    """The half-open UTC interval [start, stop) of 12 months."""

    start: datetime
    stop: datetime

    @property
    def hours_per_month(self) -> float:
        """Always-on hours in an average month: 730 for a 365-day year (24 x 365 / 12)."""
        return (self.stop - self.start).total_seconds() / 3600 / MONTHS

    def running_hours_per_month(self, schedule: Schedule) -> float:
        """Hours compute on `schedule` runs in an average month of the period."""
        return running_hours(schedule, self.start, self.stop) / MONTHS

    def describe(self) -> str:
        return f"{self.start:%Y-%m-%d} to {self.stop:%Y-%m-%d}"


def twelve_months_from(first: date) -> Period:
    """The 12 months starting at midnight UTC on `first` (29 February starts on 1 March)."""
    if (first.month, first.day) == (2, 29):
        first = date(first.year, 3, 1)
    start = datetime(first.year, first.month, first.day, tzinfo=UTC)
    return Period(start, start.replace(year=first.year + 1))
