"""The sweeper's settings and when it may send: pure, without AWS."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from functions.incoming_sweeper.settings import SettingsError, SweeperSettings
from functions.working_hours.working_time import schedule_from_dict, schedule_to_dict

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
