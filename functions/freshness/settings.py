"""The freshness check's settings, read once from its environment.

The database variables are the loader's (DATABASE_URL, or DATABASE_SECRET_ARN with
DATABASE_HOST, DATABASE_PORT and DATABASE_NAME) and reach the database through the loader's
connection code; the loader's own settings class is not used because it also reads the loader's
variables (its catalog file), which this function does not have.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from functions.loader.database import (
    Database,
)
from functions.loader.settings import (
    DEFAULT_LOGIN_TIMEOUT_SECONDS,
    SqlServerSecret,
    database_opener,
)
from functions.working_hours.database_hours import database_hours_from_json
from functions.working_hours.working_time import Schedule, ScheduleError


class SettingsError(ValueError):
    """A required environment variable is missing or invalid; the message names it."""


@dataclass(frozen=True)
class FreshnessSettings:
    """Everything the handler takes from its environment."""

    alert_topic_arn: str
    # The hub's working-time schedule: the database and the loads run only inside it.
    schedule: Schedule
    # `<platform>/<dataset>` -> the working hours it may go without a successful load.
    windows: Mapping[str, float]
    login_timeout_seconds: int
    # Exactly one of the two: a URL or ODBC string, or the SQL Server secret.
    database_url: str | None
    sql_server: SqlServerSecret | None

    @classmethod
    def from_environment(cls, environment: Mapping[str, str]) -> FreshnessSettings:
        """Reads ALERT_TOPIC_ARN, WINDOWS (JSON: dataset -> hours), DATABASE_SCHEDULE (JSON: name
        and the schedule's `schedule_to_dict` form) and the loader's DATABASE_* variables."""
        url = environment.get("DATABASE_URL", "").strip()
        secret_arn = environment.get("DATABASE_SECRET_ARN", "").strip()
        if bool(url) == bool(secret_arn):
            raise SettingsError("set exactly one of DATABASE_URL and DATABASE_SECRET_ARN")
        sql_server = None
        if secret_arn:
            sql_server = SqlServerSecret(
                secret_arn=secret_arn,
                host=_required(environment, "DATABASE_HOST"),
                port=_positive_integer(environment, "DATABASE_PORT", 1433),
                database=_required(environment, "DATABASE_NAME"),
            )
        return cls(
            alert_topic_arn=_required(environment, "ALERT_TOPIC_ARN"),
            schedule=_schedule(_required(environment, "DATABASE_SCHEDULE")),
            windows=_windows(_json_object(environment, "WINDOWS")),
            login_timeout_seconds=_positive_integer(
                environment, "DATABASE_LOGIN_TIMEOUT_SECONDS", DEFAULT_LOGIN_TIMEOUT_SECONDS
            ),
            database_url=url or None,
            sql_server=sql_server,
        )

    def database_opener(self, secrets: Callable[[], Any]) -> Callable[[], Database]:
        """Opens the configured database as the loader does; `secrets` makes a Secrets Manager
        client on demand."""
        return database_opener(
            self.database_url, self.sql_server, self.login_timeout_seconds, secrets
        )


def _schedule(text: str) -> Schedule:
    try:
        return database_hours_from_json("DATABASE_SCHEDULE", text).schedule
    except ScheduleError as problem:
        raise SettingsError(str(problem)) from None


def _windows(raw: dict[str, Any]) -> dict[str, float]:
    windows = {}
    for dataset, hours in raw.items():
        platform, _, name = dataset.partition("/")
        if not platform or not name or "/" in name:
            raise SettingsError(
                f"environment variable WINDOWS: {dataset!r} is not `<platform>/<dataset>`"
            )
        # A window of 0 would alert on every run: unwatched datasets are left out instead.
        if (
            isinstance(hours, bool)
            or not isinstance(hours, int | float)
            or not math.isfinite(hours)
            or hours <= 0
        ):
            raise SettingsError(
                f"environment variable WINDOWS: {dataset} needs a positive number of hours"
            )
        windows[dataset] = float(hours)
    return windows


def _json_object(environment: Mapping[str, str], name: str) -> dict[str, Any]:
    text = _required(environment, name)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise SettingsError(f"environment variable {name} is not JSON: {error}") from None
    if not isinstance(value, dict) or not value:
        raise SettingsError(f"environment variable {name} must be a non-empty JSON object")
    return value


def _required(environment: Mapping[str, str], name: str) -> str:
    value = environment.get(name, "").strip()
    if not value:
        raise SettingsError(f"environment variable {name} is required")
    return value


def _positive_integer(environment: Mapping[str, str], name: str, default: int) -> int:
    value = environment.get(name, "").strip()
    if not value:
        return default
    if not value.isdecimal() or not value.isascii() or int(value) == 0:
        raise SettingsError(f"environment variable {name} must be a positive integer")
    return int(value)
