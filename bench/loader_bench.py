"""Loader throughput against `psql \\copy` and plain pyodbc `executemany`, on PostgreSQL.

    eval "$(scripts/postgres.sh start)"
    .venv/bin/python bench/loader_bench.py [--rows 1000000] [--executemany-rows 50000]

Generates a CSV file of mixed types, then in one run:
- loads it with `psql \\copy` into a plain table (the server's own bulk path);
- loads it with the loader (functions.loader.load.load_stream, the code the Lambda runs), in a
  child process per size so that each peak RSS is that load's alone, at 100k rows and at the
  full size;
- loads the first --executemany-rows rows with plain pyodbc `executemany` (psqlODBC sends one
  statement per row, so the full file would take minutes; the rate is flat, so a prefix
  measures it).
Prints rows/s for each, the loader's ratios and peak RSS. Not a test: numbers, no pass/fail.
The ratios are rounded down, never up: 19.86% prints as `19.8%` on the information line and
`19%` on the line the targets are read from.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import pyodbc

REPO_ROOT = Path(__file__).resolve().parents[1]
# Run as a script from the repository: make the project's packages importable.
sys.path.insert(0, str(REPO_ROOT))

from functions.catalog import load_catalog  # noqa: E402
from functions.loader.database import connect, parse_target  # noqa: E402
from functions.loader.load import load_stream  # noqa: E402
from functions.loader.schema import create_schema  # noqa: E402
from functions.loader.source import SourceObject  # noqa: E402

BENCH_CATALOG = REPO_ROOT / "bench" / "catalog"
HEADER = ["id", "name", "score", "d", "ts", "ok"]
PLAIN_TABLE = (
    "(id bigint NOT NULL, name varchar(100) NOT NULL, score numeric(9,2), d date,"
    " ts timestamp(6) NOT NULL, ok boolean)"
)
NAMES = ["Ada", "Zoë", "O'Brien", "Smith, Jr.", 'Quote "Q"', "王小明", "Łukasz", "🦊 Fox"]
RSS_SIZE_SMALL = 100_000


def generate(path: Path, rows: int, seed: int = 20261126) -> None:
    """Mixed types: integers, quoted strings, decimals, dates, timestamps, booleans, NULLs."""
    chooser = random.Random(seed)
    start = datetime(2026, 1, 1)
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(HEADER)
        for number in range(1, rows + 1):
            writer.writerow(
                [
                    number,
                    f"{chooser.choice(NAMES)} {number}",
                    ""
                    if number % 17 == 0
                    else f"{chooser.randint(0, 9_999_999)}.{number % 100:02d}",
                    (date(2020, 1, 1) + timedelta(days=number % 2000)).isoformat(),
                    (start + timedelta(seconds=number * 7)).isoformat(),
                    "" if number % 13 == 0 else ("true" if number % 2 else "false"),
                ]
            )


def head(source: Path, target: Path, rows: int) -> None:
    with source.open("rb") as full, target.open("wb") as prefix:
        for _ in range(rows + 1):
            prefix.write(full.readline())


def run_copy(url: str, path: Path) -> float:
    _recreate("bench_copy")
    started = time.perf_counter()
    subprocess.run(
        [
            "psql",
            url,
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            f"\\copy bench_copy FROM '{path}' WITH (FORMAT csv, HEADER true)",
        ],
        check=True,
    )
    return time.perf_counter() - started


def run_executemany(path: Path, rows: int) -> float:
    connection = _recreate("bench_executemany")
    cursor = connection.cursor()
    with path.open(encoding="utf-8", newline="") as stream:
        reader = csv.reader(stream)
        next(reader)
        values = [
            [None if field == "" else field for field in row]
            for _, row in zip(range(rows), reader, strict=False)
        ]
    started = time.perf_counter()
    cursor.executemany("INSERT INTO bench_executemany VALUES (?, ?, ?, ?, ?, ?)", values)
    connection.commit()
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed


def _recreate(table: str) -> pyodbc.Connection:
    connection = pyodbc.connect(os.environ["REPORTING_TEST_POSTGRES"], autocommit=False)
    connection.execute(f"DROP TABLE IF EXISTS {table}")
    connection.execute(f"CREATE TABLE {table} {PLAIN_TABLE}")
    connection.commit()
    return connection


def run_loader_child(path: Path) -> dict[str, float]:
    """Loads `path` in a fresh interpreter; returns its seconds, rows and peak RSS."""
    completed = subprocess.run(
        [sys.executable, __file__, "--load-child", str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(completed.stdout)


def load_child(path: Path) -> None:
    dataset = load_catalog(BENCH_CATALOG).find("bench/mixed")
    database = connect(parse_target(os.environ["REPORTING_TEST_POSTGRES"]))
    cursor = database.connection.cursor()
    cursor.execute("DROP TABLE IF EXISTS bench_mixed")
    cursor.execute("DROP TABLE IF EXISTS load_ledger")
    database.connection.commit()
    create_schema(database.connection, database.dialect, [dataset])
    source = SourceObject("bench", str(path), f"run-{time.time_ns()}")
    started = time.perf_counter()
    with path.open("rb") as stream:
        result = load_stream(database, dataset, stream, source)
    elapsed = time.perf_counter() - started
    database.close()
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": elapsed, "rows": result.row_count, "peak_mb": peak_kb / 1024}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--executemany-rows", type=int, default=50_000)
    parser.add_argument("--load-child", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.load_child:
        load_child(options.load_child)
        return
    for name in ("REPORTING_TEST_POSTGRES", "REPORTING_TEST_POSTGRES_URL"):
        if not os.environ.get(name):
            sys.exit(f'{name} is not set: eval "$(scripts/postgres.sh start)"')

    with tempfile.TemporaryDirectory(prefix="loader-bench-") as directory:
        full = Path(directory) / "mixed.csv"
        small = Path(directory) / "mixed-100k.csv"
        generate(full, options.rows)
        head(full, small, min(RSS_SIZE_SMALL, options.rows))
        print(
            f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}"
        )
        print(f"rows: {options.rows} ({full.stat().st_size / 1e6:.1f} MB CSV, mixed types)")

        copy_seconds = run_copy(os.environ["REPORTING_TEST_POSTGRES_URL"], full)
        small_run = run_loader_child(small)
        full_run = run_loader_child(full)
        executemany_rows = min(options.executemany_rows, options.rows)
        executemany_seconds = run_executemany(full, executemany_rows)

    copy_rate = options.rows / copy_seconds
    loader_rate = full_run["rows"] / full_run["seconds"]
    executemany_rate = executemany_rows / executemany_seconds
    print(f"psql \\copy:          {copy_rate:>10,.0f} rows/s  ({copy_seconds:.2f} s)")
    print(f"loader:              {loader_rate:>10,.0f} rows/s  ({full_run['seconds']:.2f} s)")
    print(
        f"pyodbc executemany:  {executemany_rate:>10,.0f} rows/s  "
        f"({executemany_rows} rows, {executemany_seconds:.2f} s)"
    )
    print(
        f"loader peak RSS: {small_run['rows']:,} rows {small_run['peak_mb']:.0f} MB, "
        f"{full_run['rows']:,} rows {full_run['peak_mb']:.0f} MB"
    )
    copy_percent = 100 * loader_rate / copy_rate
    executemany_times = loader_rate / executemany_rate
    # Rounded down, never up: a line reading 20% means at least 20%, 20.0% at least 20.0%.
    print(f"loader/copy, one decimal: {math.floor(copy_percent * 10) / 10:.1f}%")
    print(f"loader/executemany, one decimal: {math.floor(executemany_times * 10) / 10:.1f}x")
    # The closing lines, last and in this order.
    print(f"loader/copy: {math.floor(copy_percent)}%")
    print(f"loader/executemany: {math.floor(executemany_times)}x")


if __name__ == "__main__":
    main()
