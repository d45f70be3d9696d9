"""The scheduler's settings, read once from its environment."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from functions.working_hours.working_time import Schedule, ScheduleError, schedule_from_dict

DEFAULT_SCHEDULE_TAG = "Schedule"
_FLAGS = {"true": True, "false": False}


class SettingsError(ValueError):
    """A required environment variable is missing or invalid; the message names it."""


@dataclass(frozen=True)
class SchedulerSettings:
    """Everything the handler takes from its environment."""

    # By name: the values the schedule tag may take.
    schedules: Mapping[str, Schedule]
    # The tag whose value names a resource's schedule; resources without it are never touched.
    schedule_tag: str
    # Decide and log only: nothing is started, stopped or tagged.
    dry_run: bool

    @classmethod
    def from_environment(cls, environment: Mapping[str, str]) -> SchedulerSettings:
        """Reads SCHEDULES (JSON: name -> schedule as `schedule_to_dict` writes it),
        SCHEDULE_TAG (optional, default Schedule) and DRY_RUN (optional, true or false)."""
        dry_run = environment.get("DRY_RUN", "").strip().lower() or "false"
        if dry_run not in _FLAGS:
            raise SettingsError("environment variable DRY_RUN must be true or false")
        return cls(
            schedules=_schedules(environment.get("SCHEDULES", "").strip()),
            schedule_tag=environment.get("SCHEDULE_TAG", "").strip() or DEFAULT_SCHEDULE_TAG,
            dry_run=_FLAGS[dry_run],
        )


def _schedules(text: str) -> dict[str, Schedule]:
    if not text:
        raise SettingsError("environment variable SCHEDULES is required")
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        raise SettingsError(f"environment variable SCHEDULES is not JSON: {error}") from None
    if not isinstance(raw, dict) or not raw:
        raise SettingsError("environment variable SCHEDULES must map schedule names to schedules")
    schedules = {}
    for name, definition in raw.items():
        if not isinstance(definition, dict):
            raise SettingsError(f"environment variable SCHEDULES: {name} must be a JSON object")
        try:
            schedules[name] = schedule_from_dict(name, definition)
        except ScheduleError as error:
            raise SettingsError(f"environment variable SCHEDULES: {error}") from None
    return schedules
