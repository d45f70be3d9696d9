"""The report runner's file writing: rows per second and peak memory, CSV and XLSX.

    .venv/bin/python bench/report_bench.py [--rows 200000] [--db sqlite:///path | postgresql://...]

Fills a reporting table with --rows rows (SQLite in a temporary directory unless --db names a
throwaway database: the table `bench_report_current` is dropped and refilled), then runs a report
definition over all of them through the runner's own code, `report_query` and `write_report`
(the query's rows fetched in batches straight into the file), once per format. Prints the rows
per second and the peak Python heap (tracemalloc) of each, over a quarter of the rows and then
all of them. The run fails unless every file holds every row and each format's peak stays the
same with four times the rows: no whole result in memory.
Not a test: numbers, and a check that they measured something.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

# Run as a script from the repository: make the project's packages importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.measure import timed
from functions.loader.database import Database, connect, parse_target
from functions.report_runner.definitions import read_definition
from functions.report_runner.outputs import write_report
from functions.report_runner.periods import ReportRun
from functions.report_runner.query import report_query

TABLE = "bench_report_current"
DEFINITION = """\
name: bench-report
schedule: "0 7 * * *"
recipients: [bench@example.org]
retention_days: 7
format: csv
sql: |
  SELECT id, school, topic, score, completed_at FROM bench_report_current
  WHERE completed_at >= :period_start AND completed_at < :period_end ORDER BY id
"""
START = datetime(2026, 11, 1)


def fill(database: Database, rows: int) -> None:
    cursor = database.connection.cursor()
    cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")
    text_type = "TEXT" if database.dialect.name == "sqlite" else "varchar(100)"
    time_type = "TEXT" if database.dialect.name == "sqlite" else "timestamp(6)"
    cursor.execute(
        f"CREATE TABLE {TABLE} (id integer, school {text_type}, topic {text_type}, "
        f"score integer, completed_at {time_type})"
    )
    adapt = database.dialect.bind_adapter("timestamp") or (lambda value: value)
    batch = []
    for number in range(rows):
        moment = START + timedelta(seconds=number)
        batch.append((number, f"School {number % 400}", f"topic {number % 37}", number % 100))
        batch[-1] += (adapt(moment),)
        if len(batch) == 5000:
            cursor.executemany(f"INSERT INTO {TABLE} VALUES (?, ?, ?, ?, ?)", batch)
            batch = []
    if batch:
        cursor.executemany(f"INSERT INTO {TABLE} VALUES (?, ?, ?, ?, ?)", batch)
    database.connection.commit()


def measure(database: Database, run: ReportRun, report_format: str, directory: Path) -> dict:
    path = directory / f"report.{report_format}"
    tracemalloc.start()
    with report_query(database, run) as result:
        rows, timing = timed(lambda: write_report(path, report_format, result.columns, result.rows))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {"rows": rows, "seconds": timing.wall, "peak": peak, "size": path.stat().st_size}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--db", default=None)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        database = connect(parse_target(options.db or f"sqlite:///{directory / 'bench.db'}"))
        fill(database, options.rows)
        definition_file = directory / "bench-report.yaml"
        definition_file.write_text(DEFINITION, encoding="utf-8")
        report = read_definition(definition_file)
        print(f"{database.dialect.name}: a quarter of {options.rows:,} rows, then all of them")
        print(f"{'format':<6} {'rows':>9} {'rows/s':>9} {'file MB':>8} {'peak heap MB':>13}")
        peaks: dict[str, list[int]] = {"csv": [], "xlsx": []}
        for rows in (options.rows // 4, options.rows):
            end = START + timedelta(seconds=rows)
            run = ReportRun(report, START.replace(tzinfo=UTC), end.replace(tzinfo=UTC))
            for report_format, found in peaks.items():
                figures = measure(database, run, report_format, directory)
                if figures["rows"] != rows:
                    raise SystemExit(f"{report_format}: wrote {figures['rows']} of {rows} rows")
                found.append(figures["peak"])
                print(
                    f"{report_format:<6} {rows:>9,} {rows / figures['seconds']:>9,.0f} "
                    f"{figures['size'] / 2**20:>8.1f} {figures['peak'] / 2**20:>13.2f}"
                )
        for report_format, (quarter, whole) in peaks.items():
            # Streaming: four times the rows, about the same peak.
            if whole > quarter * 1.25 + 2**16:
                raise SystemExit(f"{report_format}: the peak heap grew with the rows")
        database.close()


if __name__ == "__main__":
    main()
