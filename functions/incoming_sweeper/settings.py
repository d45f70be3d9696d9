"""The sweeper's settings, read once from its environment.

Parsed here rather than with the loader's settings: the sweeper's package holds only its own
folder and `functions.working_hours`, not the loader.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from functions.working_hours.database_hours import database_hours_from_json
from functions.working_hours.working_time import Schedule, ScheduleError

# Longer than the loader's own attempts at a file: three of up to its timeout (300 s by default:
# the first and Lambda's two asynchronous retries, 1 and 2 minutes apart), 18 minutes at most.
DEFAULT_MINIMUM_AGE_MINUTES = 30


class SettingsError(ValueError):
    """A required environment variable is missing or invalid; the message names it."""


@dataclass(frozen=True)
class SweeperSettings:
    """Everything the handler takes from its environment."""

    landing_bucket: str
    loader_function_name: str
    # The reporting database's schedule: nothing is sent unless it has been up a while.
    database_schedule: Schedule
    # Younger objects are left to the loader's own event and retries.
    minimum_age: timedelta

    @classmethod
    def from_environment(cls, environment: Mapping[str, str]) -> SweeperSettings:
        """Reads LANDING_BUCKET, LOADER_FUNCTION_NAME, DATABASE_SCHEDULE (JSON: the schedule's
        name and its `schedule_to_dict` form) and MINIMUM_AGE_MINUTES (optional, default 30)."""
        return cls(
            landing_bucket=_required(environment, "LANDING_BUCKET"),
            loader_function_name=_required(environment, "LOADER_FUNCTION_NAME"),
            database_schedule=_schedule(_required(environment, "DATABASE_SCHEDULE")),
            minimum_age=timedelta(minutes=_minimum_age_minutes(environment)),
        )


def _schedule(text: str) -> Schedule:
    try:
        return database_hours_from_json("DATABASE_SCHEDULE", text).schedule
    except ScheduleError as problem:
        raise SettingsError(str(problem)) from None


def _minimum_age_minutes(environment: Mapping[str, str]) -> int:
    text = environment.get("MINIMUM_AGE_MINUTES", "").strip()
    if not text:
        return DEFAULT_MINIMUM_AGE_MINUTES
    if not text.isdecimal() or not text.isascii() or int(text) == 0:
        raise SettingsError("environment variable MINIMUM_AGE_MINUTES must be a positive integer")
    return int(text)


def _required(environment: Mapping[str, str], name: str) -> str:
    value = environment.get(name, "").strip()
    if not value:
        raise SettingsError(f"environment variable {name} is required")
    return value
