"""The out-of-hours scheduler end to end on the emulator: EC2 and RDS instances of one account,
the handler run at instants a test chooses (its clock replaced), and the instances' states and
tags read back after every run.

What moto does here, as AWS does: StopDBInstance on a read replica fails
(InvalidDBClusterStateFault), on an instance that is not `available` fails
(InvalidDBInstanceState); DescribeDBInstances returns each instance's TagList. Unlike AWS it
lets a source of read replicas stop, changes states at once (EC2's `stopping` reads back as
`stopped`) and lets a test set `aws:` tags, which stand in for what Auto Scaling sets.
"""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from service_fixtures import account_client, account_credentials

from functions.scheduler import handler

# The scheduler stops and starts RDS instances as well as EC2's.
pytestmark = [pytest.mark.services, pytest.mark.emulator_needs("rds")]

IMAGE_ID = "ami-12c6146b"
# 07:00-19:00 London time on weekdays, England's bank holidays off.
OFFICE_HOURS = {
    "timezone": "Europe/London",
    "periods": [{"days": ["mon-fri"], "start": "07:00", "stop": "19:00"}],
    "holidays": {"country": "GB", "subdivision": "ENG"},
    "enforced": False,
    "maintenanceLeadMinutes": 0,
}
SCHEDULES = {
    "office-hours": OFFICE_HOURS,
    "office-hours-enforced": {**OFFICE_HOURS, "enforced": True},
    "office-hours-maintained": {**OFFICE_HOURS, "maintenanceLeadMinutes": 60},
    # An hour on Mondays: with the bank holiday on 2026-08-31, stopped for two weeks.
    "monday-report": {
        **OFFICE_HOURS,
        "periods": [{"days": ["mon"], "start": "09:00", "stop": "10:00"}],
    },
}
SCHEDULER_TAGS = ("SchedulerLastAction", "SchedulerLastActionAt", "SchedulerReason")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclass
class Account:
    """A fresh account on the emulator, seen with the test's own clients; instances are known
    by their Name tag (EC2) or identifier (RDS)."""

    ec2: Any
    rds: Any
    # Name -> EC2 instance id.
    instance_ids: dict[str, str]

    def instance(self, name: str, schedule: str | None, **tags: str) -> str:
        """Launches a running instance tagged with `schedule` (None: untagged)."""
        all_tags = {"Name": name, **tags, **({"Schedule": schedule} if schedule else {})}
        instance_id = self.ec2.run_instances(
            ImageId=IMAGE_ID,
            InstanceType="t3.micro",
            MinCount=1,
            MaxCount=1,
            TagSpecifications=[
                {
                    "ResourceType": "instance",
                    "Tags": [{"Key": k, "Value": v} for k, v in all_tags.items()],
                }
            ],
        )["Instances"][0]["InstanceId"]
        self.instance_ids[name] = instance_id
        return instance_id

    def database(self, identifier: str, schedule: str, **options: Any) -> None:
        """Creates an available PostgreSQL DB instance tagged with `schedule`."""
        self.rds.create_db_instance(
            DBInstanceIdentifier=identifier,
            Engine="postgres",
            DBInstanceClass="db.t3.micro",
            MasterUsername="reporting",
            MasterUserPassword="not-a-secret-1",
            AllocatedStorage=20,
            Tags=[{"Key": "Schedule", "Value": schedule}],
            **options,
        )

    def replica(self, identifier: str, source: str, schedule: str) -> None:
        self.rds.create_db_instance_read_replica(
            DBInstanceIdentifier=identifier,
            SourceDBInstanceIdentifier=source,
            Tags=[{"Key": "Schedule", "Value": schedule}],
        )

    def states(self) -> dict[str, str]:
        """Every instance's state by name, `available` read as `running`."""
        states = {}
        names = {instance_id: name for name, instance_id in self.instance_ids.items()}
        for reservation in self.ec2.describe_instances()["Reservations"]:
            for instance in reservation["Instances"]:
                states[names[instance["InstanceId"]]] = instance["State"]["Name"]
        for db in self.rds.describe_db_instances()["DBInstances"]:
            status = db["DBInstanceStatus"]
            states[db["DBInstanceIdentifier"]] = "running" if status == "available" else status
        return states

    def tags(self, name: str) -> dict[str, str]:
        """The scheduler's tags on an instance or DB instance."""
        if name in self.instance_ids:
            described = self.ec2.describe_instances(InstanceIds=[self.instance_ids[name]])
            tag_list = described["Reservations"][0]["Instances"][0].get("Tags", [])
        else:
            described = self.rds.describe_db_instances(DBInstanceIdentifier=name)
            tag_list = described["DBInstances"][0]["TagList"]
        return {t["Key"]: t["Value"] for t in tag_list if t["Key"] in SCHEDULER_TAGS}

    def start(self, *names: str) -> None:
        """Starts instances as a person (or RDS itself) would, outside the scheduler."""
        for name in names:
            if name in self.instance_ids:
                self.ec2.start_instances(InstanceIds=[self.instance_ids[name]])
            else:
                self.rds.start_db_instance(DBInstanceIdentifier=name)

    def stop(self, *names: str) -> None:
        for name in names:
            if name in self.instance_ids:
                self.ec2.stop_instances(InstanceIds=[self.instance_ids[name]])
            else:
                self.rds.stop_db_instance(DBInstanceIdentifier=name)


@pytest.fixture
def account(aws: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Account]:
    """A new account (so no other test's instances), the handler's environment with its
    credentials and SCHEDULES, and the handler's clients made afresh."""
    account_id = f"{uuid.uuid4().int % 10**11:011d}7"
    credentials = account_credentials(aws, account_id)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", credentials["aws_access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", credentials["aws_secret_access_key"])
    monkeypatch.setenv("AWS_SESSION_TOKEN", credentials["aws_session_token"])
    monkeypatch.setenv("SCHEDULES", json.dumps(SCHEDULES))
    monkeypatch.delenv("SCHEDULE_TAG", raising=False)
    monkeypatch.setenv("DRY_RUN", "false")
    handler.scheduler.cache_clear()
    yield Account(
        account_client(aws, "ec2", credentials), account_client(aws, "rds", credentials), {}
    )
    handler.scheduler.cache_clear()


@pytest.fixture
def run_at(
    account: Account, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> Callable[[datetime], dict[str, Any]]:
    """Invokes the handler as EventBridge Scheduler would, with its clock at `now`."""

    def run(now: datetime) -> dict[str, Any]:
        monkeypatch.setattr(handler, "current_time", lambda: now)
        return handler.lambda_handler({}, lambda_context)

    return run


def instants(*segments: tuple[str, str, timedelta]) -> list[datetime]:
    """Every `step` from `start` up to `stop` (inclusive), for each (start, stop, step)."""
    result = []
    for start, stop, step in segments:
        at = utc(start)
        while at <= utc(stop):
            result.append(at)
            at += step
    return result


def daily(first: str, last: str, times: Iterable[str]) -> list[datetime]:
    """The UTC `times` (HH:MM) of every day from `first` to `last`."""
    day, days = utc(first), []
    while day <= utc(last):
        days.extend(utc(f"{day:%Y-%m-%d}T{at}") for at in sorted(times))
        day += timedelta(days=1)
    return days


# Midnight, midday, and five minutes before and at each change of office hours in summer time
# (06:00Z, 18:00Z) and in winter time (07:00Z, 19:00Z): a change an hour or five minutes off
# shows.
SUMMER_CHANGES = ("00:00", "05:55", "06:00", "12:00", "17:55", "18:00")
AROUND_CHANGES = (*SUMMER_CHANGES, "06:55", "07:00", "18:55", "19:00")


def simulate(
    account: Account, run_at: Callable[[datetime], dict[str, Any]], clock: Iterable[datetime]
) -> list[tuple[str, str, str]]:
    """Runs the scheduler at each instant; returns its starts and stops as (time, name,
    outcome). After every run each instance's real state must be the one the runs so far
    account for: nothing changed that the scheduler did not report, nor failed to change."""
    names = {instance_id: name for name, instance_id in account.instance_ids.items()}
    expected = account.states()
    transitions = []
    for now in clock:
        summary = run_at(now)
        assert summary["counts"]["errors"] == 0, summary
        done = sorted(
            (names.get(result["resource"], result["resource"]), result["outcome"])
            for result in summary["resources"]
            if result["outcome"] in ("started", "stopped")
        )
        for name, outcome in done:
            transitions.append((f"{now:%a %d %H:%M}", name, outcome))
            expected[name] = "running" if outcome == "started" else "stopped"
        assert account.states() == expected, f"after the run at {now}"
    return transitions


def test_a_week_with_a_bank_holiday(account: Account, run_at: Callable[..., dict[str, Any]]):
    """GIVEN running instances on office hours, among them some the scheduler must leave
    alone, WHEN it runs around office hours from Sunday to Sunday across the bank holiday
    Monday 2026-08-31, THEN it starts and stops each plain instance once a working day (Tuesday
    to Friday, 06:00Z-18:00Z in summer time) and never touches the others."""
    account.instance("app", "office-hours")
    account.instance("untagged", None)
    account.instance("typo", "office-hour")
    account.instance("batch", "office-hours", **{"aws:autoscaling:groupName": "batch-workers"})
    account.database("reports", "office-hours")
    account.database("orders", "office-hours")
    account.replica("orders-replica", "orders", "office-hours")

    transitions = simulate(account, run_at, daily("2026-08-30", "2026-09-06", SUMMER_CHANGES))

    assert transitions == [
        ("Sun 30 00:00", "app", "stopped"),
        ("Sun 30 00:00", "reports", "stopped"),
        ("Tue 01 06:00", "app", "started"),
        ("Tue 01 06:00", "reports", "started"),
        ("Tue 01 18:00", "app", "stopped"),
        ("Tue 01 18:00", "reports", "stopped"),
        ("Wed 02 06:00", "app", "started"),
        ("Wed 02 06:00", "reports", "started"),
        ("Wed 02 18:00", "app", "stopped"),
        ("Wed 02 18:00", "reports", "stopped"),
        ("Thu 03 06:00", "app", "started"),
        ("Thu 03 06:00", "reports", "started"),
        ("Thu 03 18:00", "app", "stopped"),
        ("Thu 03 18:00", "reports", "stopped"),
        ("Fri 04 06:00", "app", "started"),
        ("Fri 04 06:00", "reports", "started"),
        ("Fri 04 18:00", "app", "stopped"),
        ("Fri 04 18:00", "reports", "stopped"),
    ]
    states = account.states()
    assert {name: states[name] for name in ("untagged", "typo", "batch")} == dict.fromkeys(
        ("untagged", "typo", "batch"), "running"
    )
    assert states["orders"] == states["orders-replica"] == "running"
    for name in ("app", "reports"):
        assert account.tags(name) == {
            "SchedulerLastAction": "stopped",
            "SchedulerLastActionAt": "2026-09-04T18:00:00Z",
            "SchedulerReason": "office-hours out of hours",
        }
    assert account.tags("orders-replica") == {
        "SchedulerReason": "read replica of orders: RDS cannot stop a read replica"
    }
    assert account.tags("orders") == {
        "SchedulerReason": "source of read replicas orders-replica: "
        "RDS cannot stop an instance with read replicas"
    }
    assert account.tags("batch") == {
        "SchedulerReason": "in Auto Scaling group batch-workers: "
        "the group starts and stops its instances"
    }
    assert account.tags("typo") == {"SchedulerReason": "no schedule named office-hour"}
    assert account.tags("untagged") == {}


def test_a_run_counts_by_schedule(account: Account, run_at: Callable[..., dict[str, Any]]):
    """GIVEN the instances of a bank holiday Monday, WHEN the scheduler runs at Tuesday's
    start, THEN its summary counts each by its outcome, per schedule and in all."""
    account.instance("app", "office-hours")
    account.instance("typo", "office-hour")
    account.database("orders", "office-hours")
    account.replica("orders-replica", "orders", "office-hours")
    account.database("strict-db", "office-hours-enforced")
    run_at(utc("2026-08-31T12:00"))

    summary = run_at(utc("2026-09-01T06:05"))

    zero = dict.fromkeys(
        ("started", "stopped", "would_start", "would_stop", "skipped", "unchanged", "errors"), 0
    )
    assert summary["by_schedule"] == {
        "monday-report": zero,
        "office-hours": {**zero, "started": 1, "skipped": 2},
        "office-hours-enforced": {**zero, "started": 1},
        "office-hours-maintained": zero,
        "(unknown)": {**zero, "skipped": 1},
    }
    assert summary["counts"] == {**zero, "started": 2, "skipped": 3}
    assert summary["dry_run"] is False
    assert summary["at"] == "2026-09-01T06:05:00+00:00"
    assert [
        (r["resource"], r["kind"], r["state"], r["action"], r["outcome"])
        for r in summary["resources"]
        if r["kind"] == "rds"
    ] == [
        ("orders", "rds", "available", "skip", "skipped"),
        ("orders-replica", "rds", "available", "skip", "skipped"),
        ("strict-db", "rds", "stopped", "start", "started"),
    ]


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        # The clocks go forward on Sunday 2026-03-29: 07:00-19:00 is 07:00Z-19:00Z on Friday
        # and 06:00Z-18:00Z from Monday.
        (
            "2026-03-27",
            "2026-03-30",
            [
                ("Fri 27 00:00", "app", "stopped"),
                ("Fri 27 07:00", "app", "started"),
                ("Fri 27 19:00", "app", "stopped"),
                ("Mon 30 06:00", "app", "started"),
                ("Mon 30 18:00", "app", "stopped"),
            ],
        ),
        # They go back on Sunday 2026-10-25: 06:00Z-18:00Z on Friday, 07:00Z-19:00Z from Monday.
        (
            "2026-10-23",
            "2026-10-26",
            [
                ("Fri 23 00:00", "app", "stopped"),
                ("Fri 23 06:00", "app", "started"),
                ("Fri 23 18:00", "app", "stopped"),
                ("Mon 26 07:00", "app", "started"),
                ("Mon 26 19:00", "app", "stopped"),
            ],
        ),
    ],
    ids=["spring-forward", "fall-back"],
)
def test_the_clock_changes(account, run_at, first, last, expected):
    """GIVEN an instance on office hours, WHEN the scheduler runs around the hours of both
    times from Friday to Monday over a clock change, THEN it starts and stops at 07:00 and 19:00
    London time on both sides of it."""
    account.instance("app", "office-hours")

    assert simulate(account, run_at, daily(first, last, AROUND_CHANGES)) == expected


def test_started_by_hand_out_of_hours(account: Account, run_at: Callable[..., dict[str, Any]]):
    """GIVEN instances the scheduler stopped at 19:00, WHEN a person starts them at 21:00,
    THEN those on an enforced schedule are stopped again at once, the others run until the
    next stopped stretch; and the same the other way round in working time."""
    relaxed, strict = ("relaxed", "relaxed-db"), ("strict", "strict-db")
    account.instance("relaxed", "office-hours")
    account.instance("strict", "office-hours-enforced")
    account.database("relaxed-db", "office-hours")
    account.database("strict-db", "office-hours-enforced")
    assert simulate(account, run_at, [utc("2026-09-01T18:05")]) == [
        ("Tue 01 18:05", name, "stopped")
        for name in ("relaxed", "relaxed-db", "strict", "strict-db")
    ]

    account.start(*relaxed, *strict)
    assert simulate(account, run_at, [utc("2026-09-01T20:05"), utc("2026-09-01T23:05")]) == [
        ("Tue 01 20:05", "strict", "stopped"),
        ("Tue 01 20:05", "strict-db", "stopped"),
    ]
    assert account.tags("relaxed-db")["SchedulerLastActionAt"] == "2026-09-01T18:05:00Z"
    assert account.tags("strict-db") == {
        "SchedulerLastAction": "stopped",
        "SchedulerLastActionAt": "2026-09-01T20:05:00Z",
        "SchedulerReason": "office-hours-enforced out of hours: started by hand and stopped "
        "again as enforced",
    }
    # Working time: only what is stopped starts.
    assert simulate(account, run_at, [utc("2026-09-02T06:05")]) == [
        ("Wed 02 06:05", "strict", "started"),
        ("Wed 02 06:05", "strict-db", "started"),
    ]

    account.stop(*relaxed, *strict)
    assert simulate(account, run_at, [utc("2026-09-02T10:05"), utc("2026-09-02T18:05")]) == [
        ("Wed 02 10:05", "strict", "started"),
        ("Wed 02 10:05", "strict-db", "started"),
        ("Wed 02 18:05", "strict", "stopped"),
        ("Wed 02 18:05", "strict-db", "stopped"),
    ]
    assert simulate(account, run_at, [utc("2026-09-03T06:05")]) == [
        ("Thu 03 06:05", name, "started")
        for name in ("relaxed", "relaxed-db", "strict", "strict-db")
    ]


def test_rds_restarting_itself_after_seven_days(account, run_at):
    """GIVEN DB instances the scheduler stopped at the end of Monday's hour, in a stopped
    stretch of two weeks (the next Monday is a bank holiday), WHEN one is started by hand six
    days later and RDS restarts the other after seven, THEN the first runs on and the second is
    stopped again; from then on both are (the scheduler cannot tell who started it)."""
    account.database("weekly-a", "monday-report")
    account.database("weekly-b", "monday-report")
    assert simulate(account, run_at, [utc("2026-08-24T08:30"), utc("2026-08-24T09:05")]) == [
        ("Mon 24 09:05", "weekly-a", "stopped"),
        ("Mon 24 09:05", "weekly-b", "stopped"),
    ]

    account.start("weekly-b")
    assert simulate(account, run_at, [utc("2026-08-30T09:05")]) == []
    assert account.states()["weekly-b"] == "running"

    account.start("weekly-a")
    assert simulate(account, run_at, [utc("2026-08-31T09:05")]) == [
        ("Mon 31 09:05", "weekly-a", "stopped"),
        ("Mon 31 09:05", "weekly-b", "stopped"),
    ]
    assert account.tags("weekly-a") == {
        "SchedulerLastAction": "stopped",
        "SchedulerLastActionAt": "2026-08-31T09:05:00Z",
        "SchedulerReason": "monday-report public holiday Late Summer Bank Holiday: "
        "RDS restarted it after 7 days stopped",
    }


def test_a_db_instance_runs_for_its_maintenance_window(account, run_at):
    """GIVEN a DB instance whose schedule starts it an hour before its Sunday 03:00Z window,
    WHEN the scheduler runs through Sunday night, THEN it starts it at 02:00Z and stops it again
    once the window has closed."""
    account.database(
        "maintained", "office-hours-maintained", PreferredMaintenanceWindow="sun:03:00-sun:03:30"
    )
    clock = instants(
        ("2026-09-05T12:00", "2026-09-05T12:00", timedelta(1)),
        ("2026-09-06T01:50", "2026-09-06T03:40", timedelta(minutes=10)),
    )

    assert simulate(account, run_at, clock) == [
        ("Sat 05 12:00", "maintained", "stopped"),
        ("Sun 06 02:00", "maintained", "started"),
        ("Sun 06 03:30", "maintained", "stopped"),
    ]


@pytest.mark.parametrize("refusal", ["changed-state", "read-replica"])
def test_a_refused_call_is_an_error_and_the_run_goes_on(account, run_at, refusal):
    """GIVEN a DB instance to stop, WHEN AWS refuses the stop (a person stopped it a moment
    before; or the call reaches a read replica, which moto refuses as AWS does), THEN the run
    succeeds, stops the other instances, counts one error and logs it, writes no tag on that
    instance, and the next run decides again."""
    account.instance("app", "office-hours")
    account.database("reports", "office-hours")
    account.database("orders", "office-hours")
    account.replica("orders-replica", "orders", "office-hours")
    rds = handler.scheduler().rds

    def interfere(params: dict[str, Any], **_: Any) -> None:
        if params.get("DBInstanceIdentifier") != "reports":
            return
        if refusal == "changed-state":
            account.stop("reports")
        else:
            params["DBInstanceIdentifier"] = "orders-replica"

    rds.meta.events.register("before-parameter-build.rds.StopDBInstance", interfere)
    logs = io.StringIO()
    stdout = handler.logger.registered_handler.setStream(logs)
    try:
        summary = run_at(utc("2026-09-01T20:00"))
    finally:
        handler.logger.registered_handler.setStream(stdout)
        rds.meta.events.unregister("before-parameter-build.rds.StopDBInstance", interfere)

    assert summary["counts"]["errors"] == 1
    assert summary["counts"]["stopped"] == 1
    failed = next(r for r in summary["resources"] if r["resource"] == "reports")
    code = "InvalidDBInstanceState" if refusal == "changed-state" else "InvalidDBClusterStateFault"
    assert failed["outcome"] == "error"
    assert failed["error"].startswith(f"{code}: ")
    assert account.states()["app"] == "stopped"
    assert account.tags("reports") == {}
    errors = [json.loads(line) for line in logs.getvalue().splitlines()]
    errors = [line for line in errors if line["level"] == "ERROR"]
    assert [(line["message"], line["resource"], line["error"]) for line in errors] == [
        ("scheduler call failed", "reports", failed["error"])
    ]

    again = run_at(utc("2026-09-01T20:05"))
    assert again["counts"]["errors"] == 0
    assert account.states()["reports"] == "stopped"


def test_a_dry_run_changes_nothing(account, run_at, monkeypatch, capsys):
    """GIVEN DRY_RUN=true, WHEN the scheduler runs at night and in working time, THEN it says
    what it would do (and publishes it as WouldStop and WouldStart) but starts, stops and tags
    nothing."""
    monkeypatch.setenv("DRY_RUN", "true")
    account.instance("app", "office-hours")
    account.database("reports", "office-hours")
    account.database("orders", "office-hours")
    account.replica("orders-replica", "orders", "office-hours")

    night = run_at(utc("2026-09-05T22:00"))
    account.stop("app", "reports")
    morning = run_at(utc("2026-09-07T06:05"))

    assert night["dry_run"] is True
    assert night["counts"]["would_stop"] == 2
    assert morning["counts"]["would_start"] == 2
    for summary in (night, morning):
        assert summary["counts"]["skipped"] == 2
        assert summary["counts"]["started"] == summary["counts"]["stopped"] == 0
    assert account.states() == {
        "app": "stopped",
        "reports": "stopped",
        "orders": "running",
        "orders-replica": "running",
    }
    for name in ("app", "reports", "orders", "orders-replica"):
        assert account.tags(name) == {}
    metrics = [
        json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line
    ]
    office = [m for m in metrics if m.get("Schedule") == "office-hours"]
    counted = ("WouldStop", "WouldStart", "Stopped", "Started", "Skipped")
    assert [tuple(m[name] for name in counted) for m in office] == [
        ([2.0], [0.0], [0.0], [0.0], [2.0]),
        ([0.0], [2.0], [0.0], [0.0], [2.0]),
    ]
    directive = office[0]["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "ReportingPlatform/Scheduler"
    assert directive["Dimensions"] == [["Schedule"]]
    assert {m["Name"] for m in directive["Metrics"]} == {
        "Started",
        "Stopped",
        "WouldStart",
        "WouldStop",
        "Skipped",
        "Unchanged",
        "Errors",
    }
