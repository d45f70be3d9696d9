"""The runner's settings: every variable the deployment writes, each mistake named."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from functions.report_runner.settings import REQUIRED_ENVIRONMENT, RunnerSettings, SettingsError

SERVER = {
    "REPORTS_BUCKET": "reports-bucket",
    "REPORTS_KEY_ARN": "arn:aws:kms:eu-west-2:111100000001:key/1",
    "REPORTS_DIRECTORY": "/opt/report-runner/app/reports",
    "ALERT_TOPIC_ARN": "arn:aws:sns:eu-west-2:111100000001:alerts",
    "REPORT_SENDER": "reports-dev@example.org",
    "LINK_EXPIRY_HOURS": "6",
    "CATCH_UP_DAYS": "7",
    "DATABASE_SECRET_ARN": "arn:aws:secretsmanager:eu-west-2:111100000001:secret:rds!db-1",
    "DATABASE_HOST": "reporting.abc.eu-west-2.rds.amazonaws.com",
    "DATABASE_PORT": "1433",
    "DATABASE_NAME": "reporting",
    "STATE_DIRECTORY": "/var/lib/report-runner",
}


def test_the_server_environment_reads_whole() -> None:
    settings = RunnerSettings.from_environment(SERVER)

    assert settings.link_expiry == timedelta(hours=6)
    assert settings.sql_server is not None
    assert settings.sql_server.port == 1433
    assert settings.database_url is None
    assert settings.definitions_dir == Path("/opt/report-runner/app/reports")
    assert settings.work_dir == Path("/var/lib/report-runner")


@pytest.mark.parametrize("name", REQUIRED_ENVIRONMENT)
def test_each_required_variable_is_named_when_missing(name: str) -> None:
    environment = {key: value for key, value in SERVER.items() if key != name}

    with pytest.raises(SettingsError, match=name):
        RunnerSettings.from_environment(environment)


@pytest.mark.parametrize(
    ("name", "value"),
    [("LINK_EXPIRY_HOURS", "13"), ("CATCH_UP_DAYS", "0"), ("DATABASE_PORT", "14x")],
)
def test_numbers_out_of_range_are_named(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=f"{name} must be a whole number"):
        RunnerSettings.from_environment({**SERVER, name: value})


def test_a_url_and_a_secret_together_are_refused() -> None:
    with pytest.raises(SettingsError, match="exactly one of DATABASE_URL"):
        RunnerSettings.from_environment({**SERVER, "DATABASE_URL": "sqlite:///r.db"})
