"""The sweeper's settings and when it may send: pure, without AWS."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from functions.incoming_sweeper.settings import SettingsError, SweeperSettings
from functions.incoming_sweeper.sweeper import DATABASE_STARTUP_GRACE, database_up
from functions.loader import settings as loader_settings
from functions.scheduler.working_time import schedule_from_dict, schedule_to_dict

OFFICE_HOURS = schedule_from_dict(
    "reporting-office-hours",
    {
        "timezone": "Europe/London",
        "periods": [{"days": ["mon-fri"], "start": "07:00", "stop": "19:00"}],
        "holidays": {"country": "GB", "subdivision": "ENG"},
    },
)
ENVIRONMENT = {
    "LANDING_BUCKET": "reporting-landing",
    "LOADER_FUNCTION_NAME": "reporting-landing-loader",
    "DATABASE_SCHEDULE": json.dumps({"name": OFFICE_HOURS.name, **schedule_to_dict(OFFICE_HOURS)}),
    "POWERTOOLS_SERVICE_NAME": "incoming-sweeper",
}


def test_settings_are_read_from_the_environment() -> None:
    settings = SweeperSettings.from_environment(ENVIRONMENT)

    assert settings == SweeperSettings(
        landing_bucket="reporting-landing",
        loader_function_name="reporting-landing-loader",
        database_schedule=OFFICE_HOURS,
        minimum_age=timedelta(minutes=30),
    )


def test_the_minimum_age_can_be_set() -> None:
    settings = SweeperSettings.from_environment(ENVIRONMENT | {"MINIMUM_AGE_MINUTES": "45"})

    assert settings.minimum_age == timedelta(minutes=45)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"LANDING_BUCKET": " "}, "LANDING_BUCKET is required"),
        ({"LOADER_FUNCTION_NAME": ""}, "LOADER_FUNCTION_NAME is required"),
        ({"DATABASE_SCHEDULE": ""}, "DATABASE_SCHEDULE is required"),
        ({"DATABASE_SCHEDULE": "{"}, "DATABASE_SCHEDULE is not JSON"),
        ({"DATABASE_SCHEDULE": "[]"}, "DATABASE_SCHEDULE must be a JSON object"),
        ({"DATABASE_SCHEDULE": '{"timezone": "UTC"}'}, 'DATABASE_SCHEDULE needs a "name"'),
        ({"DATABASE_SCHEDULE": '{"name": "x", "timezone": "UTC"}'}, "DATABASE_SCHEDULE: .*periods"),
        ({"MINIMUM_AGE_MINUTES": "0"}, "MINIMUM_AGE_MINUTES must be a positive integer"),
        ({"MINIMUM_AGE_MINUTES": "half an hour"}, "MINIMUM_AGE_MINUTES must be a positive"),
    ],
)
def test_settings_name_the_variable_that_is_wrong(change: dict, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        SweeperSettings.from_environment(ENVIRONMENT | change)


def test_the_sweeper_waits_as_long_as_the_loader_excuses_a_starting_database() -> None:
    # Shorter, and the sweeper would send files the loader leaves again; the sweeper cannot
    # import the loader (its package holds only its own folder and functions.scheduler).
    assert DATABASE_STARTUP_GRACE == loader_settings.DATABASE_STARTUP_GRACE


@pytest.mark.parametrize(
    ("now", "up"),
    [
        (datetime(2026, 11, 25, 6, 59, tzinfo=UTC), False),
        (datetime(2026, 11, 25, 7, 0, tzinfo=UTC), False),
        (datetime(2026, 11, 25, 7, 19, 59, tzinfo=UTC), False),
        (datetime(2026, 11, 25, 7, 20, tzinfo=UTC), True),
        (datetime(2026, 11, 25, 18, 59, tzinfo=UTC), True),
        (datetime(2026, 11, 25, 19, 0, tzinfo=UTC), False),
        (datetime(2026, 11, 25, 23, 0, tzinfo=UTC), False),
        # Saturday; Christmas Day (a Friday); Monday 28 December, the Boxing Day substitute.
        (datetime(2026, 11, 28, 12, 0, tzinfo=UTC), False),
        (datetime(2026, 12, 25, 12, 0, tzinfo=UTC), False),
        (datetime(2026, 12, 28, 12, 0, tzinfo=UTC), False),
        # British Summer Time: 07:20 in London is 06:20 UTC.
        (datetime(2026, 7, 1, 6, 20, tzinfo=UTC), True),
        (datetime(2026, 7, 1, 7, 19, tzinfo=UTC) - timedelta(hours=1), False),
    ],
)
def test_the_database_is_up_once_it_has_run_for_the_grace(now: datetime, up: bool) -> None:
    assert database_up(OFFICE_HOURS, now) is up
    # The loader's view is the complement: it excuses a failed connection exactly then.
    assert loader_settings.DatabaseHours(OFFICE_HOURS).may_be_stopped(now) is not up
