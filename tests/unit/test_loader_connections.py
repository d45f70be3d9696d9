"""Settings, connection strings and the kept connection, without any server."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import pyodbc
import pytest

from functions.loader.database import (
    Database,
    ReusedDatabase,
    odbc_connection_string,
    parse_target,
)
from functions.loader.dialects import DIALECTS
from functions.loader.errors import DatabaseUnavailableError
from functions.loader.settings import LoaderSettings, SettingsError

SECRET_ENVIRONMENT = {
    "ALERT_TOPIC_ARN": "arn:aws:sns:eu-west-2:123456789012:alerts",
    "DATABASE_SECRET_ARN": "arn:aws:secretsmanager:eu-west-2:123456789012:secret:rds!db-1",
    "DATABASE_HOST": "staging.abc.eu-west-2.rds.amazonaws.com",
    "DATABASE_NAME": "reporting",
    "DATABASE_LOGIN_TIMEOUT_SECONDS": "8",
}


class FakeSecrets:
    def __init__(self, password: str) -> None:
        self.password = password
        self.requests: list[str] = []

    def get_secret_value(self, SecretId: str) -> dict[str, str]:  # noqa: N803 -- boto3's name
        self.requests.append(SecretId)
        return {"SecretString": json.dumps({"username": "loader", "password": self.password})}


def test_sql_server_connects_from_the_rds_secret_with_tls_and_a_login_timeout(monkeypatch) -> None:
    calls: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(
        pyodbc, "connect", lambda address, **options: calls.append((address, options)) or "conn"
    )
    secrets = FakeSecrets(password="p;w}d=1")
    settings = LoaderSettings.from_environment(SECRET_ENVIRONMENT)

    database = settings.database_opener(lambda: secrets)()

    assert (database.connection, database.dialect.name) == ("conn", "mssql")
    assert calls == [
        (
            "Driver=ODBC Driver 18 for SQL Server;"
            "Server=tcp:staging.abc.eu-west-2.rds.amazonaws.com,1433;Database=reporting;"
            "Uid=loader;Pwd={p;w}}d=1};Encrypt=yes;TrustServerCertificate=no;",
            {"autocommit": False, "timeout": 8},
        )
    ]
    assert secrets.requests == [SECRET_ENVIRONMENT["DATABASE_SECRET_ARN"]]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"DATABASE_URL": "sqlite:///x.db"}, "exactly one of DATABASE_URL and DATABASE_SECRET_ARN"),
        ({"DATABASE_HOST": ""}, "DATABASE_HOST is required"),
        ({"ALERT_TOPIC_ARN": ""}, "ALERT_TOPIC_ARN is required"),
        ({"DATABASE_LOGIN_TIMEOUT_SECONDS": "soon"}, "must be a positive integer"),
    ],
)
def test_settings_name_the_variable_that_is_wrong(change: dict, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        LoaderSettings.from_environment(SECRET_ENVIRONMENT | change)


@pytest.mark.parametrize(
    ("url", "dialect", "address"),
    [
        ("sqlite:///relative/staging.db", "sqlite", "relative/staging.db"),
        ("sqlite:////tmp/staging.db", "sqlite", "/tmp/staging.db"),
        (
            "postgresql://loader:p%40ss@db.internal:6543/reporting?SSLmode=require",
            "postgresql",
            "Driver=PostgreSQL Unicode;Server=db.internal;Port=6543;Database=reporting;"
            "Uid=loader;Pwd=p@ss;UseServerSidePrepare=1;BoolsAsChar=0;SSLmode=require;",
        ),
        (
            "mssql://loader:secret@sql.internal/reporting",
            "mssql",
            "Driver=ODBC Driver 18 for SQL Server;Server=tcp:sql.internal,1433;"
            "Database=reporting;Uid=loader;Pwd=secret;Encrypt=yes;TrustServerCertificate=no;",
        ),
        (
            "Driver={PostgreSQL Unicode};Server=h;Database=d;UseServerSidePrepare=0",
            "postgresql",
            "Driver={PostgreSQL Unicode};Server=h;Database=d;UseServerSidePrepare=0;BoolsAsChar=0;",
        ),
        (
            "Driver={ODBC Driver 18 for SQL Server};Server=tcp:h,1433;Encrypt=yes;",
            "mssql",
            "Driver={ODBC Driver 18 for SQL Server};Server=tcp:h,1433;Encrypt=yes;",
        ),
    ],
)
def test_database_urls_and_odbc_strings(url: str, dialect: str, address: str) -> None:
    target = parse_target(url)

    assert (target.dialect.name, target.address) == (dialect, address)


@pytest.mark.parametrize("url", ["mysql://h/d", "sqlite://relative.db", "Driver={SQLite3};x=1"])
def test_unsupported_databases_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match=r"SQLite URL|unsupported database|must name"):
        parse_target(url)


def test_odbc_values_are_braced_when_they_would_end_the_string() -> None:
    assert odbc_connection_string({"Pwd": "a;b", "Uid": " x", "Db": "plain"}) == (
        "Pwd={a;b};Uid={ x};Db=plain;"
    )


class Flaky:
    """A connection that answers until `broken` is set."""

    def __init__(self) -> None:
        self.broken = False
        self.closed = False

    def cursor(self) -> Flaky:
        return self

    def execute(self, sql: str) -> None:
        if self.broken:
            raise sqlite3.OperationalError("server closed the connection")

    def fetchall(self) -> list:
        return [(1,)]

    def rollback(self) -> None:
        """Nothing to roll back in a fake."""

    def close(self) -> None:
        self.closed = True


def test_the_kept_connection_is_checked_and_replaced_when_broken() -> None:
    opened: list[Flaky] = []

    def open_database() -> Database:
        opened.append(Flaky())
        return Database(opened[-1], DIALECTS["sqlite"], sqlite3)

    kept = ReusedDatabase(open_database)
    first = kept.get()
    assert kept.get() is first
    opened[0].broken = True

    second = kept.get()

    assert second is not first
    assert (len(opened), opened[0].closed) == (2, True)


def test_a_connection_that_cannot_answer_is_unavailable() -> None:
    def open_broken() -> Database:
        connection = Flaky()
        connection.broken = True
        return Database(connection, DIALECTS["sqlite"], sqlite3)

    with pytest.raises(DatabaseUnavailableError):
        ReusedDatabase(open_broken).get()
