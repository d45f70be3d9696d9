"""Runs a report's query in a read-only transaction and yields its rows in batches."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime

from functions.loader.database import Database
from functions.report_runner.periods import ReportRun

FETCH_ROWS = 1000


@dataclass
class QueryResult:
    """The result's column names and its rows, fetched as they are iterated."""

    columns: list[str]
    rows: Iterator[Sequence[object]]


@contextmanager
def report_query(database: Database, run: ReportRun) -> Iterator[QueryResult]:
    """Executes `run`'s query; the transaction is rolled back afterwards, whatever happened.

    PostgreSQL and SQLite refuse writes in it as well; SQL Server has no per-transaction
    read-only mode, so there the definition checks and the rollback are the guard (and the
    login's rights: docs/reports.md)."""
    connection = database.connection
    cursor = connection.cursor()
    try:
        _read_only(database, cursor)
        cursor.execute(run.report.query.sql, bound_values(database, run))
        columns = [description[0] for description in cursor.description or ()]
        yield QueryResult(columns, _fetched(cursor))
    finally:
        cursor.close()
        connection.rollback()


def bound_values(database: Database, run: ReportRun) -> list[object]:
    """The parameters in placeholder order, as the dialect binds them (SQLite stores times and
    dates as ISO text, so they are compared as the same text)."""
    values = {**run.report.parameters, **run.bound_parameters()}
    bound = []
    for name in run.report.query.parameter_names:
        value = values[name]
        kind = "timestamp" if isinstance(value, datetime) else "date"
        adapt = database.dialect.bind_adapter(kind) if isinstance(value, date) else None
        bound.append(adapt(value) if adapt else value)
    return bound


def _read_only(database: Database, cursor) -> None:
    if database.dialect.name == "postgresql":
        cursor.execute("SET TRANSACTION READ ONLY")
    elif database.dialect.name == "sqlite":
        cursor.execute("PRAGMA query_only = ON")


def _fetched(cursor) -> Iterator[Sequence[object]]:
    while batch := cursor.fetchmany(FETCH_ROWS):
        yield from batch
