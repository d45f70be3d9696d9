"""Fixtures of the function and end-to-end tests: the AWS emulator and the databases, started
per session.

- The emulator is the one REPORTING_EMULATOR chooses (emulator_choice): a moto server started
  here on a free local port by default, or LocalStack at LOCALSTACK_HOST. Every client of the
  tests is built by localstack-client; the code under test reaches the same endpoint through
  AWS_ENDPOINT_URL.
- PostgreSQL comes from REPORTING_TEST_POSTGRES, an ODBC connection string
  (`eval "$(scripts/postgres.sh start)"` sets it); each session gets a database of its own.
- When either is missing, tests marked `services` skip, or fail when
  REPORTING_REQUIRE_SERVICES=1 (as in CI).
"""

from __future__ import annotations

import copy
import json
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus
from urllib.request import Request, urlopen

import boto3
import pytest
from emulator_choice import Emulator, chosen_emulator, read_json
from localstack_client.session import Session

from functions.catalog import catalog_bundle
from functions.loader.database import Database, connect, parse_target

REPO_ROOT = Path(__file__).resolve().parents[1]
TEST_DATA = REPO_ROOT / "tests" / "data"
CATALOG_DIR = REPO_ROOT / "datasets"
REGION = "eu-west-2"
DATABASES = ("sqlite", "postgresql")


def unavailable(reason: str) -> None:
    """Skips the test, or fails it when the services are required."""
    if os.environ.get("REPORTING_REQUIRE_SERVICES") == "1":
        pytest.fail(f"required service unavailable: {reason}")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def emulator() -> Emulator:
    """The emulator of this session (REPORTING_EMULATOR)."""
    return chosen_emulator()


@pytest.fixture(scope="session")
def emulator_url(emulator: Emulator) -> Iterator[str]:
    """The AWS emulator's endpoint: a moto server started here, or the one LOCALSTACK_HOST
    names."""
    if emulator.host:
        probe = emulator.url + ("/_localstack/health" if emulator.software == "localstack" else "/")
        try:
            urlopen(probe, timeout=10).close()
        except OSError as error:
            unavailable(f"{emulator.label} ({probe}) does not answer: {error}")
        yield emulator.url
        return
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as error:
        unavailable(f"moto[server] is not installed: {error}")
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def aws(emulator_url: str, monkeypatch: pytest.MonkeyPatch) -> Session:
    """A localstack-client session on the emulator; boto3 clients made by the code under test
    reach the same emulator through AWS_ENDPOINT_URL."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", emulator_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    # Handlers make their clients from boto3's default session, which keeps the credentials it
    # first found: a fresh one reads this test's (another test may have used another account).
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    return Session(localstack_host=emulator_url.split("://", 1)[1], region_name=REGION)


def account_credentials(aws: Session, account: str) -> dict[str, str]:
    """Credentials of a role in `account`: both emulators serve the account of the role the
    credentials were issued for."""
    credentials = aws.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/reporting-test", RoleSessionName="reporting-test"
    )["Credentials"]
    return {
        "aws_access_key_id": credentials["AccessKeyId"],
        "aws_secret_access_key": credentials["SecretAccessKey"],
        "aws_session_token": credentials["SessionToken"],
    }


def account_client(aws: Session, service: str, credentials: dict[str, str]) -> Any:
    """A client of `service` with another account's credentials, built by localstack-client
    on the same emulator as `aws`."""
    session = Session(
        aws_access_key_id=credentials["aws_access_key_id"],
        aws_secret_access_key=credentials["aws_secret_access_key"],
        region_name=aws.region_name,
        localstack_host=os.environ["AWS_ENDPOINT_URL"].split("://", 1)[1],
    )
    # localstack-client keeps a session token but does not hand it to its clients.
    return session.client(service, aws_session_token=credentials["aws_session_token"])


def drop_database(admin: Any, name: str, attempts: int = 5) -> None:
    """Drops a test database, retrying while autovacuum (which FORCE cannot always end for a
    role that is not a superuser) still works in it."""
    for attempt in range(attempts):
        try:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            return
        except Exception:
            if attempt == attempts - 1:
                raise
            time.sleep(1)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """An ODBC connection string to a database created for this session, dropped after it."""
    base = os.environ.get("REPORTING_TEST_POSTGRES")
    if not base:
        unavailable('REPORTING_TEST_POSTGRES is not set: eval "$(scripts/postgres.sh start)"')
    try:
        import pyodbc

        admin = pyodbc.connect(base, autocommit=True, timeout=5)
    except Exception as error:
        unavailable(f"PostgreSQL at REPORTING_TEST_POSTGRES is unavailable: {error}")
    name = f"loader_test_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    # The same string with this session's database (values kept as written, braces and all).
    parts = [part for part in base.split(";") if part and not part.lower().startswith("database=")]
    try:
        yield ";".join([*parts, f"Database={name}"]) + ";"
    finally:
        drop_database(admin, name)
        admin.close()


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """What `--db`/DATABASE_URL takes, for each database the loader must load into; empty."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'staging.db'}"
    url = request.getfixturevalue("postgres_server")
    database = connect(parse_target(url))
    cursor = database.connection.cursor()
    # Every test starts from an empty schema: the catalog's table names are fixed.
    cursor.execute("DROP SCHEMA public CASCADE")
    cursor.execute("CREATE SCHEMA public")
    database.connection.commit()
    database.close()
    return url


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """An open connection to the test database (for the test's own reads)."""
    opened = connect(parse_target(database_url))
    yield opened
    opened.close()


@pytest.fixture
def query(database: Database) -> Callable[..., list[tuple[Any, ...]]]:
    """Runs a SELECT in a fresh transaction and returns its rows as tuples."""

    def run(sql: str, *parameters: object) -> list[tuple[Any, ...]]:
        database.connection.rollback()
        cursor = database.connection.cursor()
        cursor.execute(sql, parameters)
        rows = [tuple(row) for row in cursor.fetchall()]
        cursor.close()
        database.connection.rollback()
        return rows

    return run


class Mailbox:
    """What the emulator's SES sent: moto keeps sent messages in its model data, LocalStack
    serves them at /_aws/ses. Each is read as moto lists it: source, destinations, subject,
    body."""

    def __init__(self, emulator: Emulator, emulator_url: str) -> None:
        self.emulator = emulator
        self.emulator_url = emulator_url

    def sent(self, ses_message_id: str) -> dict[str, Any]:
        """The sent message with this id: source, destinations, subject and body."""
        if self.emulator.software == "localstack":
            data = read_json(f"{self.emulator_url}/_aws/ses?id={quote(ses_message_id)}")
            if not isinstance(data, dict):
                unavailable(f"{self.emulator.label} does not list sent emails at /_aws/ses")
            matches = [
                {
                    "id": message["Id"],
                    "source": message["Source"],
                    "destinations": message["Destination"],
                    "subject": message["Subject"],
                    "body": message["Body"]["text_part"] or message["Body"]["html_part"],
                }
                for message in data["messages"]
            ]
        else:
            try:
                with urlopen(f"{self.emulator_url}/moto-api/data.json", timeout=10) as response:
                    data = json.load(response)
            except OSError as error:
                unavailable(f"the emulator does not list sent emails (moto's /moto-api/): {error}")
            matches = [m for m in data["ses"]["Message"] if m["id"] == ses_message_id]
        assert len(matches) == 1, f"SES message {ses_message_id} was not sent"
        return matches[0]


@pytest.fixture
def mailbox(emulator: Emulator, emulator_url: str) -> Mailbox:
    """The emulator's sent emails. moto lists them only in its dump of every model it tracks,
    which fails for the rest of a session once any RDS instance has existed (a write-only
    property of moto's DBInstance), so moto is reset first: fixtures that create a test's
    resources request this one before they do. LocalStack lists them by id: nothing to reset."""
    if emulator.software == "moto":
        try:
            urlopen(Request(f"{emulator_url}/moto-api/reset", method="POST"), timeout=10).close()
        except OSError as error:
            unavailable(f"the emulator cannot be reset (moto's /moto-api/): {error}")
    return Mailbox(emulator, emulator_url)


@dataclass
class FakeLambdaContext:
    """What powertools' inject_lambda_context and the handlers read from a Lambda context."""

    function_name: str = "landing-loader"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:eu-west-2:123456789012:function:landing-loader"
    aws_request_id: str = "5c0d6e2c-5d3f-4b8e-9b33-0e4b7e1c2a10"
    remaining_millis: int = 900_000

    def get_remaining_time_in_millis(self) -> int:
        """What a scheduled run checks before starting more work."""
        return self.remaining_millis


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()


@pytest.fixture(scope="session")
def sample_s3_event() -> dict[str, Any]:
    """The powertools sample S3 event, as AWS sends it."""
    return json.loads((TEST_DATA / "aws-events" / "s3-object-created.json").read_text())


@pytest.fixture
def s3_event(sample_s3_event: dict[str, Any]) -> Callable[..., dict[str, Any]]:
    """Builds an S3 event from the sample for an object: key URL-encoded as S3 sends it."""

    def build(bucket: str, key: str, version_id: str | None, etag: str, size: int) -> dict:
        event = copy.deepcopy(sample_s3_event)
        record = event["Records"][0]["s3"]
        record["bucket"]["name"] = bucket
        record["bucket"]["arn"] = f"arn:aws:s3:::{bucket}"
        s3_object = record["object"]
        s3_object.update({"key": quote_plus(key, safe="/"), "eTag": etag.strip('"')})
        s3_object["size"] = size
        if version_id:
            s3_object["versionId"] = version_id
        return event

    return build


def delivered_messages(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    """Every message on a queue subscribed to a topic, once SNS has delivered what was
    published: moto delivers within the Publish call, LocalStack (as AWS) moments later, so
    there the queue is read until it has stayed empty for a while."""
    quiet = 0.0 if chosen_emulator().software == "moto" else 0.5
    messages: list[dict[str, Any]] = []
    quiet_until = time.monotonic() + quiet
    while True:
        batch = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
        ).get("Messages", [])
        messages.extend(batch)
        if batch:
            quiet_until = time.monotonic() + quiet
        elif time.monotonic() >= quiet_until:
            return messages
        else:
            time.sleep(0.05)


@dataclass
class Landing:
    """A versioned landing bucket on the emulator, with the alert topic read through a queue."""

    s3: Any
    sqs: Any
    bucket: str
    topic_arn: str
    queue_url: str

    def put(self, key: str, body: bytes) -> tuple[str | None, str]:
        """Uploads an object; returns its version id and ETag."""
        response = self.s3.put_object(Bucket=self.bucket, Key=key, Body=body)
        return response.get("VersionId"), response["ETag"]

    def object_keys(self) -> list[str]:
        """Every current key of the bucket, sorted."""
        response = self.s3.list_objects_v2(Bucket=self.bucket)
        return sorted(item["Key"] for item in response.get("Contents", []))

    def read(self, key: str) -> bytes:
        return self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def alerts(self) -> list[dict[str, Any]]:
        """The alert messages published so far (each a decoded error report)."""
        messages = delivered_messages(self.sqs, self.queue_url)
        return [json.loads(json.loads(message["Body"])["Message"]) for message in messages]


@pytest.fixture
def landing(
    aws: Session, database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[Landing]:
    """A fresh landing bucket and alert topic, and the handler's environment pointing at them."""
    from functions.loader import handler

    suffix = uuid.uuid4().hex[:10]
    s3 = aws.client("s3")
    sns = aws.client("sns")
    sqs = aws.client("sqs")
    bucket = f"landing-{suffix}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    topic_arn = sns.create_topic(Name=f"alerts-{suffix}")["TopicArn"]
    queue_url = sqs.create_queue(QueueName=f"alerts-{suffix}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("ALERT_TOPIC_ARN", topic_arn)
    bundle = tmp_path / "catalog.json"
    bundle.write_text(catalog_bundle(CATALOG_DIR), encoding="utf-8")
    monkeypatch.setenv("CATALOG_FILE", str(bundle))
    monkeypatch.delenv("DATABASE_SECRET_ARN", raising=False)
    handler.landing_loader.cache_clear()
    yield Landing(s3, sqs, bucket, topic_arn, queue_url)
    handler.landing_loader.cache_clear()
