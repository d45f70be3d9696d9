"""Extract -> load -> merge of maths/staff from PostgreSQL: rows/s of each step, extractor RSS.

    eval "$(scripts/postgres.sh start)"
    .venv/bin/python bench/extract_bench.py [--rows 1000000]

In one run, on a moto server in a process of its own (S3 and Secrets Manager) and two fresh
databases of the throwaway cluster (the source replica and the staging database):
- fills a source table shaped like maths/staff's `public.staff`, plus a 200-character column
  the catalog does not declare, with `INSERT ... SELECT generate_series`: one row in 20 is
  soft-deleted (the dataset's `where` keeps it out), and updated_at is distinct but for one
  value in seven, which two rows share;
- extracts it with the extractor's handler (the real catalog and code path, the login from its
  secret, TLS relaxed for the certificate-less cluster) in a child process per size, first at
  100,000 source rows, then, after the rest is inserted, at --rows, each into a landing bucket
  of its own: each peak RSS is that extract's alone;
- loads every part of the full extract with `load_stream`, one call per part, then merges them
  all into `maths_staff_current` with one `merge`.
Prints rows/s of each step and overall, and both peaks. The run fails unless the reporting table
holds exactly the source rows that match the filter, and sampled parts hold the email only as
its HMAC and no date of birth. Not a test: numbers, and a check that they measured something.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import gzip
import hashlib
import hmac
import io
import json
import os
import platform
import resource
import shlex
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from importlib import import_module, metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pyodbc

REPO_ROOT = Path(__file__).resolve().parents[1]
# Run as a script from the repository: make the project's packages importable.
sys.path.insert(0, str(REPO_ROOT))

from emulator import moto_server, use_emulator  # noqa: E402
from measure import Timing, timed  # noqa: E402

from functions.catalog import Dataset, catalog_bundle, load_catalog  # noqa: E402

if TYPE_CHECKING:
    from functions.loader.database import Database
    from functions.loader.merge import MergeResult

CATALOG_DIR = REPO_ROOT / "datasets"
DATASET = "maths/staff"
REGION = "eu-west-2"
ACCOUNT = "123456789012"  # moto's default account
RSS_SIZE_SMALL = 100_000
# At least 32 bytes, as the extractor requires of its key.
HASH_KEY = "extract-bench-hash-key-0123456789abcdefghijklmnopqrstuvwxyz"
SOURCE_TABLE = """
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
-- The keyset pages seek (updated_at, id): a replica that serves extracts needs this index, or
-- every page sorts the whole table.
CREATE INDEX staff_updated_at_id ON public.staff (updated_at, id);
"""
# Row n: its email and date of birth follow from n (the checks recompute them). updated_at is a
# permutation of n (7919 and the modulus 1,000,003 are prime) scaled down by 7/8, so one value in
# seven is shared by two rows (875,000 values for 1,000,000 rows), and id order is not updated_at
# order.
FILL_SOURCE = """
INSERT INTO public.staff
    (id, school_id, email, role, updated_at, deleted_at, date_of_birth, private_note)
SELECT n, n % 500 + 1, 'teacher' || n || '@school.example',
    (ARRAY['teacher', 'head', 'assistant', NULL])[n % 4 + 1],
    changed, CASE WHEN n % 20 = 0 THEN changed END,
    DATE '1960-01-01' + CAST(n % 15000 AS integer),
    rpad('NOTE-SECRET-' || n || ' ', 200, '.')
FROM generate_series(CAST(? AS bigint), CAST(? AS bigint)) AS n,
    LATERAL (SELECT TIMESTAMPTZ '2026-03-01 09:00:00+00'
        + n * 7919 % 1000003 * 7 / 8 * INTERVAL '1003 microseconds' AS changed) AS tick
"""
# Times the extract child adds up around the extractor's own methods (see `timed_methods`).
RENDER = "render"
PUT = "put"


def peak_rss_mb() -> float:
    # Linux reports ru_maxrss in KiB.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def email(staff_id: int) -> str:
    return f"teacher{staff_id}@school.example"


def date_of_birth(staff_id: int) -> str:
    return (date(1960, 1, 1) + timedelta(days=staff_id % 15000)).isoformat()


def create_landing_bucket(name: str) -> str:
    """A versioned bucket, as the landing bucket is: the loader records each part's version."""
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


# --- the databases ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Cluster:
    """The throwaway cluster, as REPORTING_TEST_POSTGRES reaches it."""

    odbc: str

    def attribute(self, name: str) -> str:
        for part in self.odbc.split(";"):
            key, _, value = part.partition("=")
            if key.strip().lower() == name.lower():
                return value.strip().strip("{}")
        raise KeyError(f"REPORTING_TEST_POSTGRES has no {name}")

    def database_odbc(self, database: str) -> str:
        """The connection string of another database of the cluster, same login."""
        parts = [p for p in self.odbc.split(";") if p and not p.lower().startswith("database=")]
        return ";".join([*parts, f"Database={database}"]) + ";"


@contextlib.contextmanager
def fresh_database(admin: Any, role: str) -> Iterator[str]:
    """A new database of the cluster for as long as the block runs; yields its name."""
    name = f"extract_bench_{role}_{uuid.uuid4().hex[:8]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        try:
            # Plain DROP first: it stops an autovacuum worker busy in the database (likely after
            # a million inserts), which FORCE may not terminate (the worker is the superuser's).
            admin.execute(f'DROP DATABASE "{name}"')
        except pyodbc.Error:
            # A connection a failed run left open: FORCE ends it.
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@dataclass(frozen=True)
class Matching:
    """Source rows matching the filter, or reporting rows: how many, and the sum of their ids."""

    rows: int
    id_sum: int


@dataclass(frozen=True)
class Source:
    """The source database: the platform's replica as the extractor sees it."""

    connection: Any

    def create(self) -> None:
        self.connection.execute(SOURCE_TABLE)

    def fill(self, first: int, last: int) -> float:
        """Inserts rows `first` to `last` and refreshes the planner's statistics; seconds."""
        started = time.perf_counter()
        self.connection.execute(FILL_SOURCE, first, last)
        self.connection.execute("ANALYZE public.staff")
        return time.perf_counter() - started

    def matching(self, row_filter: str) -> Matching:
        """The rows the extract must deliver: those matching the dataset's filter."""
        rows, id_sum = self.connection.execute(
            f"SELECT COUNT(*), SUM(id) FROM public.staff WHERE {row_filter}"
        ).fetchone()
        return Matching(rows, int(id_sum))


# --- the extract, in a child process ----------------------------------------------------------


@dataclass(frozen=True)
class ScheduledContext:
    """What the handler and powertools read of a Lambda context: 15 minutes left."""

    function_name: str = "extractor"
    memory_limit_in_mb: int = 1024
    aws_request_id: str = "0b5a7f0e-6f2d-4c55-9d43-1c8e3a7d9e21"
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:extractor"

    def get_remaining_time_in_millis(self) -> int:
        return 900_000


def extractor_environment(
    cluster: Cluster, source_database: str, catalog_file: Path
) -> dict[str, str]:
    """The function's environment but LANDING_BUCKET: the real catalog's bundle, the replica
    `homework` of platform maths on the source database, its login and the hash key in
    secrets."""
    secrets = boto3.client("secretsmanager")
    login = {"username": cluster.attribute("Uid"), "password": cluster.attribute("Pwd")}
    login_arn = secrets.create_secret(Name="replica-login", SecretString=json.dumps(login))["ARN"]
    hash_key_arn = secrets.create_secret(Name="hash-key", SecretString=HASH_KEY)["ARN"]
    replica = {
        "engine": "postgres",
        "host": cluster.attribute("Server"),
        "port": int(cluster.attribute("Port")),
        "database": source_database,
        "secret_arn": login_arn,
    }
    return {
        "CATALOG_FILE": str(catalog_file),
        "HASH_KEY_SECRET_ARN": hash_key_arn,
        "REPLICAS": json.dumps({"maths": {"homework": replica}}),
    }


def run_extract_child(environment: dict[str, str]) -> dict[str, Any]:
    """Runs the extract in a fresh interpreter; returns what `extract_child` printed."""
    completed = subprocess.run(
        [sys.executable, __file__, "--extract-child"],
        check=False,
        env={**os.environ, **environment},
        capture_output=True,
        text=True,
    )
    if completed.returncode:
        sys.exit(f"the extract child failed:\n{completed.stderr}")
    return json.loads(completed.stdout.splitlines()[-1])


def relax_tls() -> None:
    """The cluster has no certificate: the extractor's connection string, which requires
    `SSLmode=verify-full`, is opened with TLS off; all else in it is the extractor's."""
    real_connect = pyodbc.connect

    def connect_without_tls(text: str, **options: Any) -> Any:
        if "SSLmode=verify-full;" not in text:
            raise RuntimeError("the extractor's connection string no longer requires TLS")
        return real_connect(text.replace("SSLmode=verify-full;", "SSLmode=disable;"), **options)

    pyodbc.connect = connect_without_tls


def timed_methods(spent: dict[str, float]) -> None:
    """Adds the wall seconds of rendering parts (CSV, HMAC, gzip) and of uploading them to
    `spent`; the rest of an extract is its queries and fetches, the connection and the state."""
    extract = import_module("functions.extractor.extract")
    parts = import_module("functions.extractor.parts")
    for owner, name, label in (
        (parts.PartWriter, "write", RENDER),
        (parts.PartWriter, "finish", RENDER),
        (extract.Landing, "put_part", PUT),
    ):
        setattr(owner, name, _adding_seconds(getattr(owner, name), spent, label))


def _adding_seconds(method: Callable, spent: dict[str, float], label: str) -> Callable:
    def timed_method(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return method(*args, **kwargs)
        finally:
            spent[label] += time.perf_counter() - started

    return timed_method


def extract_child() -> None:
    """Invokes the extractor's handler for maths/staff, as the schedule would with that event;
    prints its result, time split and peak RSS as JSON."""
    relax_tls()
    spent = {RENDER: 0.0, PUT: 0.0}
    # The handler logs as in Lambda: formatted, not shown.
    with open(os.devnull, "w") as handler_logs, contextlib.redirect_stdout(handler_logs):
        handler = import_module("functions.extractor.handler")
        timed_methods(spent)
        # Settings, catalog and clients built before timing: the cold start is not measured.
        handler.extractor()
        setup_mb = peak_rss_mb()
        response, timing = timed(
            lambda: handler.lambda_handler({"datasets": [DATASET]}, ScheduledContext())
        )
    (result,) = response["results"]
    print(
        json.dumps(
            {
                **result,
                "cpu": timing.cpu,
                "wall": timing.wall,
                **spent,
                "setup_mb": setup_mb,
                "peak_mb": peak_rss_mb(),
            }
        )
    )


# --- the parts, loaded and merged -------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """One part of the landing bucket, as the loader's notification names it."""

    bucket: str
    key: str
    version_id: str
    size: int


def landed_parts(bucket: str) -> list[Part]:
    s3 = boto3.client("s3")
    parts = []
    for page in s3.get_paginator("list_object_versions").paginate(
        Bucket=bucket, Prefix="incoming/"
    ):
        parts += [
            Part(bucket, item["Key"], item["VersionId"], item["Size"])
            for item in page.get("Versions", [])
        ]
    return sorted(parts, key=lambda part: part.key)


def part_body(part: Part) -> bytes:
    return (
        boto3.client("s3")
        .get_object(Bucket=part.bucket, Key=part.key, VersionId=part.version_id)["Body"]
        .read()
    )


@dataclass(frozen=True)
class Loaded:
    """The load step: rows loaded, the loader's time, and reading the parts (apart)."""

    rows: int
    load: Timing
    readback: Timing


def load_parts(database: Database, dataset: Dataset, parts: list[Part]) -> Loaded:
    """Each part read from the bucket, then loaded with `load_stream`, one transaction each."""
    # Imported here, not at the top: the extract child must hold only what the extractor
    # imports, so that its peak RSS is the extractor's.
    from functions.loader.load import load_stream  # noqa: PLC0415
    from functions.loader.source import SourceObject  # noqa: PLC0415

    rows, load, readback = 0, Timing(0, 0), Timing(0, 0)
    for part in parts:
        body, read = timed(lambda part=part: part_body(part))
        source = SourceObject(part.bucket, part.key, part.version_id)
        result, loading = timed(
            lambda body=body, source=source: load_stream(
                database, dataset, io.BytesIO(body), source
            )
        )
        if result.status != "loaded":
            sys.exit(f"{part.key}: the loader reported {result.status}")
        rows, load, readback = rows + result.row_count, load + loading, readback + read
    return Loaded(rows, load, readback)


def merged(database: Database, dataset: Dataset) -> tuple[MergeResult, Timing]:
    from functions.loader.merge import merge  # noqa: PLC0415 -- see load_parts

    return timed(lambda: merge(database, dataset))


def open_staging(cluster: Cluster, staging_database: str, dataset: Dataset) -> Database:
    """The staging database with the loader's tables for the dataset."""
    from functions.loader.database import connect, parse_target  # noqa: PLC0415 -- see load_parts
    from functions.loader.schema import create_schema  # noqa: PLC0415

    database = connect(parse_target(cluster.database_odbc(staging_database)))
    create_schema(database.connection, database.dialect, [dataset])
    return database


# --- the checks -------------------------------------------------------------------------------


def check_extract(result: dict[str, Any], matching: int) -> None:
    if result["status"] != "extracted" or result["rows"] != matching:
        sys.exit(f"the extract read {result['rows']:,} rows ({result['status']}), not {matching:,}")


def check_parts(parts: list[Part], header: list[str]) -> str:
    """Fails the run unless the first, middle and last part hold the declared fields only, the
    email as its HMAC and no date of birth or note; returns what was checked."""
    sampled = sorted({0, len(parts) // 2, len(parts) - 1})
    key = HASH_KEY.encode("utf-8")
    rows = 0
    for part in (parts[index] for index in sampled):
        text = gzip.decompress(part_body(part)).decode("utf-8")
        if "@" in text or "NOTE-SECRET" in text:
            sys.exit(f"{part.key}: a clear email or the undeclared note is in the part")
        records = list(csv.reader(io.StringIO(text)))
        if records[0] != header:
            sys.exit(f"{part.key}: header {records[0]}, not the declared fields {header}")
        for record in records[1:]:
            staff_id = int(record[0])
            hashed = hmac.new(key, email(staff_id).encode("utf-8"), hashlib.sha256).hexdigest()
            if len(record) != len(header) or record[2] != hashed:
                sys.exit(f"{part.key}: staff {staff_id} is not (id, ..., HMAC of the email, ...)")
            if date_of_birth(staff_id) in record:
                sys.exit(f"{part.key}: staff {staff_id}'s date of birth is in the part")
        rows += len(records) - 1
    return (
        f"{len(sampled)} parts sampled ({rows:,} rows): only {', '.join(header)};"
        " email only as its HMAC, no date of birth, no undeclared column"
    )


def check_reporting(database: Database, dataset: Dataset, loaded: int, matching: Matching) -> str:
    """Fails the run unless staging holds every loaded row and the reporting table the source's
    rows matching the filter: as many, the same sum of ids, none a tombstone."""
    cursor = database.connection.cursor()
    staged = cursor.execute(f"SELECT COUNT(*) FROM {dataset.table}").fetchone()[0]
    rows, id_sum = cursor.execute(
        f"SELECT COUNT(*), SUM(staff_id) FROM {dataset.reporting_table}"
    ).fetchone()
    current = Matching(rows, int(id_sum or 0))
    tombstones = cursor.execute(
        f"SELECT COUNT(*) FROM {dataset.reporting_table} WHERE _deleted"
    ).fetchone()[0]
    cursor.close()
    if staged != loaded or current != matching or tombstones:
        sys.exit(
            f"staging holds {staged:,} rows for {loaded:,} loaded; {dataset.reporting_table}"
            f" {current} ({tombstones:,} tombstones) for the source's {matching}"
        )
    return (
        f"{dataset.reporting_table} holds {current.rows:,} rows, exactly the source rows matching"
        f" `{dataset.extract.where}` (same count, same sum of ids, no tombstone)"
    )


# --- the run ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    """Everything one run measured and checked."""

    source_rows: int
    matching: Matching
    batch_rows: int
    fill_seconds: float
    extracts: dict[int, dict[str, Any]]
    parts: list[Part]
    loaded: Loaded
    merge: Timing
    merge_result: MergeResult
    checked: list[str]


def extract_each_size(
    source: Source, sizes: list[int], environment: dict[str, str]
) -> tuple[dict[int, dict[str, Any]], float]:
    """Fills the source up to each size and extracts it whole, into a bucket of its own."""
    extracts, fill_seconds, filled = {}, 0.0, 0
    for size in sizes:
        fill_seconds += source.fill(filled + 1, size)
        filled = size
        bucket = create_landing_bucket(f"landing-{size}")
        extracts[size] = run_extract_child({**environment, "LANDING_BUCKET": bucket})
    return extracts, fill_seconds


def measure(rows: int, cluster: Cluster, admin: Any, directory: Path) -> Measured:
    catalog_file = Path(directory) / "catalog.json"
    catalog_file.write_text(catalog_bundle(CATALOG_DIR), encoding="utf-8")
    dataset = load_catalog(CATALOG_DIR).find(DATASET)
    with (
        fresh_database(admin, "source") as source_database,
        fresh_database(admin, "staging") as staging_database,
    ):
        with contextlib.closing(
            pyodbc.connect(cluster.database_odbc(source_database), autocommit=True)
        ) as connection:
            source = Source(connection)
            source.create()
            environment = extractor_environment(cluster, source_database, catalog_file)
            extracts, fill_seconds = extract_each_size(
                source, sorted({min(RSS_SIZE_SMALL, rows), rows}), environment
            )
            matching = source.matching(dataset.extract.where)
        check_extract(extracts[rows], matching.rows)
        parts = landed_parts(f"landing-{rows}")
        checked = [check_parts(parts, [column.source_field for column in dataset.columns])]
        with contextlib.closing(open_staging(cluster, staging_database, dataset)) as database:
            loaded = load_parts(database, dataset, parts)
            merge_result, merge_timing = merged(database, dataset)
            checked.append(check_reporting(database, dataset, loaded.rows, matching))
    return Measured(
        rows,
        matching,
        dataset.extract.batch_rows,
        fill_seconds,
        extracts,
        parts,
        loaded,
        merge_timing,
        merge_result,
        checked,
    )


def print_results(measured: Measured) -> None:
    full = measured.extracts[measured.source_rows]
    extract = Timing(full["cpu"], full["wall"])
    steps = [
        ("extract (source -> S3)", full["rows"], extract, "the extract child"),
        ("load (parts -> staging)", measured.loaded.rows, measured.loaded.load, "this process"),
        (
            "merge (staging -> current)",
            measured.merge_result.rows_upserted,
            measured.merge,
            "this process",
        ),
    ]
    total = extract + measured.loaded.load + measured.merge
    print(f"{'':<28}{'rows':>10}{'wall s':>8}{'rows/s':>10}{'CPU s':>7}  CPU of")
    for name, rows, timing, cpu_of in [
        *steps,
        ("extract + load + merge", measured.matching.rows, total, "both"),
    ]:
        print(
            f"{name:<28}{rows:>10,}{timing.wall:>8.2f}{rows / timing.wall:>10,.0f}"
            f"{timing.cpu:>7.2f}  {cpu_of}".rstrip()
        )
    print(
        f"overall: {measured.source_rows:,} source rows in {total.wall:.2f} s,"
        f" {measured.source_rows / total.wall:,.0f} source rows/s"
    )
    rest = full["wall"] - full[RENDER] - full[PUT]
    print(
        f"extract wall split: parts rendered (CSV, HMAC, gzip) {full[RENDER]:.2f} s,"
        f" S3 PUT {full[PUT]:.2f} s, the rest {rest:.2f} s\n  (queries and fetches through"
        " psqlODBC, the connection, the state)"
    )
    print(
        "S3 read-back of the parts for the loader (in no row above):"
        f" wall {measured.loaded.readback.wall:.2f} s"
    )
    peaks = ", ".join(
        f"{size:,} source rows {run['peak_mb']:.0f} MB" for size, run in measured.extracts.items()
    )
    setups = " and ".join(f"{run['setup_mb']:.0f}" for run in measured.extracts.values())
    print(f"extractor peak RSS, a child process per size: {peaks}")
    print(f"  (before the first page: {setups} MB; interpreter, powertools, boto3, clients)")
    for line in measured.checked:
        print(f"checked: {line}")


def print_setup(measured: Measured, server_version: str) -> None:
    parts_mb = sum(part.size for part in measured.parts) / 1e6
    print(
        f"source: {measured.source_rows:,} rows of public.staff (PostgreSQL {server_version}),"
        f" {measured.matching.rows:,} match the filter; filled in {measured.fill_seconds:.1f} s"
    )
    print(
        f"parts: {len(measured.parts)} of up to {measured.batch_rows:,} rows (batch_rows),"
        f" {parts_mb:.1f} MB gzip CSV"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--extract-child", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.extract_child:
        extract_child()
        return
    if not os.environ.get("REPORTING_TEST_POSTGRES"):
        sys.exit('REPORTING_TEST_POSTGRES is not set: eval "$(scripts/postgres.sh start)"')

    print(
        f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    print(f"command: {shlex.join([os.path.relpath(sys.executable), *sys.argv])}")
    print(f"emulator: moto {metadata.version('moto')} server in a process of its own")
    cluster = Cluster(os.environ["REPORTING_TEST_POSTGRES"])
    admin = pyodbc.connect(cluster.odbc, autocommit=True, timeout=5)
    server_version = admin.execute("SHOW server_version").fetchone()[0].split()[0]
    with tempfile.TemporaryDirectory(prefix="extract-bench-") as directory, moto_server() as url:
        use_emulator(url)
        measured = measure(options.rows, cluster, admin, Path(directory))
    admin.close()
    print_setup(measured, server_version)
    print_results(measured)


if __name__ == "__main__":
    main()
