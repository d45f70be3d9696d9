"""Which datasets are stale, and the alert that lists them. Pure: no clock, no AWS.

Staleness counts only the working hours of the hub's schedule between a dataset's last
successful load and now: out of hours, at weekends and on public holidays the database and the
loads are stopped, so nothing is expected to arrive. A dataset never loaded at all is stale on
every run (reported "never loaded"): the check cannot know since when it has been missing, and a
watched dataset is expected to be loading already (a new dataset is left unwatched, window 0 in
the stack's `reporting:freshness` datasets, until its first load).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from functions.working_hours.working_time import Schedule, running_hours

# SNS takes subjects of less than 100 characters.
SUBJECT_LENGTH = 99
SUBJECT_PREFIX = "Stale reporting data: "


@dataclass(frozen=True)
class DatasetFreshness:
    """One watched dataset as the check found it."""

    dataset: str
    window_hours: float
    # None: never loaded.
    last_load: datetime | None
    # Working hours since the last load; None: never loaded.
    working_hours: float | None

    @property
    def stale(self) -> bool:
        """Never loaded, or longer than its window without a load."""
        return self.working_hours is None or self.working_hours > self.window_hours

    def as_dict(self) -> dict[str, Any]:
        """As logged and returned by the handler."""
        return {
            "dataset": self.dataset,
            "last_successful_load": None if self.last_load is None else self.last_load.isoformat(),
            "working_hours_since": None
            if self.working_hours is None
            else round(self.working_hours, 2),
            "window_hours": self.window_hours,
            "stale": self.stale,
        }


def assess(
    schedule: Schedule,
    windows: Mapping[str, float],
    last_loads: Mapping[str, datetime | None],
    now: datetime,
) -> list[DatasetFreshness]:
    """Every watched dataset's freshness at `now`, sorted by name."""
    results = []
    for dataset in sorted(windows):
        last_load = last_loads.get(dataset)
        hours = None
        if last_load is not None:
            # A load stamped after `now` (clock skew between hosts) is as fresh as can be.
            hours = running_hours(schedule, min(last_load, now), now)
        results.append(DatasetFreshness(dataset, windows[dataset], last_load, hours))
    return results


def alert_subject(stale: Sequence[DatasetFreshness]) -> str:
    """`Stale reporting data: a/b, c/d`, or a count when the names do not fit SNS's limit."""
    names = ", ".join(result.dataset for result in stale)
    subject = SUBJECT_PREFIX + names
    if len(subject) <= SUBJECT_LENGTH:
        return subject
    counted = f"{SUBJECT_PREFIX}{len(stale)} datasets"
    return counted if len(counted) <= SUBJECT_LENGTH else counted[:SUBJECT_LENGTH]


def alert_body(stale: Sequence[DatasetFreshness], schedule: Schedule, now: datetime) -> str:
    """A readable list of the stale datasets, with times in UTC and the schedule's timezone."""
    count = "1 dataset has" if len(stale) == 1 else f"{len(stale)} datasets have"
    lines = [
        f"{count} had no successful load for longer than allowed.",
        f"Hours are working hours of schedule '{schedule.name}' ({schedule.timezone}): the "
        "time it is stopped does not count.",
        "",
    ]
    for result in stale:
        lines.append(result.dataset)
        if result.last_load is None:
            lines.append("  Last successful load: never loaded")
        else:
            lines.append(
                f"  Last successful load: {_both_times(result.last_load, schedule.timezone)}"
            )
            lines.append(f"  Working hours since:  {result.working_hours:.1f}")
        lines.append(f"  Window:               {result.window_hours:g} working hours")
        lines.append("")
    lines.append(f"Checked at {_both_times(now, schedule.timezone)}.")
    lines.append(
        "Loads are read from the load_ledger table of the reporting database. Look for "
        "quarantined files and for extractor, copier or loader errors."
    )
    return "\n".join(lines) + "\n"


def _both_times(moment: datetime, timezone: str) -> str:
    """`Fri 2026-11-27 17:00 UTC (Fri 2026-11-27 17:00 GMT, Europe/London)`."""
    utc = moment.astimezone(UTC)
    local = moment.astimezone(ZoneInfo(timezone))
    return f"{utc:%a %Y-%m-%d %H:%M} UTC ({local:%a %Y-%m-%d %H:%M %Z}, {timezone})"
