"""The freshness check end to end: real loads into SQLite and PostgreSQL recorded by the loader's
ledger, the alert read back from the emulator's SNS topic through an SQS queue, a set clock."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from service_fixtures import delivered_messages, free_port

from functions.catalog import load_catalog
from functions.freshness import handler
from functions.loader.database import Database, connect, parse_target
from functions.loader.errors import DatabaseUnavailableError, RejectedFileError
from functions.loader.load import load_stream
from functions.loader.schema import create_schema
from functions.loader.settings import DEFAULT_CATALOG_DIR
from functions.loader.source import SourceObject
from functions.working_hours.working_time import HolidayRegion, Period, Schedule, schedule_to_dict

pytestmark = pytest.mark.services

CATALOG = load_catalog(DEFAULT_CATALOG_DIR)
SCHOOLS = CATALOG.find("maths/schools")
PUPILS = CATALOG.find("maths/pupils")
SCHOOLS_CSV = b"school_id,urn,name,local_authority,phase,subscribed_on\n1,100001,Hill Top,,,\n"
LONDON = ZoneInfo("Europe/London")
# 08:00-18:00 Monday to Friday, England's bank holidays off.
OFFICE_HOURS = Schedule(
    name="office-hours",
    timezone="Europe/London",
    periods=(Period(frozenset(range(5)), time(8), time(18)),),
    holidays=HolidayRegion("GB", "ENG"),
    enforced=False,
    maintenance_lead_minutes=0,
)
WINDOWS = {"maths/pupils": 2, "maths/schools": 2}


def london(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=LONDON)


@dataclass
class AlertTopic:
    """An SNS topic with a queue subscribed, to read back what is published."""

    arn: str
    sqs: Any
    queue_url: str

    def alerts(self) -> list[dict[str, str]]:
        """The subject and text of each message published so far."""
        messages = delivered_messages(self.sqs, self.queue_url)
        notifications = [json.loads(message["Body"]) for message in messages]
        return [{"subject": n["Subject"], "message": n["Message"]} for n in notifications]


@dataclass
class FreshnessRig:
    """The ledger's database and the alert topic, with the handler's environment pointing at
    them."""

    database: Database
    topic: AlertTopic
    monkeypatch: pytest.MonkeyPatch
    lambda_context: Any

    def load(self, at: datetime, body: bytes = SCHOOLS_CSV) -> None:
        """Loads a file of maths/schools for real, recorded in the ledger at `at`."""
        source = SourceObject("landing", "incoming/maths/schools/schools.csv", uuid.uuid4().hex)
        # The loader stamps loads in naive UTC.
        moment = at.astimezone(UTC).replace(tzinfo=None)
        load_stream(self.database, SCHOOLS, io.BytesIO(body), source, loaded_at=moment)

    def check(self, at: datetime, windows: dict[str, float] | None = None) -> dict[str, Any]:
        """Runs the handler at `at`, watching `windows` (default: WINDOWS)."""
        if windows is not None:
            self.monkeypatch.setenv("WINDOWS", json.dumps(windows))
        return run_check(at, self.lambda_context)

    def alerts(self) -> list[dict[str, str]]:
        return self.topic.alerts()


def run_check(at: datetime, lambda_context: Any) -> dict[str, Any]:
    """Runs the handler as the scheduler would, on a cold start, its clock set to `at`."""
    handler.freshness_check.cache_clear()
    handler.freshness_check().clock = lambda: at
    return handler.lambda_handler({}, lambda_context)


def alert_topic(aws: Any) -> AlertTopic:
    suffix = uuid.uuid4().hex[:10]
    sns = aws.client("sns")
    sqs = aws.client("sqs")
    topic_arn = sns.create_topic(Name=f"alerts-{suffix}")["TopicArn"]
    queue_url = sqs.create_queue(QueueName=f"alerts-{suffix}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    return AlertTopic(topic_arn, sqs, queue_url)


def set_environment(monkeypatch: pytest.MonkeyPatch, database_url: str, topic_arn: str) -> None:
    """What the deployment gives the function (DATABASE_URL for the secret's variables)."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.delenv("DATABASE_SECRET_ARN", raising=False)
    monkeypatch.setenv("ALERT_TOPIC_ARN", topic_arn)
    monkeypatch.setenv("WINDOWS", json.dumps(WINDOWS))
    monkeypatch.setenv(
        "DATABASE_SCHEDULE",
        json.dumps({"name": OFFICE_HOURS.name, **schedule_to_dict(OFFICE_HOURS)}),
    )


@pytest.fixture(autouse=True)
def cold_start() -> Iterator[None]:
    """No check built under another test's environment is kept."""
    handler.freshness_check.cache_clear()
    yield
    handler.freshness_check.cache_clear()


@pytest.fixture
def rig(
    aws: Any, database_url: str, monkeypatch: pytest.MonkeyPatch, lambda_context: Any
) -> Iterator[FreshnessRig]:
    topic = alert_topic(aws)
    database = connect(parse_target(database_url))
    create_schema(database.connection, database.dialect, [SCHOOLS, PUPILS])
    set_environment(monkeypatch, database_url, topic.arn)
    yield FreshnessRig(database, topic, monkeypatch, lambda_context)
    database.close()


def test_a_fresh_dataset_raises_no_alert(rig) -> None:
    # GIVEN maths/schools loaded at 09:00 on Monday, and only it watched
    rig.load(london(2026, 11, 30, 9))

    # WHEN the check runs at 10:00
    summary = rig.check(london(2026, 11, 30, 10), windows={"maths/schools": 2})

    # THEN it is fresh, and nothing is published
    assert summary == {
        "schedule": "office-hours",
        "checked_at": "2026-11-30T10:00:00+00:00",
        "status": "checked",
        "datasets": [
            {
                "dataset": "maths/schools",
                "last_successful_load": "2026-11-30T09:00:00+00:00",
                "working_hours_since": 1.0,
                "window_hours": 2.0,
                "stale": False,
            }
        ],
        "stale": [],
        "alert_message_id": None,
    }
    assert rig.alerts() == []


def test_over_a_weekend_only_working_hours_count(rig) -> None:
    # GIVEN the last load on Friday at 17:00 (an older one before it), and pupils loaded today
    rig.load(london(2026, 11, 26, 12))
    rig.load(london(2026, 11, 27, 17))

    # WHEN the check runs on Monday at 10:00, schools allowed 2 working hours
    summary = rig.check(london(2026, 11, 30, 10), windows={"maths/schools": 2})

    # THEN Friday 17-18 and Monday 08-10 count, 3 hours: one alert names schools
    assert summary["stale"] == ["maths/schools"]
    assert summary["datasets"][0]["working_hours_since"] == 3.0
    [alert] = rig.alerts()
    assert alert["subject"] == "Stale reporting data: maths/schools"
    assert alert["message"].splitlines()[3:7] == [
        "maths/schools",
        "  Last successful load: Fri 2026-11-27 17:00 UTC (Fri 2026-11-27 17:00 GMT, "
        "Europe/London)",
        "  Working hours since:  3.0",
        "  Window:               2 working hours",
    ]
    assert summary["alert_message_id"]


def test_the_same_gap_is_fresh_with_a_wider_window(rig) -> None:
    rig.load(london(2026, 11, 27, 17))

    summary = rig.check(london(2026, 11, 30, 10), windows={"maths/schools": 3})

    assert (summary["stale"], rig.alerts()) == ([], [])


def test_a_bank_holiday_does_not_count(rig) -> None:
    # GIVEN a load on Friday 28 August 2026 at 17:00 BST; Monday 31 August is a bank holiday
    rig.load(london(2026, 8, 28, 17))

    # WHEN the check runs on Tuesday at 10:00 with a 3-hour window
    summary = rig.check(london(2026, 9, 1, 10), windows={"maths/schools": 3})

    # THEN 3 working hours have passed, not 13: fresh
    assert summary["datasets"][0]["working_hours_since"] == 3.0
    assert (summary["stale"], rig.alerts()) == ([], [])


def test_a_dataset_never_loaded_is_reported_every_run(rig) -> None:
    # GIVEN schools loaded just now and pupils never
    rig.load(london(2026, 11, 30, 9, 30))

    # WHEN the check runs twice
    first = rig.check(london(2026, 11, 30, 10))
    second = rig.check(london(2026, 11, 30, 11))

    # THEN each run alerts about pupils alone, as never loaded
    assert first["stale"] == second["stale"] == ["maths/pupils"]
    alerts = rig.alerts()
    assert [alert["subject"] for alert in alerts] == ["Stale reporting data: maths/pupils"] * 2
    assert alerts[0]["message"].splitlines()[3:6] == [
        "maths/pupils",
        "  Last successful load: never loaded",
        "  Window:               2 working hours",
    ]


def test_a_rejected_file_is_not_a_successful_load(rig) -> None:
    # GIVEN a load on Friday at 17:00, then a file rejected on Monday at 09:00
    rig.load(london(2026, 11, 27, 17))
    with pytest.raises(RejectedFileError):
        rig.load(london(2026, 11, 30, 9), body=b"school_id,urn,name\nnot a number,1,x\n")

    # WHEN the check runs on Monday at 10:00
    summary = rig.check(london(2026, 11, 30, 10), windows={"maths/schools": 2})

    # THEN the last successful load is still Friday's
    assert summary["datasets"][0]["last_successful_load"] == "2026-11-27T17:00:00+00:00"
    assert summary["stale"] == ["maths/schools"]


def test_stale_datasets_share_one_alert(rig) -> None:
    rig.load(london(2026, 11, 27, 17))

    summary = rig.check(london(2026, 11, 30, 10))

    assert summary["stale"] == ["maths/pupils", "maths/schools"]
    [alert] = rig.alerts()
    assert alert["subject"] == "Stale reporting data: maths/pupils, maths/schools"
    assert alert["message"].startswith("2 datasets have had no successful load")


@pytest.mark.parametrize(
    "at",
    [
        pytest.param(london(2026, 11, 28, 12), id="saturday"),
        pytest.param(london(2026, 11, 30, 7, 59), id="before-the-start"),
        pytest.param(london(2026, 8, 31, 12), id="bank-holiday"),
        # The loader's start-up grace: the database may still be starting.
        pytest.param(london(2026, 11, 30, 8, 10), id="starting"),
    ],
)
def test_while_the_database_is_stopped_nothing_is_checked(
    at: datetime, aws, monkeypatch, lambda_context, tmp_path
) -> None:
    # GIVEN a database that could not even be opened
    topic = alert_topic(aws)
    set_environment(monkeypatch, f"sqlite:///{tmp_path / 'missing' / 'x.db'}", topic.arn)

    # WHEN the check runs out of hours, or in the loader's start-up grace
    summary = run_check(at, lambda_context)

    # THEN it skips: no database, no alert
    assert summary == {
        "schedule": "office-hours",
        "checked_at": at.isoformat(),
        "status": "skipped",
        "datasets": [],
        "stale": [],
    }
    assert topic.alerts() == []


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_an_unreachable_database_raises(
    engine: str, aws, monkeypatch, lambda_context, tmp_path
) -> None:
    # GIVEN a SQLite file in a directory that does not exist, or a port nobody listens on
    url = (
        f"sqlite:///{tmp_path / 'missing' / 'x.db'}"
        if engine == "sqlite"
        else f"postgresql://check:secret@127.0.0.1:{free_port()}/reporting"
    )
    topic = alert_topic(aws)
    set_environment(monkeypatch, url, topic.arn)

    # WHEN the check runs in working hours THEN it fails, and nothing is published
    with pytest.raises(DatabaseUnavailableError):
        run_check(london(2026, 11, 30, 10), lambda_context)
    assert topic.alerts() == []


def test_a_database_without_the_ledger_raises(
    aws, database_url, database, monkeypatch, lambda_context
) -> None:
    # GIVEN a reachable database where nothing was ever loaded: no ledger table
    topic = alert_topic(aws)
    set_environment(monkeypatch, database_url, topic.arn)

    # WHEN the check runs THEN the driver's error propagates (the function's alarm fires)
    with pytest.raises(database.driver.Error, match="load_ledger"):
        run_check(london(2026, 11, 30, 10), lambda_context)
    assert topic.alerts() == []
