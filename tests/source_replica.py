"""A real PostgreSQL database as a platform's read replica, for the extractor's tests: its own
database in the test cluster (default time zone Europe/Paris, so the extractor's UTC session is
proved), the login and hash key in the emulator's Secrets Manager, a versioned landing bucket,
and pyodbc's connect relaxed from `SSLmode=verify-full` to `disable` (the cluster has no
certificate) for the extractor's own connections only.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import hmac
import io
import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pyodbc
import pytest
from service_fixtures import REGION, drop_database, unavailable

from functions.catalog import Dataset

HASH_KEY = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZab"
OVERLAP = timedelta(seconds=300)
T0 = datetime(2026, 3, 1, 9, 0)
STAFF_HEADER = ["id", "school_id", "email", "role", "updated_at"]
SOURCE_TABLES = """
DROP TABLE IF EXISTS public.staff, public.book_progress, public.lab_events;
CREATE TABLE public.staff (
    id bigint PRIMARY KEY,
    school_id bigint NOT NULL,
    email text,
    role varchar(40),
    updated_at timestamptz(6) NOT NULL,
    deleted_at timestamptz,
    date_of_birth date,
    private_note text
);
CREATE TABLE public.book_progress (
    reader_id bigint NOT NULL,
    book_id bigint NOT NULL,
    pages_read integer NOT NULL,
    finished boolean NOT NULL,
    updated_at timestamp(6) NOT NULL,
    PRIMARY KEY (reader_id, book_id)
);
CREATE TABLE public.lab_events (event_id bigint PRIMARY KEY, kind varchar(20));
"""


def at(minutes: float) -> datetime:
    """T0 plus `minutes`, as the naive UTC time the extractor writes."""
    return T0 + timedelta(minutes=minutes)


def email(staff_id: int) -> str:
    return f"teacher{staff_id}@school.example"


def email_hash(staff_id: int) -> str:
    return hmac.new(HASH_KEY.encode(), email(staff_id).encode(), hashlib.sha256).hexdigest()


def staff_row(staff_id: int, minutes: float, role: str = "teacher") -> list[str]:
    """A staff row as the extractor writes it."""
    return [str(staff_id), "10", email_hash(staff_id), role, str(at(minutes))]


@dataclass(frozen=True)
class SourceServer:
    """The source database: where it is and the login the replica secret holds."""

    odbc: str
    host: str
    port: int
    database: str
    username: str
    password: str


@pytest.fixture(scope="session")
def source_server() -> Iterator[SourceServer]:
    """A database of its own in the test cluster, in Europe/Paris unless a session says UTC."""
    base = os.environ.get("REPORTING_TEST_POSTGRES")
    if not base:
        unavailable('REPORTING_TEST_POSTGRES is not set: eval "$(scripts/postgres.sh start)"')
    try:
        admin = pyodbc.connect(base, autocommit=True, timeout=5)
    except Exception as error:
        unavailable(f"PostgreSQL at REPORTING_TEST_POSTGRES is unavailable: {error}")
    name = f"extract_source_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    admin.execute(f"ALTER DATABASE \"{name}\" SET timezone TO 'Europe/Paris'")
    attributes = {}
    for part in base.split(";"):
        key, _, value = part.partition("=")
        if key.strip():
            attributes[key.strip().lower()] = value.strip().strip("{}")
    parts = [part for part in base.split(";") if part and not part.lower().startswith("database=")]
    try:
        yield SourceServer(
            odbc=";".join([*parts, f"Database={name}"]) + ";",
            host=attributes["server"],
            port=int(attributes["port"]),
            database=name,
            username=attributes["uid"],
            password=attributes["pwd"],
        )
    finally:
        drop_database(admin, name)
        admin.close()


class Source:
    """The source tables, written as the platform's application would."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection

    def execute(self, sql: str, *parameters: object) -> None:
        self.connection.cursor().execute(sql, *parameters).close()

    def staff(
        self, staff_id: int, minutes: float, role: str | None = "teacher", deleted: bool = False
    ) -> None:
        """Inserts or updates a staff member changed at `at(minutes)` UTC."""
        changed = f"{at(minutes).isoformat()}+00:00"
        self.execute(
            "INSERT INTO public.staff VALUES (?, 10, ?, ?, CAST(? AS timestamptz),"
            " CASE WHEN ? = 1 THEN CAST(? AS timestamptz) END, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET role = EXCLUDED.role,"
            " updated_at = EXCLUDED.updated_at, deleted_at = EXCLUDED.deleted_at",
            staff_id,
            email(staff_id),
            role,
            changed,
            int(deleted),
            changed,
            f"1980-01-{staff_id:02d}",
            f"NOTE-SECRET-{staff_id}",
        )

    def book(
        self, reader_id: int, book_id: int, pages: int, finished: bool, minutes: float
    ) -> None:
        self.execute(
            "INSERT INTO public.book_progress VALUES (?, ?, ?, ?, CAST(? AS timestamp))",
            reader_id,
            book_id,
            pages,
            finished,
            at(minutes).isoformat(),
        )


@pytest.fixture
def source(source_server: SourceServer) -> Iterator[Source]:
    connection = pyodbc.connect(source_server.odbc, autocommit=True, timeout=5)
    connection.execute(SOURCE_TABLES)
    yield Source(connection)
    connection.close()


@dataclass
class LandingBucket:
    """The landing bucket on the emulator, and what was written to it, in order."""

    s3: Any
    bucket: str
    written: list[str] = field(default_factory=list)

    def object_keys(self, prefix: str = "incoming/") -> list[str]:
        response = self.s3.list_objects_v2(Bucket=self.bucket, Prefix=prefix)
        return sorted(item["Key"] for item in response.get("Contents", []))

    def body(self, key: str, version_id: str | None = None) -> bytes:
        version = {"VersionId": version_id} if version_id else {}
        return self.s3.get_object(Bucket=self.bucket, Key=key, **version)["Body"].read()

    def rows(self, key: str) -> list[list[str]]:
        """A part's CSV records, header first."""
        return list(csv.reader(io.StringIO(gzip.decompress(self.body(key)).decode("utf-8"))))

    def state(self, dataset: Dataset) -> dict[str, Any]:
        key = f"extract-state/{dataset.platform}/{dataset.name}.json"
        return json.loads(self.body(key))

    def versions(self, key: str) -> list[bytes]:
        """The bodies of every version of `key`, oldest first."""
        response = self.s3.list_object_versions(Bucket=self.bucket, Prefix=key)
        versions = sorted(response["Versions"], key=lambda version: version["LastModified"])
        return [self.body(key, version["VersionId"]) for version in versions]


@pytest.fixture
def landing_bucket(aws: Any) -> LandingBucket:
    s3 = aws.client("s3")
    bucket = f"landing-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    found = LandingBucket(s3, bucket)

    def record(params: dict[str, Any], **_: Any) -> None:
        found.written.append(params["Key"])

    s3.meta.events.register("before-parameter-build.s3.PutObject", record)
    return found


@pytest.fixture
def environment(
    aws: Any, landing_bucket: LandingBucket, source_server: SourceServer
) -> dict[str, str]:
    """The function's environment: every replica is the source database, logins in secrets."""
    secrets = aws.client("secretsmanager")
    suffix = uuid.uuid4().hex[:8]
    login_arn = secrets.create_secret(
        Name=f"replica-login-{suffix}",
        SecretString=json.dumps(
            {"username": source_server.username, "password": source_server.password}
        ),
    )["ARN"]
    hash_key_arn = secrets.create_secret(Name=f"hash-key-{suffix}", SecretString=HASH_KEY)["ARN"]
    replica = {
        "engine": "postgres",
        "host": source_server.host,
        "port": source_server.port,
        "database": source_server.database,
        "secret_arn": login_arn,
    }
    return {
        "LANDING_BUCKET": landing_bucket.bucket,
        "HASH_KEY_SECRET_ARN": hash_key_arn,
        "REPLICAS": json.dumps(
            {
                "maths": {"homework": replica},
                "reading": {"library": replica},
                "lab": {"bench": replica},
            }
        ),
        "OVERLAP_SECONDS": str(int(OVERLAP.total_seconds())),
    }


@pytest.fixture
def connection_strings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The connection strings that require TLS (the extractor's), recorded and relaxed for the
    certificate-less cluster; the tests' own connections pass through."""
    opened: list[str] = []
    real_connect = pyodbc.connect

    def relaxed_connect(text: str, **options: Any) -> Any:
        if "SSLmode=verify-full;" in text:
            opened.append(text)
            text = text.replace("SSLmode=verify-full;", "SSLmode=disable;")
        return real_connect(text, **options)

    monkeypatch.setattr(pyodbc, "connect", relaxed_connect)
    return opened
