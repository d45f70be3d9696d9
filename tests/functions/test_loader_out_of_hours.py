"""The loader while the reporting database is stopped out of hours: a failed connection then
leaves the file in `incoming/` for the incoming sweeper and the invocation succeeds; in working
hours, or without DATABASE_SCHEDULE, it fails as before (Lambda retries the event)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from functions.loader import handler
from functions.loader import settings as loader_settings
from functions.loader.errors import DatabaseUnavailableError
from functions.loader.settings import LoaderSettings, SettingsError
from functions.working_hours.database_hours import DATABASE_STARTUP_GRACE, DatabaseHours
from functions.working_hours.working_time import schedule_from_dict, schedule_to_dict

pytestmark = pytest.mark.services

PUPILS = "incoming/maths/pupils/pupils-2026-11-26.csv"
HEADER = "pupil_id,school_id,year_group,first_name,last_name,enrolled_at\n"
BODY = (HEADER + "1,2,7,A,B,2026-09-01T08:00:00\n").encode()
# Weekdays 07:00-19:00 in London, not on English bank holidays: the scheduler stops the
# database outside them. London is on UTC in November and December.
OFFICE_HOURS = schedule_from_dict(
    "reporting-office-hours",
    {
        "timezone": "Europe/London",
        "periods": [{"days": ["mon-fri"], "start": "07:00", "stop": "19:00"}],
        "holidays": {"country": "GB", "subdivision": "ENG"},
    },
)
# As the deployment writes it: the name and the schedule's JSON form.
DATABASE_SCHEDULE = json.dumps({"name": OFFICE_HOURS.name, **schedule_to_dict(OFFICE_HOURS)})
WEDNESDAY_2300 = datetime(2026, 11, 25, 23, 0, tzinfo=UTC)
WEDNESDAY_1000 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
# Nothing listens on port 1 of the loopback address; SQLite cannot create a file in a missing
# directory.
UNREACHABLE = {
    "postgresql": "postgresql://loader:secret@127.0.0.1:1/staging",
    "sqlite": "sqlite:////nonexistent-directory/staging.db",
}


@pytest.fixture
def stopped_database(landing: Any, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The landing bucket with the loader pointed at a database of the same kind that cannot
    be reached, as a stopped RDS instance cannot."""
    kind = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    monkeypatch.setenv("DATABASE_URL", UNREACHABLE[kind])
    monkeypatch.setenv("DATABASE_LOGIN_TIMEOUT_SECONDS", "2")
    return landing


@pytest.fixture
def scheduled_at(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Sets DATABASE_SCHEDULE (None: unset) and the time the handler checks it at. Before the
    handler's first invocation: the cached loader keeps the clock and settings it was built
    with (the `landing` fixture clears the cache)."""

    def set_schedule(now: datetime, schedule: str | None = DATABASE_SCHEDULE) -> None:
        if schedule is None:
            monkeypatch.delenv("DATABASE_SCHEDULE", raising=False)
        else:
            monkeypatch.setenv("DATABASE_SCHEDULE", schedule)
        monkeypatch.setattr(handler, "utc_now", lambda: now)

    return set_schedule


@pytest.fixture
def run_handler(
    landing: Any, s3_event: Callable[..., dict[str, Any]], lambda_context: Any
) -> Callable[..., list[dict[str, Any]]]:
    """Uploads a file to each key and runs the handler on one event of them all (as S3 sends
    one, the sweeper could send several); returns its results."""

    def run(*keys: str) -> list[dict[str, Any]]:
        records = []
        for key in keys or (PUPILS,):
            version_id, etag = landing.put(key, BODY)
            records += s3_event(landing.bucket, key, version_id, etag, len(BODY))["Records"]
        return handler.lambda_handler({"Records": records}, lambda_context)["results"]

    return run


@pytest.fixture
def loader_log() -> Iterator[list[dict[str, Any]]]:
    """The handler's log lines, as the JSON powertools writes."""
    records: list[dict[str, Any]] = []

    class Recorder(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(json.loads(self.format(record)))

    recorder = Recorder()
    recorder.setFormatter(handler.logger.registered_formatter)
    standard_logger = logging.getLogger("landing-loader")
    standard_logger.addHandler(recorder)
    yield records
    standard_logger.removeHandler(recorder)


def test_out_of_hours_a_failed_connection_leaves_the_file_for_the_sweeper(
    stopped_database, run_handler, scheduled_at, loader_log
) -> None:
    # GIVEN the database schedule, and a file arriving at 23:00 on a Wednesday
    scheduled_at(WEDNESDAY_2300)

    # WHEN the handler runs on its event
    results = run_handler(PUPILS)

    # THEN it returns: the file untouched in incoming/, nothing archived or quarantined, no alert
    source = f"s3://{stopped_database.bucket}/{PUPILS}"
    assert [(r["status"], r["source"]) for r in results] == [("deferred", source)]
    assert (
        "schedule 'reporting-office-hours' has the database stopped or starting at "
        in (results[0]["reason"])
    )
    assert stopped_database.object_keys() == [PUPILS]
    assert stopped_database.alerts() == []
    warnings = [line for line in loader_log if line["level"] == "WARNING"]
    assert [(line["message"], line["source"]) for line in warnings] == [
        (
            f"reporting database stopped out of hours; {PUPILS} stays in incoming/ for the sweeper",
            source,
        )
    ]


@pytest.mark.parametrize(
    ("now", "stopped"),
    [
        (WEDNESDAY_2300, True),
        (datetime(2026, 11, 25, 6, 59, tzinfo=UTC), True),
        # Saturday, and Christmas Day (a Friday): stopped all day.
        (datetime(2026, 11, 28, 12, 0, tzinfo=UTC), True),
        (datetime(2026, 12, 25, 10, 0, tzinfo=UTC), True),
        # Started at 07:00: still starting within the grace, up after it.
        (datetime(2026, 11, 25, 7, 10, tzinfo=UTC), True),
        (datetime(2026, 11, 25, 7, 0, tzinfo=UTC) + DATABASE_STARTUP_GRACE, False),
        (WEDNESDAY_1000, False),
        (datetime(2026, 11, 25, 18, 59, tzinfo=UTC), False),
    ],
    ids=[
        "23:00",
        "06:59",
        "saturday",
        "bank-holiday",
        "10-minutes-after-start",
        "grace-over",
        "10:00",
        "18:59",
    ],
)
def test_a_failed_connection_is_excused_only_while_the_schedule_has_the_database_down(
    now, stopped, stopped_database, run_handler, scheduled_at
) -> None:
    scheduled_at(now)

    if stopped:
        assert [result["status"] for result in run_handler(PUPILS)] == ["deferred"]
    else:
        # In working hours an unreachable database is an outage: the invocation fails and
        # Lambda retries the event, as without a schedule.
        with pytest.raises(DatabaseUnavailableError) as raised:
            run_handler(PUPILS)
        assert type(raised.value) is DatabaseUnavailableError

    assert stopped_database.object_keys() == [PUPILS]
    assert stopped_database.alerts() == []


def test_without_a_schedule_a_failed_connection_fails_at_any_hour(
    stopped_database, run_handler, scheduled_at
) -> None:
    scheduled_at(WEDNESDAY_2300, schedule=None)

    with pytest.raises(DatabaseUnavailableError) as raised:
        run_handler(PUPILS)

    assert type(raised.value) is DatabaseUnavailableError
    assert stopped_database.object_keys() == [PUPILS]


def test_the_other_objects_of_the_event_wait_without_a_login_each(
    stopped_database, run_handler, scheduled_at, monkeypatch
) -> None:
    # GIVEN an event of two objects out of hours, and every connection attempt counted
    scheduled_at(WEDNESDAY_2300)
    attempts: list[str] = []
    connect = loader_settings.connect

    def counted_connect(target: Any, *arguments: Any) -> Any:
        attempts.append(target.dialect.name)
        return connect(target, *arguments)

    monkeypatch.setattr(loader_settings, "connect", counted_connect)
    second = "incoming/maths/pupils/pupils-2026-11-27.csv"

    # WHEN the handler runs on it
    results = run_handler(PUPILS, second)

    # THEN one login was tried, and both files wait in incoming/
    assert len(attempts) == 1
    assert [result["status"] for result in results] == ["deferred", "deferred"]
    assert stopped_database.object_keys() == sorted([PUPILS, second])


def test_a_database_that_is_up_out_of_hours_loads_as_usual(
    landing, run_handler, scheduled_at, query
) -> None:
    # The schedule only excuses a failed connection: a database started by hand is used.
    scheduled_at(WEDNESDAY_2300)

    results = run_handler(PUPILS)

    assert [(r["status"], r["row_count"]) for r in results] == [("loaded", 1)]
    assert query("SELECT pupil_id FROM maths_pupils") == [(1,)]
    assert [key.split("/")[0] for key in landing.object_keys()] == ["archive"]


def test_a_database_error_after_connecting_is_not_excused_out_of_hours(
    landing, database, run_handler, scheduled_at
) -> None:
    # GIVEN a reachable database whose staging table cannot take the file's rows
    cursor = database.connection.cursor()
    cursor.execute("CREATE TABLE maths_pupils (unrelated integer)")
    database.connection.commit()
    scheduled_at(WEDNESDAY_2300)

    # WHEN the load fails inside its transaction, out of hours
    with pytest.raises(Exception) as raised:
        run_handler(PUPILS)

    # THEN the invocation fails as it would in working hours (a driver error, retried)
    assert isinstance(raised.value, database.driver.Error)
    assert landing.object_keys() == [PUPILS]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("office hours", "DATABASE_SCHEDULE is not JSON"),
        ('["mon-fri"]', "DATABASE_SCHEDULE must be a JSON object"),
        ('{"timezone": "Europe/London", "periods": []}', 'DATABASE_SCHEDULE needs a "name"'),
        ('{"name": "x", "timezone": "Europe/London"}', "DATABASE_SCHEDULE: .*periods"),
        ('{"name": "x", "timezone": "Mars/Olympus", "periods": []}', "DATABASE_SCHEDULE: "),
    ],
)
def test_a_bad_schedule_is_a_settings_error_naming_the_variable(value: str, message: str) -> None:
    environment = {"ALERT_TOPIC_ARN": "arn:topic", "DATABASE_URL": "sqlite:///x.db"}

    with pytest.raises(SettingsError, match=message):
        LoaderSettings.from_environment(environment | {"DATABASE_SCHEDULE": value})


def test_the_schedule_is_read_from_its_deployed_form() -> None:
    environment = {"ALERT_TOPIC_ARN": "arn:topic", "DATABASE_URL": "sqlite:///x.db"}

    with_schedule = LoaderSettings.from_environment(
        environment | {"DATABASE_SCHEDULE": DATABASE_SCHEDULE}
    )
    without = LoaderSettings.from_environment(environment | {"DATABASE_SCHEDULE": " "})

    assert with_schedule.database_hours == DatabaseHours(OFFICE_HOURS)
    assert without.database_hours is None
