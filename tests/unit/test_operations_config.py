"""The operations keys (schedules, scheduler, alerts, freshness, the database's windows): each
bad case fails naming its key; the sample stack files parse into what they say."""

from __future__ import annotations

import copy
from datetime import time

import pytest
from stack_helpers import parsed_config, plain_config

from functions.working_hours.working_time import HolidayRegion
from stack_config import ConfigError, parse_stack_config
from stack_config.load import check_freshness_datasets


def _fails(stack: str, mutate, key: str, words: str) -> None:
    raw = copy.deepcopy(plain_config(stack))
    mutate(raw)
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(stack, raw)
    assert caught.value.key == key
    assert words in str(caught.value)


def _office_hours(raw: dict) -> dict:
    return raw["schedules"]["office-hours"]


def test_the_prod_schedule_is_parsed_as_written():
    (schedule,) = parsed_config("prod").operations.schedules
    assert schedule.name == "office-hours"
    assert schedule.timezone == "Europe/London"
    (period,) = schedule.periods
    assert (period.days, period.start, period.stop) == (
        frozenset(range(5)),
        time(7, 30),
        time(18, 30),
    )
    assert schedule.holidays == HolidayRegion("GB", "ENG")
    assert (schedule.enforced, schedule.maintenance_lead_minutes) == (True, 30)


def test_holidays_default_to_england_and_wales_and_false_turns_them_off():
    raw = copy.deepcopy(plain_config("dev"))
    del _office_hours(raw)["holidays"]
    (schedule,) = parse_stack_config("dev", raw).operations.schedules
    assert schedule.holidays == HolidayRegion("GB", "ENG")
    _office_hours(raw)["holidays"] = False
    (schedule,) = parse_stack_config("dev", raw).operations.schedules
    assert schedule.holidays is None


@pytest.mark.parametrize(
    ("mutate", "key", "words"),
    [
        (
            lambda c: _office_hours(c).update(timezone="Europe/Londn"),
            "reporting:schedules.office-hours.timezone",
            "IANA time zone",
        ),
        (
            lambda c: _office_hours(c)["periods"][0].update(days=["mon-fry"]),
            "reporting:schedules.office-hours.periods[0].days",
            "is not a day",
        ),
        (
            lambda c: _office_hours(c)["periods"][0].update(start="7am"),
            "reporting:schedules.office-hours.periods[0].start",
            "HH:MM",
        ),
        (
            lambda c: _office_hours(c)["periods"][0].update(start="19:00", stop="07:00"),
            "reporting:schedules.office-hours.periods[0].stop",
            "past midnight is two periods",
        ),
        (
            lambda c: _office_hours(c).update(holidays={"country": "XX"}),
            "reporting:schedules.office-hours.holidays.country",
            "country 'XX'",
        ),
        (
            lambda c: _office_hours(c).update(holidays={"country": "GB", "subdivision": "LDN"}),
            "reporting:schedules.office-hours.holidays.subdivision",
            "ENG",
        ),
        (
            lambda c: _office_hours(c).update(holidays={"country": "GB"}),
            "reporting:schedules.office-hours.holidays.subdivision",
            "is required for GB",
        ),
        (
            lambda c: c.update(schedule="nights"),
            "reporting:schedule",
            "which `schedules` does not define",
        ),
        (
            lambda c: c.pop("scheduler"),
            "reporting:scheduler.powertoolsLayerArn",
            "is required",
        ),
        (
            lambda c: c["scheduler"].update(rate="cron(0 8 * * ? *)"),
            "reporting:scheduler.rate",
            "rate(5 minutes)",
        ),
        (
            lambda c: c["alerts"].update(emails=["not-an-address"]),
            "reporting:alerts.emails[0]",
            "email address",
        ),
        (
            lambda c: c["alerts"]["mail"].update(sender="alerts at example"),
            "reporting:alerts.mail.sender",
            "SES identity",
        ),
        (
            lambda c: c["freshness"]["datasets"].update({"Maths/staff": 3}),
            "reporting:freshness.datasets.Maths/staff",
            "<platform>/<dataset>",
        ),
        (
            lambda c: c["reportingDatabase"].update(backupWindow="8:00-8:30"),
            "reporting:reportingDatabase.backupWindow",
            "08:00-08:30",
        ),
        (
            lambda c: c["reportingDatabase"].update(backupWindow="02:00-02:30"),
            "reporting:reportingDatabase.backupWindow",
            "RDS backs up only a running instance",
        ),
        (
            lambda c: c["reportingDatabase"].update(maintenanceWindow="tue:08:30"),
            "reporting:reportingDatabase.maintenanceWindow",
            "weekly window",
        ),
    ],
)
def test_a_bad_operations_value_names_its_key(mutate, key, words):
    _fails("prod", mutate, key, words)


def test_a_backup_window_in_hours_only_in_winter_is_refused():
    # 07:00-07:30 UTC is 07:00 in January (stopped: the schedule starts 07:30) and 08:00 in July.
    _fails(
        "prod",
        lambda c: c["reportingDatabase"].update(backupWindow="07:00-07:30"),
        "reporting:reportingDatabase.backupWindow",
        "Wednesday 14 January",
    )


def test_a_spoke_needs_no_scheduler_but_then_no_schedule_check_either():
    config = parsed_config("prod-maths")
    assert config.operations.scheduler is None
    assert config.operations.schedules == ()


def test_freshness_overrides_name_catalog_datasets_of_the_hubs_platforms():
    from functions.catalog import load_catalog
    from offline.stack_files import PROJECT_DIR

    catalog = load_catalog(PROJECT_DIR / "datasets")
    config = parsed_config("dev")
    check_freshness_datasets(config, catalog)
    for name, words in (("maths/staf", "staf"), ("history/pupils", "not one of this hub")):
        raw = copy.deepcopy(plain_config("dev"))
        raw["freshness"]["datasets"] = {name: 3}
        with pytest.raises(ConfigError) as caught:
            check_freshness_datasets(parse_stack_config("dev", raw), catalog)
        assert caught.value.key == f"reporting:freshness.datasets.{name}"
        assert words in str(caught.value)
