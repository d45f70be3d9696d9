"""The report runner end to end: the sample reports run against SQLite and PostgreSQL loaded by
the real loader, files land in the emulator's S3 encrypted with the reports key, recipients get
an email through its SES with a link that downloads exactly that file, failures reach the ops
topic, and a stopped server catches up without sending anything twice."""

from __future__ import annotations

import csv
import io
import json
import shutil
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from urllib.request import urlopen
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from service_fixtures import REGION, delivered_messages

from functions.loader import cli as loader_cli
from functions.report_runner import cli as runner_cli
from functions.report_runner.definitions import DEFINITIONS_DIR, load_definitions
from functions.report_runner.deliveries import ReportsBucket
from functions.report_runner.runner import PassSummary, ReportRunner
from functions.report_runner.settings import RunnerSettings
from functions.working_hours.working_time import schedule_from_dict, schedule_to_dict

# The runner sends its emails through SES v2.
pytestmark = [pytest.mark.services, pytest.mark.emulator_needs("sesv2")]

LONDON = ZoneInfo("Europe/London")
LINK_HOURS = 6

SCHOOLS = [(1, "100001", "Ash Primary"), (2, "100002", "Birch Academy")]
# pupil -> school
PUPILS = {10: 1, 11: 1, 20: 2}
# (assessment, pupil, topic, passed, completed_at UTC): the week to Monday 23 November 07:00
# (GMT, so UTC) holds the first five; the boundaries are in [start, end).
ASSESSMENTS = [
    (1, 10, "fractions", True, "2026-11-16 07:00:00"),
    (2, 11, "fractions", False, "2026-11-18 10:15:00"),
    (3, 10, "algebra", True, "2026-11-19 09:00:00"),
    (4, 20, "fractions", True, "2026-11-20 14:30:00"),
    (5, 20, "fractions", True, "2026-11-23 06:59:59"),
    (6, 10, "fractions", True, "2026-11-16 06:59:59"),
    (7, 11, "algebra", True, "2026-11-23 07:00:00"),
]
# (reader, school, book, pages, finished, updated_at UTC)
BOOKS = [
    (1, 1, 501, 120, True, "2026-11-20 08:00:00"),
    (2, 1, 502, 80, True, "2026-11-21 12:00:00"),
    (3, 2, 503, 200, True, "2026-11-23 07:29:00"),
    (4, 2, 504, 50, False, "2026-11-22 10:00:00"),
    (5, 1, 505, 300, True, "2026-11-24 07:00:00"),
    (6, 2, 506, 90, True, "2026-11-25 16:45:00"),
]


def write_csv(path: Path, header: list[str], rows: list[tuple]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as output:
        writer = csv.writer(output)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def load_sample_data(database_url: str, directory: Path) -> None:
    """Loads and merges the reports' datasets through the loader's command line."""
    files = {
        "maths/schools": write_csv(
            directory / "schools.csv",
            ["school_id", "urn", "name", "local_authority", "phase", "subscribed_on"],
            [(s, urn, name, "Leeds", "primary", "2025-09-01") for s, urn, name in SCHOOLS],
        ),
        "maths/pupils": write_csv(
            directory / "pupils.csv",
            ["pupil_id", "school_id", "year_group", "first_name", "last_name", "enrolled_at"],
            [(p, s, 5, "Sam", "Lee", "2025-09-01 08:00:00") for p, s in PUPILS.items()],
        ),
        "maths/assessments": write_csv(
            directory / "assessments.csv",
            ["assessment_id", "pupil_id", "topic", "score", "max_score", "passed", "completed_at"],
            [(a, p, t, "7.00", "10.00", str(ok).lower(), at) for a, p, t, ok, at in ASSESSMENTS],
        ),
        "reading/readers": write_csv(
            directory / "readers.csv",
            ["reader_id", "school_id", "display_name", "reading_age", "created_at"],
            [(r, s, f"reader {r}", "9.5", "2025-09-01 08:00:00") for r, s, *_ in BOOKS],
        ),
        "reading/book_progress": write_csv(
            directory / "book_progress.csv",
            ["reader_id", "book_id", "pages_read", "finished", "updated_at"],
            [(r, b, n, str(f).lower(), at) for r, _, b, n, f, at in BOOKS],
        ),
    }
    for dataset, path in files.items():
        status = loader_cli.main(["load", "--dataset", dataset, "--db", database_url, str(path)])
        assert status == 0, f"loading {dataset} failed"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class World:
    """The emulator's reports bucket, key, sender and ops topic, and a runner on them."""

    aws: Any
    bucket: str
    key_arn: str
    sender: str
    topic_arn: str
    queue_url: str
    environment: dict[str, str]

    def runner(self, clock: Clock, definitions: Path = DEFINITIONS_DIR) -> ReportRunner:
        settings = RunnerSettings.from_environment(
            {**self.environment, "REPORTS_DIRECTORY": str(definitions)}
        )
        return ReportRunner(
            settings=settings,
            reports=load_definitions(definitions),
            bucket=ReportsBucket(self.aws.client("s3"), self.bucket, self.key_arn),
            ses=self.aws.client("sesv2"),
            sns=self.aws.client("sns"),
            open_database=settings.open_database(lambda: self.aws.client("secretsmanager"), clock),
            clock=clock,
        )

    def read(self, key: str) -> bytes:
        return self.aws.client("s3").get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def head(self, key: str) -> dict[str, Any]:
        return self.aws.client("s3").head_object(Bucket=self.bucket, Key=key)

    def record(self, key: str) -> dict[str, Any]:
        return json.loads(self.read(key.rsplit(".", 1)[0] + ".delivery.json"))

    def alerts(self) -> list[dict[str, Any]]:
        messages = delivered_messages(self.aws.client("sqs"), self.queue_url)
        return [json.loads(json.loads(m["Body"])["Message"]) for m in messages]


@pytest.fixture
def world(mailbox, aws, database_url: str, tmp_path: Path) -> World:
    suffix = uuid.uuid4().hex[:10]
    s3, sns, sqs = aws.client("s3"), aws.client("sns"), aws.client("sqs")
    bucket = f"reports-{suffix}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    key_arn = aws.client("kms").create_key(Description="reports")["KeyMetadata"]["Arn"]
    sender = f"reports-{suffix}.example.org"
    aws.client("sesv2").create_email_identity(EmailIdentity=sender)
    topic_arn = sns.create_topic(Name=f"ops-{suffix}")["TopicArn"]
    queue_url = sqs.create_queue(QueueName=f"ops-{suffix}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    load_sample_data(database_url, tmp_path)
    environment = {
        "REPORTS_BUCKET": bucket,
        "REPORTS_KEY_ARN": key_arn,
        "REPORTS_DIRECTORY": str(DEFINITIONS_DIR),
        "ALERT_TOPIC_ARN": topic_arn,
        "REPORT_SENDER": sender,
        "LINK_EXPIRY_HOURS": str(LINK_HOURS),
        "CATCH_UP_DAYS": "7",
        "DATABASE_URL": database_url,
    }
    return World(aws, bucket, key_arn, sender, topic_arn, queue_url, environment)


def at(day: int, hour: int, minute: int) -> Clock:
    return Clock(datetime(2026, 11, day, hour, minute, tzinfo=LONDON).astimezone(UTC))


def delivered(summary: PassSummary, report: str) -> list[dict[str, Any]]:
    return [d for d in summary.delivered if d["report"] == report]


def test_the_weekly_xlsx_report_is_delivered_by_link(world: World, mailbox) -> None:
    # GIVEN the week's assessments loaded and the timer's pass on Monday at 07:20
    runner = world.runner(at(23, 7, 20))

    # WHEN the pass runs
    summary = runner.run_pass()

    # THEN the weekly report ran for the week to 07:00, and nothing failed
    assert summary.failed == []
    [run] = delivered(summary, "maths-weekly-attainment")
    key = "reports/maths-weekly-attainment/2026-11-23/maths-weekly-attainment_20261123T0700Z.xlsx"
    assert run["file"] == key
    assert run["rows"] == 3
    # the file holds exactly the week's rows, by school and topic
    sheet = openpyxl.load_workbook(io.BytesIO(world.read(key))).active
    assert [[c.value for c in row] for row in sheet.iter_rows()] == [
        ["school", "topic", "assessments", "passed"],
        ["Ash Primary", "algebra", 1, 1],
        ["Ash Primary", "fractions", 2, 1],
        ["Birch Academy", "fractions", 2, 2],
    ]
    # encrypted with the reports key
    head = world.head(key)
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"] == world.key_arn
    # the recipients got a summary and a link, and no data
    email = mailbox.sent(run["ses_message_id"])
    assert email["source"] == f"reports@{world.sender}"
    assert email["destinations"]["ToAddresses"] == ["maths-leads@example.org"]
    assert email["subject"] == "Report ready: maths-weekly-attainment for Mon 23 Nov 2026"
    body = email["body"]
    assert "Period:  Mon 16 Nov 2026 07:00 to Mon 23 Nov 2026 07:00 (Europe/London)" in body
    assert "Rows:    3" in body
    assert "until Mon 23 Nov 2026 13:20" in body
    assert "Ash Primary" not in body
    # the link downloads exactly the file, for six hours
    [link] = [line for line in body.splitlines() if line.startswith("http")]
    assert parse_qs(urlsplit(link).query)["X-Amz-Expires"] == [str(LINK_HOURS * 3600)]
    with urlopen(link, timeout=10) as response:
        assert response.read() == world.read(key)
    # and the record says it was delivered
    assert world.record(key)["state"] == "delivered"


def test_the_daily_csv_report_holds_exactly_its_period(world: World, mailbox) -> None:
    # GIVEN Monday's 07:30 pass (the report is new: only its latest run is owed)
    summary = world.runner(at(23, 7, 40)).run_pass()

    # THEN one file covers Friday 07:30 to Monday 07:30, the weekend included
    [run] = delivered(summary, "reading-daily-progress")
    assert run["period_start"] == "2026-11-20T07:30:00+00:00"
    assert world.read(run["file"]).decode() == (
        "school_id,books_finished,pages_read\r\n1,2,200\r\n2,1,200\r\n"
    )
    email = mailbox.sent(run["ses_message_id"])
    assert email["destinations"]["ToAddresses"] == [
        "reading-team@example.org",
        "head-of-english@example.org",
    ]


def test_a_second_pass_sends_nothing_twice(world: World) -> None:
    clock = at(23, 7, 40)
    first = world.runner(clock).run_pass()
    assert len(first.delivered) == 2

    clock.now = clock.now.replace(minute=55)
    second = world.runner(clock).run_pass()

    assert second.delivered == []
    assert second.failed == []


def test_a_server_stopped_for_days_catches_up_each_missed_run(world: World) -> None:
    # GIVEN Monday's runs delivered, then the server stopped until Thursday
    world.runner(at(23, 7, 40)).run_pass()

    # WHEN Thursday's first pass runs
    summary = world.runner(at(26, 7, 40)).run_pass()

    # THEN Tuesday's, Wednesday's and Thursday's runs are delivered, each for its own day
    runs = delivered(summary, "reading-daily-progress")
    assert [r["period_end"] for r in runs] == [
        "2026-11-24T07:30:00+00:00",
        "2026-11-25T07:30:00+00:00",
        "2026-11-26T07:30:00+00:00",
    ]
    contents = [world.read(r["file"]).decode().splitlines()[1:] for r in runs]
    assert contents == [["1,1,300"], [], ["2,1,90"]]
    assert delivered(summary, "maths-weekly-attainment") == []


def failing_definitions(tmp_path: Path) -> Path:
    directory = tmp_path / "reports"
    directory.mkdir()
    shutil.copy(DEFINITIONS_DIR / "reading-daily-progress.yaml", directory)
    (directory / "broken-report.yaml").write_text(
        "name: broken-report\n"
        'schedule: "0 7 * * *"\n'
        "recipients: [ops@example.org]\n"
        "retention_days: 7\n"
        "sql: SELECT missing_column FROM reading_readers_current\n",
        encoding="utf-8",
    )
    return directory


def test_a_failing_query_alerts_and_does_not_stop_the_others(world: World, tmp_path) -> None:
    definitions = failing_definitions(tmp_path)
    clock = at(23, 7, 40)

    summary = world.runner(clock, definitions).run_pass()

    # THEN the other report is delivered, the broken one alerted and left without a record
    assert [d["report"] for d in summary.delivered] == ["reading-daily-progress"]
    [failure] = summary.failed
    assert failure["report"] == "broken-report"
    [alert] = world.alerts()
    assert alert["source"] == "report-runner"
    assert alert["report"] == "broken-report"
    assert "missing_column" in alert["problem"]
    # and the next pass tries it again
    assert [run.report.name for run in world.runner(clock, definitions).due()] == ["broken-report"]


def test_the_command_exits_1_when_a_report_failed(world, tmp_path, monkeypatch, capsys) -> None:
    definitions = failing_definitions(tmp_path)
    for name, value in {**world.environment, "REPORTS_DIRECTORY": str(definitions)}.items():
        monkeypatch.setenv(name, value)

    status = runner_cli.main(["run"])

    assert status == 1
    printed = json.loads(capsys.readouterr().out)
    assert [f["report"] for f in printed["failed"]] == ["broken-report"]


def test_an_email_ses_refuses_is_alerted_and_retried(world: World, monkeypatch) -> None:
    # GIVEN a sender SES has not verified
    world.environment["REPORT_SENDER"] = "unverified.example.org"
    clock = at(23, 7, 40)

    summary = world.runner(clock).run_pass()

    # THEN nothing counts as delivered, the claims are released and the ops topic knows
    assert summary.delivered == []
    assert {f["report"] for f in summary.failed} == {
        "maths-weekly-attainment",
        "reading-daily-progress",
    }
    assert all("SES refused" in a["problem"] for a in world.alerts())
    assert len(world.runner(clock).due()) == 2


def test_an_interrupted_send_is_reported_once_and_never_resent(world: World, mailbox) -> None:
    clock = at(23, 7, 40)
    runner = world.runner(clock)
    [weekly, daily] = runner.due()
    # GIVEN a pass that claimed the daily run and stopped before SES answered
    assert runner.bucket.claim(daily, {"report": daily.report.name})

    first = world.runner(clock).run_pass()
    second = world.runner(clock).run_pass()

    assert first.unconfirmed == [f"reading-daily-progress {daily.stamp}"]
    assert [d["report"] for d in first.delivered] == ["maths-weekly-attainment"]
    assert second.unconfirmed == []
    assert second.delivered == []
    [alert] = world.alerts()
    assert "delete reports/reading-daily-progress/" in alert["problem"]
    assert weekly.report.name == "maths-weekly-attainment"


def test_a_database_stopped_by_its_schedule_is_waited_for(world: World) -> None:
    # GIVEN a database that does not answer, on a schedule that stops it at night
    world.environment["DATABASE_URL"] = "postgresql://reports@127.0.0.1:9/none"
    office_hours = schedule_from_dict(
        "office-hours",
        {
            "timezone": "Europe/London",
            "periods": [{"days": ["mon-fri"], "start": "07:00", "stop": "19:00"}],
        },
    )
    world.environment["DATABASE_SCHEDULE"] = json.dumps(
        {"name": office_hours.name, **schedule_to_dict(office_hours)}
    )

    # WHEN the pass runs at 07:40, inside the database's start-up grace
    summary = world.runner(at(23, 7, 40)).run_pass()

    # THEN the runs wait for a later pass, unalerted
    assert len(summary.waiting) == 2
    assert summary.failed == []
    assert world.alerts() == []

    # and at 10:00, when the database should be up, the same failure is alerted
    later = world.runner(at(23, 10, 0)).run_pass()
    assert len(later.failed) == 2
    assert all("unavailable" in a["problem"] for a in world.alerts())
