"""The scheduler's pure logic: what it decides for one resource, the tags it would write, RDS
maintenance windows, and its settings."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

import pytest

from functions.scheduler.decisions import (
    LAST_ACTION_AT_TAG,
    LAST_ACTION_TAG,
    REASON_TAG,
    Action,
    Decision,
    decide,
    last_action,
    maintenance_window,
    tag_value,
    tags_after,
)
from functions.scheduler.inventory import Kind, Resource
from functions.scheduler.settings import SchedulerSettings, SettingsError
from functions.working_hours.working_time import HolidayRegion, Period, Schedule, schedule_to_dict

# 07:00-19:00 London time on weekdays, England's bank holidays off; in September that is
# 06:00Z-18:00Z.
OFFICE_HOURS = Schedule(
    name="office-hours",
    timezone="Europe/London",
    periods=(Period(frozenset(range(5)), time(7), time(19)),),
    holidays=HolidayRegion("GB", "ENG"),
    enforced=False,
    maintenance_lead_minutes=0,
)
ENFORCED = replace(OFFICE_HOURS, name="office-hours-enforced", enforced=True)
MAINTAINED = replace(OFFICE_HOURS, name="office-hours-maintained", maintenance_lead_minutes=60)
WINDOW = "sun:03:00-sun:03:30"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


WEDNESDAY_NOON = utc("2026-09-02T11:00")
WEDNESDAY_NIGHT = utc("2026-09-02T21:00")
# Wednesday's stopped stretch began here (19:00 London time).
WEDNESDAY_STOP = utc("2026-09-02T18:00")
WEDNESDAY_START = utc("2026-09-02T06:00")
SATURDAY = utc("2026-09-05T11:00")
BANK_HOLIDAY = utc("2026-08-31T11:00")


def stamped(action: str, at: datetime) -> dict[str, str]:
    """The tags the scheduler leaves after an action at `at`."""
    return {
        LAST_ACTION_TAG: action,
        LAST_ACTION_AT_TAG: at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        REASON_TAG: "earlier",
    }


def ec2(state: str = "running", schedule: str = "office-hours", **tags: str) -> Resource:
    return Resource(
        kind=Kind.EC2,
        identifier="i-0123456789abcdef0",
        tag_target="i-0123456789abcdef0",
        schedule_name=schedule,
        state=state,
        tags={"Schedule": schedule, **tags},
    )


def rds(
    state: str = "available",
    schedule: str = "office-hours",
    tags: dict[str, str] | None = None,
    *,
    engine: str = "postgres",
    multi_az: bool = False,
    cluster: str | None = None,
    replica_of: str | None = None,
    replicas: tuple[str, ...] = (),
) -> Resource:
    return Resource(
        kind=Kind.RDS,
        identifier="reports",
        tag_target="arn:aws:rds:eu-west-2:111100000001:db:reports",
        schedule_name=schedule,
        state=state,
        tags={"Schedule": schedule, **(tags or {})},
        engine=engine,
        multi_az=multi_az,
        cluster=cluster,
        replica_of=replica_of,
        replicas=replicas,
    )


CASES = [
    # (id, resource, schedule, now, action, SchedulerLastAction to record, words in the reason)
    ("stopped in working time", ec2("stopped"), OFFICE_HOURS, WEDNESDAY_NOON, Action.START,
     "started", "office-hours working time"),
    ("running at night", ec2("running"), OFFICE_HOURS, WEDNESDAY_NIGHT, Action.STOP, "stopped",
     "office-hours out of hours"),
    ("running on Saturday", ec2("running"), OFFICE_HOURS, SATURDAY, Action.STOP, "stopped",
     "out of hours"),
    ("running on a bank holiday", ec2("running"), OFFICE_HOURS, BANK_HOLIDAY, Action.STOP,
     "stopped", "public holiday Late Summer Bank Holiday"),
    ("db available on a bank holiday", rds("available"), OFFICE_HOURS, BANK_HOLIDAY, Action.STOP,
     "stopped", "public holiday"),
    ("db stopped in working time", rds("stopped"), OFFICE_HOURS, WEDNESDAY_NOON, Action.START,
     "started", "working time"),
    # Already as the stretch wants it: recorded once a stretch, so that a later change shows.
    ("running in working time", ec2("running"), OFFICE_HOURS, WEDNESDAY_NOON, Action.NONE,
     "found-running", "office-hours working time: already running"),
    ("stopped at night", ec2("stopped"), OFFICE_HOURS, WEDNESDAY_NIGHT, Action.NONE,
     "found-stopped", "out of hours: already stopped"),
    ("db available in working time, found yesterday",
     rds("available", tags=stamped("found-running", WEDNESDAY_START - timedelta(days=1))),
     OFFICE_HOURS, WEDNESDAY_NOON, Action.NONE, "found-running", "already available"),
    ("running, started this morning", ec2("running", **stamped("started", WEDNESDAY_START)),
     OFFICE_HOURS, WEDNESDAY_NOON, Action.NONE, None, "office-hours working time"),
    ("running, found this morning", ec2("running", **stamped("found-running", WEDNESDAY_START)),
     OFFICE_HOURS, WEDNESDAY_NOON, Action.NONE, None, "office-hours working time"),
    # Started by hand after the scheduler's stop (or finding it stopped) in this stretch.
    ("started by hand at night", ec2("running", **stamped("stopped", WEDNESDAY_STOP)),
     OFFICE_HOURS, WEDNESDAY_NIGHT, Action.NONE, None, "started by hand so left running"),
    ("started by hand at night, found stopped",
     ec2("running", **stamped("found-stopped", WEDNESDAY_STOP)), OFFICE_HOURS, WEDNESDAY_NIGHT,
     Action.NONE, None, "started by hand so left running"),
    ("started by hand at night, enforced",
     ec2("running", "office-hours-enforced", **stamped("stopped", WEDNESDAY_STOP)),
     ENFORCED, WEDNESDAY_NIGHT, Action.STOP, "stopped",
     "started by hand and stopped again as enforced"),
    ("db started by hand at night", rds("available", tags=stamped("stopped", WEDNESDAY_STOP)),
     OFFICE_HOURS, WEDNESDAY_NIGHT, Action.NONE, None, "started by hand"),
    # The record is of an earlier stretch: this stretch's change is the scheduler's to make.
    ("running with yesterday's stop",
     ec2("running", **stamped("stopped", WEDNESDAY_STOP - timedelta(days=1))),
     OFFICE_HOURS, WEDNESDAY_NIGHT, Action.STOP, "stopped", "out of hours"),
    ("running with this morning's start", ec2("running", **stamped("started", WEDNESDAY_START)),
     OFFICE_HOURS, WEDNESDAY_NIGHT, Action.STOP, "stopped", "out of hours"),
    ("stopped with yesterday's start",
     ec2("stopped", **stamped("started", WEDNESDAY_START - timedelta(days=1))),
     OFFICE_HOURS, WEDNESDAY_NOON, Action.START, "started", "working time"),
    # Stopped by hand after the scheduler's start (or finding it running) in this stretch.
    ("stopped by hand in working time", ec2("stopped", **stamped("started", WEDNESDAY_START)),
     OFFICE_HOURS, WEDNESDAY_NOON, Action.NONE, None, "stopped by hand so left stopped"),
    ("stopped by hand in working time, found running",
     ec2("stopped", **stamped("found-running", WEDNESDAY_START)), OFFICE_HOURS, WEDNESDAY_NOON,
     Action.NONE, None, "stopped by hand so left stopped"),
    ("stopped by hand in working time, enforced",
     ec2("stopped", "office-hours-enforced", **stamped("started", WEDNESDAY_START)),
     ENFORCED, WEDNESDAY_NOON, Action.START, "started",
     "stopped by hand and started again as enforced"),
    # States in between are waited for.
    ("ec2 pending", ec2("pending"), OFFICE_HOURS, WEDNESDAY_NIGHT, Action.NONE, None,
     "waiting while pending"),
    ("ec2 stopping", ec2("stopping"), OFFICE_HOURS, WEDNESDAY_NOON, Action.NONE, None,
     "waiting while stopping"),
    ("db starting", rds("starting"), OFFICE_HOURS, WEDNESDAY_NIGHT, Action.NONE, None,
     "waiting while starting"),
    ("db modifying", rds("modifying"), OFFICE_HOURS, WEDNESDAY_NIGHT, Action.NONE, None,
     "waiting while modifying"),
    ("db backing up", rds("backing-up"), OFFICE_HOURS, WEDNESDAY_NOON, Action.NONE, None,
     "waiting while backing-up"),
    # Never acted on.
    ("unknown schedule", ec2("running", "office-hour"), None, WEDNESDAY_NIGHT, Action.SKIP, None,
     "no schedule named office-hour"),
    ("auto scaling group", ec2("running", **{"aws:autoscaling:groupName": "workers"}),
     OFFICE_HOURS, WEDNESDAY_NIGHT, Action.SKIP, None, "in Auto Scaling group workers"),
    ("read replica", rds(replica_of="orders"), OFFICE_HOURS, WEDNESDAY_NIGHT, Action.SKIP, None,
     "read replica of orders: RDS cannot stop a read replica"),
    ("source of replicas", rds(replicas=("orders-replica", "orders-replica-2")), OFFICE_HOURS,
     WEDNESDAY_NIGHT, Action.SKIP, None,
     "source of read replicas orders-replica orders-replica-2"),
    ("aurora member", rds(cluster="analytics", engine="aurora-postgresql"), OFFICE_HOURS,
     WEDNESDAY_NIGHT, Action.SKIP, None, "member of Aurora cluster analytics"),
    ("sql server multi-az", rds(engine="sqlserver-se", multi_az=True), OFFICE_HOURS,
     WEDNESDAY_NIGHT, Action.SKIP, None, "SQL Server Multi-AZ"),
    ("sql server single-az", rds(engine="sqlserver-se"), OFFICE_HOURS, WEDNESDAY_NIGHT,
     Action.STOP, "stopped", "out of hours"),
    ("postgres multi-az", rds(multi_az=True), OFFICE_HOURS, WEDNESDAY_NIGHT, Action.STOP,
     "stopped", "out of hours"),
    ("skipped even when stopped", rds("stopped", replica_of="orders"), OFFICE_HOURS,
     WEDNESDAY_NOON, Action.SKIP, None, "read replica"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("resource", "schedule", "now", "expected", "reason"),
    [(*case[1:4], case[4:6], case[6]) for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_decision(resource, schedule, now, expected, reason):
    decision = decide(resource, schedule, now)
    assert (decision.action, decision.record) == expected
    assert reason in decision.reason


def test_only_an_unknown_schedule_is_flagged_as_one():
    assert decide(ec2("running", "office-hour"), None, SATURDAY).unknown_schedule
    replica = rds(replica_of="orders")
    assert not decide(replica, OFFICE_HOURS, SATURDAY).unknown_schedule


# RDS starts a DB instance by itself after seven days stopped. A "monday-report" schedule runs
# an hour on Mondays; with the bank holiday on 2026-08-31 its stopped stretch lasts two weeks.
MONDAY_REPORT = replace(
    OFFICE_HOURS, name="monday-report", periods=(Period(frozenset({0}), time(9), time(10)),)
)
REPORT_STOP = utc("2026-08-24T09:05")


@pytest.mark.parametrize(
    ("resource", "after", "action", "reason"),
    [
        (rds(tags=stamped("stopped", REPORT_STOP)), timedelta(days=7), Action.STOP,
         "RDS restarted it after 7 days stopped"),
        (rds(tags=stamped("stopped", REPORT_STOP)), timedelta(days=8), Action.STOP,
         "RDS restarted it"),
        # Within the seven days it can only have been a person.
        (rds(tags=stamped("stopped", REPORT_STOP)), timedelta(days=6, hours=23), Action.NONE,
         "started by hand"),
        # EC2 never starts an instance by itself.
        (ec2(**stamped("stopped", REPORT_STOP)), timedelta(days=7), Action.NONE,
         "started by hand"),
    ],
)  # fmt: skip
def test_rds_restarting_itself_after_seven_days_is_undone(resource, after, action, reason):
    resource = replace(resource, schedule_name="monday-report")
    decision = decide(resource, MONDAY_REPORT, REPORT_STOP + after)
    assert decision.action is action
    assert reason in decision.reason


SUNDAY = "2026-09-06"


@pytest.mark.parametrize(
    ("resource", "schedule", "at", "action", "reason"),
    [
        # The window opens at 03:00Z; the schedule starts the instance an hour before.
        (rds("stopped"), MAINTAINED, "01:59", Action.NONE, "out of hours"),
        (rds("stopped"), MAINTAINED, "02:00", Action.START,
         "maintenance window sun:03:00-sun:03:30 from 2026-09-06T03:00Z"),
        (rds("available", tags=stamped("started", utc(f"{SUNDAY}T02:00"))), MAINTAINED, "03:15",
         Action.NONE, "maintenance window"),
        # Once the window has closed, stopped as usual.
        (rds("available", tags=stamped("started", utc(f"{SUNDAY}T02:00"))), MAINTAINED, "03:30",
         Action.STOP, "out of hours"),
        (rds("stopped"), OFFICE_HOURS, "02:30", Action.NONE, "out of hours"),
        (ec2("stopped"), MAINTAINED, "02:30", Action.NONE, "out of hours"),
    ],
)  # fmt: skip
def test_a_db_instance_runs_for_its_maintenance_window(resource, schedule, at, action, reason):
    resource = replace(resource, schedule_name=schedule.name, maintenance_window=WINDOW)
    decision = decide(resource, schedule, utc(f"{SUNDAY}T{at}"))
    assert decision.action is action
    assert reason in decision.reason


@pytest.mark.parametrize(
    ("window", "now", "expected"),
    [
        (WINDOW, "2026-09-02T12:00", ("2026-09-06T03:00", "2026-09-06T03:30")),
        (WINDOW, "2026-09-06T03:10", ("2026-09-06T03:00", "2026-09-06T03:30")),
        (WINDOW, "2026-09-06T03:30", ("2026-09-13T03:00", "2026-09-13T03:30")),
        # Over the turn of the week: open on Sunday evening, closed on Monday.
        ("sun:23:30-mon:00:30", "2026-09-07T00:10", ("2026-09-06T23:30", "2026-09-07T00:30")),
        ("sun:23:30-mon:00:30", "2026-09-07T00:40", ("2026-09-13T23:30", "2026-09-14T00:30")),
        ("Mon:05:00-Mon:05:30", "2026-09-07T04:00", ("2026-09-07T05:00", "2026-09-07T05:30")),
    ],
)
def test_maintenance_window_occurrence(window, now, expected):
    assert maintenance_window(window, utc(now)) == (utc(expected[0]), utc(expected[1]))


@pytest.mark.parametrize(
    "window",
    ["", "sunday 03:00", "sun:25:00-sun:26:00", "sun:03:00-sun:03:00", "xyz:03:00-sun:04:00"],
)
def test_a_malformed_maintenance_window_is_ignored(window):
    assert maintenance_window(window, SATURDAY) is None
    resource = replace(rds("stopped", "office-hours-maintained"), maintenance_window=window)
    assert decide(resource, MAINTAINED, utc(f"{SUNDAY}T02:30")).action is Action.NONE


def test_a_start_or_stop_records_what_when_and_why():
    now = utc("2026-09-02T18:05:07")
    decision = Decision(
        Action.STOP, "office-hours public holiday New Year's Day (observed)", "stopped"
    )
    assert tags_after(ec2(), decision, now) == {
        LAST_ACTION_TAG: "stopped",
        LAST_ACTION_AT_TAG: "2026-09-02T18:05:07Z",
        REASON_TAG: "office-hours public holiday New Years Day observed",
    }
    found = Decision(Action.NONE, "office-hours working time: already running", "found-running")
    assert tags_after(ec2(), found, now)[LAST_ACTION_TAG] == "found-running"


def test_a_skip_writes_its_reason_only_when_it_changed():
    decision = Decision(Action.SKIP, "read replica of orders: RDS cannot stop a read replica")
    assert tags_after(rds(), decision, SATURDAY) == {REASON_TAG: decision.reason}
    already = rds(tags={REASON_TAG: decision.reason})
    assert tags_after(already, decision, SATURDAY) == {}
    assert tags_after(rds(), Decision(Action.NONE, "out of hours"), SATURDAY) == {}


def test_tag_values_keep_only_what_aws_allows():
    assert tag_value("a (b), c's: d/e=f+g-h@i_j.k") == "a b cs: d/e=f+g-h@i_j.k"
    assert tag_value("  spaced   out  ") == "spaced out"
    assert tag_value("Zürich 2") == "Zürich 2"
    assert len(tag_value("x" * 300)) == 256


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        (stamped("stopped", WEDNESDAY_STOP), ("stopped", WEDNESDAY_STOP)),
        ({LAST_ACTION_TAG: "started", LAST_ACTION_AT_TAG: "2026-09-02T06:00:00+00:00"},
         ("started", WEDNESDAY_START)),
        ({}, None),
        ({LAST_ACTION_TAG: "rebooted", LAST_ACTION_AT_TAG: "2026-09-02T06:00:00Z"}, None),
        ({LAST_ACTION_TAG: "stopped", LAST_ACTION_AT_TAG: "yesterday"}, None),
        # Without a timezone it cannot be compared with the stretch's start.
        ({LAST_ACTION_TAG: "stopped", LAST_ACTION_AT_TAG: "2026-09-02T06:00:00"}, None),
        ({LAST_ACTION_TAG: "stopped"}, None),
    ],
)  # fmt: skip
def test_last_action_read_back(tags, expected):
    last = last_action(tags)
    assert (None if last is None else (last.action, last.at)) == expected


def environment(**overrides: str) -> dict[str, str]:
    schedules = {s.name: schedule_to_dict(s) for s in (OFFICE_HOURS, ENFORCED)}
    return {"SCHEDULES": json.dumps(schedules), **overrides}


def test_settings_from_the_environment():
    settings = SchedulerSettings.from_environment(environment())
    assert settings.schedules == {"office-hours": OFFICE_HOURS, "office-hours-enforced": ENFORCED}
    assert settings.schedule_tag == "Schedule"
    assert settings.dry_run is False
    tagged = SchedulerSettings.from_environment(environment(SCHEDULE_TAG="Hours", DRY_RUN="TRUE"))
    assert (tagged.schedule_tag, tagged.dry_run) == ("Hours", True)


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({}, "SCHEDULES is required"),
        ({"SCHEDULES": "{"}, "SCHEDULES is not JSON"),
        ({"SCHEDULES": "{}"}, "SCHEDULES must map schedule names"),
        ({"SCHEDULES": '{"a": []}'}, "SCHEDULES: a must be a JSON object"),
        ({"SCHEDULES": '{"a": {"periods": []}}'}, "SCHEDULES: schedule 'a': timezone is required"),
        (environment(DRY_RUN="yes"), "DRY_RUN must be true or false"),
    ],
)
def test_bad_settings_name_the_variable(variables, message):
    with pytest.raises(SettingsError, match=message):
        SchedulerSettings.from_environment(variables)
