"""The loader function's settings, read once from its environment."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from functions.catalog import bundle_file
from functions.loader.database import (
    Database,
    Target,
    connect,
    parse_target,
    sqlserver_connection_string,
)
from functions.loader.dialects import DIALECTS
from functions.loader.errors import DatabaseStoppedError, DatabaseUnavailableError
from functions.working_hours.database_hours import DatabaseHours, database_hours_from_json
from functions.working_hours.working_time import ScheduleError

# Where the catalog sits in the command line's checkout.
DEFAULT_CATALOG_DIR = Path(__file__).resolve().parents[2] / "datasets"
# Below any sensible function timeout, so a dead server fails the invocation with a clear
# error before Lambda kills it.
DEFAULT_LOGIN_TIMEOUT_SECONDS = 10


class SettingsError(ValueError):
    """A required environment variable is missing or invalid; the message names it."""


@dataclass(frozen=True)
class SqlServerSecret:
    """Where the production SQL Server is, with its RDS-managed login secret."""

    secret_arn: str
    host: str
    port: int
    database: str


@dataclass(frozen=True)
class LoaderSettings:
    """Everything the handler takes from its environment."""

    alert_topic_arn: str
    catalog_file: Path
    login_timeout_seconds: int
    # Exactly one of the two: a URL or ODBC string, or the SQL Server secret.
    database_url: str | None
    sql_server: SqlServerSecret | None
    # None: no DATABASE_SCHEDULE, the database is meant to be up at all hours.
    database_hours: DatabaseHours | None

    @classmethod
    def from_environment(cls, environment: Mapping[str, str]) -> LoaderSettings:
        """Reads ALERT_TOPIC_ARN, CATALOG_FILE, DATABASE_* and DATABASE_SCHEDULE (optional)
        (see docs/loader.md)."""
        url = environment.get("DATABASE_URL")
        secret_arn = environment.get("DATABASE_SECRET_ARN")
        if bool(url) == bool(secret_arn):
            raise SettingsError("set exactly one of DATABASE_URL and DATABASE_SECRET_ARN")
        sql_server = None
        if secret_arn:
            sql_server = SqlServerSecret(
                secret_arn=secret_arn,
                host=_required(environment, "DATABASE_HOST"),
                port=_integer(environment, "DATABASE_PORT", 1433),
                database=_required(environment, "DATABASE_NAME"),
            )
        return cls(
            alert_topic_arn=_required(environment, "ALERT_TOPIC_ARN"),
            catalog_file=bundle_file(environment),
            login_timeout_seconds=_integer(
                environment, "DATABASE_LOGIN_TIMEOUT_SECONDS", DEFAULT_LOGIN_TIMEOUT_SECONDS
            ),
            database_url=url or None,
            sql_server=sql_server,
            database_hours=database_hours_from_environment(environment),
        )

    def database_opener(
        self,
        secrets: Callable[[], Any],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> Callable[[], Database]:
        """Opens the configured database; `secrets` makes a Secrets Manager client on demand.

        With a DATABASE_SCHEDULE, failing to connect while the schedule has the database
        stopped or starting (at `clock()`) is DatabaseStoppedError.
        """
        opener = self._opener(secrets)
        if self.database_hours is None:
            return opener
        return unless_stopped(opener, self.database_hours, clock)

    def _opener(self, secrets: Callable[[], Any]) -> Callable[[], Database]:
        return database_opener(
            self.database_url, self.sql_server, self.login_timeout_seconds, secrets
        )


def database_opener(
    database_url: str | None,
    sql_server: SqlServerSecret | None,
    login_timeout_seconds: int,
    secrets: Callable[[], Any],
) -> Callable[[], Database]:
    """Opens the database a URL names, or the SQL Server behind its RDS-managed secret;
    `secrets` makes a Secrets Manager client on demand."""
    if sql_server is None:
        assert database_url is not None
        target = parse_target(database_url)
        return lambda: connect(target, login_timeout_seconds)
    server = sql_server

    def open_sql_server() -> Database:
        # Read on every connect, not once: RDS rotates the password behind the secret.
        secret = json.loads(secrets().get_secret_value(SecretId=server.secret_arn)["SecretString"])
        address = sqlserver_connection_string(
            server.host, server.port, server.database, secret["username"], secret["password"]
        )
        return connect(Target(DIALECTS["mssql"], address), login_timeout_seconds)

    return open_sql_server


def unless_stopped(
    opener: Callable[[], Database], hours: DatabaseHours, clock: Callable[[], datetime]
) -> Callable[[], Database]:
    """`opener`, except that failing to connect while `hours` has the database stopped or
    starting (at `clock()`) is DatabaseStoppedError: a wait, not a fault."""

    def open_unless_stopped() -> Database:
        try:
            return opener()
        except DatabaseUnavailableError as error:
            now = clock()
            if not hours.may_be_stopped(now):
                raise
            raise DatabaseStoppedError(
                f"{error} (schedule '{hours.schedule.name}' has the database stopped or "
                f"starting at {now.astimezone(UTC):%Y-%m-%dT%H:%M}Z)"
            ) from error

    return open_unless_stopped


def database_hours_from_environment(environment: Mapping[str, str]) -> DatabaseHours | None:
    """DATABASE_SCHEDULE, when set."""
    text = environment.get("DATABASE_SCHEDULE", "").strip()
    if not text:
        return None
    try:
        return database_hours_from_json("DATABASE_SCHEDULE", text)
    except ScheduleError as problem:
        raise SettingsError(str(problem)) from None


def _required(environment: Mapping[str, str], name: str) -> str:
    value = environment.get(name)
    if not value:
        raise SettingsError(f"environment variable {name} is required")
    return value


def _integer(environment: Mapping[str, str], name: str, default: int) -> int:
    value = environment.get(name)
    if not value:
        return default
    if not value.isdecimal() or int(value) == 0:
        raise SettingsError(f"environment variable {name} must be a positive integer")
    return int(value)
