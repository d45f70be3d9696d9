"""The report runner's settings, read from its environment (the server's environment file,
written by the deployment: docs/report-server.md)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from functions.loader.database import Database
from functions.loader.settings import (
    SqlServerSecret,
    database_hours_from_environment,
    database_opener,
    unless_stopped,
)
from functions.report_runner.definitions import DEFINITIONS_DIR
from functions.working_hours.database_hours import DatabaseHours

# What the deployment must write; DATABASE_URL (a local database) replaces the DATABASE_*
# group, DATABASE_SCHEDULE is optional.
REQUIRED_ENVIRONMENT = (
    "REPORTS_BUCKET",
    "REPORTS_KEY_ARN",
    "REPORTS_DIRECTORY",
    "ALERT_TOPIC_ARN",
    "REPORT_SENDER",
    "LINK_EXPIRY_HOURS",
    "CATCH_UP_DAYS",
)
SQL_SERVER_ENVIRONMENT = ("DATABASE_SECRET_ARN", "DATABASE_HOST", "DATABASE_PORT", "DATABASE_NAME")
MAX_LINK_EXPIRY_HOURS = 12
MAX_CATCH_UP_DAYS = 30
LOGIN_TIMEOUT_SECONDS = 15


class SettingsError(ValueError):
    """A variable is missing or invalid; the message names it."""


@dataclass(frozen=True)
class RunnerSettings:
    bucket: str
    key_arn: str
    definitions_dir: Path
    alert_topic_arn: str
    sender: str
    link_expiry: timedelta
    catch_up_days: int
    # Exactly one of the two.
    database_url: str | None
    sql_server: SqlServerSecret | None
    # None: the database is meant to be up at all hours.
    database_hours: DatabaseHours | None
    # Where report files are written before upload (systemd's StateDirectory).
    work_dir: Path | None

    @classmethod
    def from_environment(cls, environment: Mapping[str, str]) -> RunnerSettings:
        missing = [name for name in REQUIRED_ENVIRONMENT if not environment.get(name)]
        if missing:
            raise SettingsError(f"environment variable {missing[0]} is required")
        url = environment.get("DATABASE_URL")
        if bool(url) == bool(environment.get("DATABASE_SECRET_ARN")):
            raise SettingsError("set exactly one of DATABASE_URL and DATABASE_SECRET_ARN")
        sql_server = None
        if not url:
            absent = [name for name in SQL_SERVER_ENVIRONMENT if not environment.get(name)]
            if absent:
                raise SettingsError(f"environment variable {absent[0]} is required")
            sql_server = SqlServerSecret(
                secret_arn=environment["DATABASE_SECRET_ARN"],
                host=environment["DATABASE_HOST"],
                port=_whole(environment, "DATABASE_PORT", 65535),
                database=environment["DATABASE_NAME"],
            )
        state = environment.get("STATE_DIRECTORY")
        return cls(
            bucket=environment["REPORTS_BUCKET"],
            key_arn=environment["REPORTS_KEY_ARN"],
            definitions_dir=Path(environment.get("REPORTS_DIRECTORY") or DEFINITIONS_DIR),
            alert_topic_arn=environment["ALERT_TOPIC_ARN"],
            sender=environment["REPORT_SENDER"],
            link_expiry=timedelta(
                hours=_whole(environment, "LINK_EXPIRY_HOURS", MAX_LINK_EXPIRY_HOURS)
            ),
            catch_up_days=_whole(environment, "CATCH_UP_DAYS", MAX_CATCH_UP_DAYS),
            database_url=url or None,
            sql_server=sql_server,
            database_hours=database_hours_from_environment(environment),
            # systemd may list several directories, separated by colons.
            work_dir=Path(state.split(":")[0]) if state else None,
        )

    def open_database(
        self,
        secrets: Callable[[], Any],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> Callable[[], Database]:
        """Opens the configured database; while the schedule has it stopped or starting,
        failing to is DatabaseStoppedError (the pass waits, unalerted)."""
        opener = database_opener(self.database_url, self.sql_server, LOGIN_TIMEOUT_SECONDS, secrets)
        if self.database_hours is None:
            return opener
        return unless_stopped(opener, self.database_hours, clock)


def _whole(environment: Mapping[str, str], name: str, highest: int) -> int:
    value = environment[name].strip()
    if not value.isdecimal() or not 1 <= int(value) <= highest:
        raise SettingsError(
            f"environment variable {name} must be a whole number from 1 to {highest}"
        )
    return int(value)
