"""The freshness check's environment: windows, schedule and the loader's database variables."""

from __future__ import annotations

import json
from datetime import time
from typing import Any

import pyodbc
import pytest

from functions.freshness.settings import FreshnessSettings, SettingsError
from functions.loader.settings import SqlServerSecret
from functions.working_hours.working_time import HolidayRegion, Period, Schedule, schedule_to_dict

OFFICE_HOURS = Schedule(
    name="office-hours",
    timezone="Europe/London",
    periods=(Period(frozenset(range(5)), time(8), time(18)),),
    holidays=HolidayRegion("GB", "ENG"),
    enforced=False,
    maintenance_lead_minutes=0,
)
ENVIRONMENT = {
    "ALERT_TOPIC_ARN": "arn:aws:sns:eu-west-2:123456789012:alerts",
    "DATABASE_URL": "sqlite:///reporting.db",
    "WINDOWS": json.dumps({"maths/pupils": 24, "maths/staff": 120.5}),
    "DATABASE_SCHEDULE": json.dumps({"name": "office-hours", **schedule_to_dict(OFFICE_HOURS)}),
}
SECRET_ENVIRONMENT = {
    **{key: value for key, value in ENVIRONMENT.items() if key != "DATABASE_URL"},
    "DATABASE_SECRET_ARN": "arn:aws:secretsmanager:eu-west-2:123456789012:secret:rds!db-1",
    "DATABASE_HOST": "reporting.abc.eu-west-2.rds.amazonaws.com",
    "DATABASE_PORT": "1433",
    "DATABASE_NAME": "reporting",
}


def test_reads_windows_schedule_and_database_url() -> None:
    settings = FreshnessSettings.from_environment(ENVIRONMENT)

    assert settings.windows == {"maths/pupils": 24.0, "maths/staff": 120.5}
    assert settings.schedule == OFFICE_HOURS
    assert settings.alert_topic_arn == ENVIRONMENT["ALERT_TOPIC_ARN"]
    assert (settings.database_url, settings.sql_server) == ("sqlite:///reporting.db", None)
    assert settings.login_timeout_seconds == 10


def test_reads_the_sql_server_secret_variables() -> None:
    settings = FreshnessSettings.from_environment(SECRET_ENVIRONMENT)

    assert settings.sql_server == SqlServerSecret(
        secret_arn=SECRET_ENVIRONMENT["DATABASE_SECRET_ARN"],
        host="reporting.abc.eu-west-2.rds.amazonaws.com",
        port=1433,
        database="reporting",
    )


def test_sql_server_is_opened_with_the_secret_read_at_connect(monkeypatch) -> None:
    class Secrets:
        def get_secret_value(self, SecretId: str) -> dict[str, str]:  # noqa: N803 -- boto3's
            return {"SecretString": json.dumps({"username": "check", "password": "p;w"})}

    calls: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(
        pyodbc, "connect", lambda address, **options: calls.append((address, options)) or "conn"
    )
    settings = FreshnessSettings.from_environment(
        {**SECRET_ENVIRONMENT, "DATABASE_LOGIN_TIMEOUT_SECONDS": "5"}
    )

    database = settings.database_opener(Secrets)()

    assert (database.connection, database.dialect.name) == ("conn", "mssql")
    assert calls == [
        (
            "Driver=ODBC Driver 18 for SQL Server;"
            "Server=tcp:reporting.abc.eu-west-2.rds.amazonaws.com,1433;Database=reporting;"
            "Uid=check;Pwd={p;w};Encrypt=yes;TrustServerCertificate=no;",
            {"autocommit": False, "timeout": 5},
        )
    ]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"ALERT_TOPIC_ARN": ""}, "ALERT_TOPIC_ARN is required"),
        ({"DATABASE_URL": ""}, "exactly one of DATABASE_URL and DATABASE_SECRET_ARN"),
        ({"DATABASE_SECRET_ARN": "arn"}, "exactly one of DATABASE_URL and DATABASE_SECRET_ARN"),
        ({"WINDOWS": "{"}, "WINDOWS is not JSON"),
        ({"WINDOWS": "{}"}, "WINDOWS must be a non-empty JSON object"),
        ({"WINDOWS": '{"pupils": 24}'}, "'pupils' is not `<platform>/<dataset>`"),
        ({"WINDOWS": '{"maths/pupils/x": 24}'}, "is not `<platform>/<dataset>`"),
        ({"WINDOWS": '{"maths/pupils": 0}'}, "maths/pupils needs a positive number of hours"),
        ({"WINDOWS": '{"maths/pupils": "24"}'}, "maths/pupils needs a positive number"),
        ({"WINDOWS": '{"maths/pupils": true}'}, "maths/pupils needs a positive number"),
        ({"WINDOWS": '{"maths/pupils": Infinity}'}, "maths/pupils needs a positive number"),
        ({"DATABASE_SCHEDULE": '{"timezone": "UTC"}'}, 'DATABASE_SCHEDULE needs a "name"'),
        (
            {"DATABASE_SCHEDULE": '{"name": "x", "timezone": "UTC"}'},
            "DATABASE_SCHEDULE: schedule 'x': periods",
        ),
        ({"DATABASE_LOGIN_TIMEOUT_SECONDS": "0"}, "must be a positive integer"),
    ],
)
def test_invalid_environment_names_the_variable(changes: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as raised:
        FreshnessSettings.from_environment({**ENVIRONMENT, **changes})

    assert message in str(raised.value)


def test_the_secret_needs_its_host_and_database() -> None:
    environment = {k: v for k, v in SECRET_ENVIRONMENT.items() if k != "DATABASE_HOST"}

    with pytest.raises(SettingsError, match="DATABASE_HOST is required"):
        FreshnessSettings.from_environment(environment)
