"""The page queries of a dataset's extract, per source engine.

A run reads a dataset in keyset pages ordered by (watermark, keys): the first page from the
window's start, each next one strictly after the last row of the page before. Only the declared
source fields are selected. Row-value comparisons (`(a, b) > (?, ?)`) are spelled out as OR
chains, which every engine takes (SQL Server has no row values), after a redundant `a >= ?`
that lets the engine seek an index on the watermark rather than scan it for the OR
(use-the-index-luke.com, "Paging Through Results").

Timestamp parameters are bound as ISO text and cast in the statement: how many fractional
digits a bound datetime keeps depends on the driver (pyodbc issues #235 and #406: SQL Server and
MySQL milliseconds), and a cursor that lost its microseconds would read its own page again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from functions.catalog import Column, Dataset


@dataclass(frozen=True)
class Engine:
    """How one source engine quotes identifiers, casts a timestamp parameter and limits rows."""

    quote_open: str
    quote_close: str
    timestamp_parameter: str
    # SQL Server's `SELECT TOP (n)` instead of a trailing `LIMIT n`.
    limits_with_top: bool

    def quote(self, identifier: str) -> str:
        """The identifier quoted, so reserved words and mixed case are taken as written."""
        escaped = identifier.replace(self.quote_close, self.quote_close * 2)
        return f"{self.quote_open}{escaped}{self.quote_close}"


_POSTGRES = Engine('"', '"', "CAST(? AS timestamp)", limits_with_top=False)
_MYSQL = Engine("`", "`", "CAST(? AS DATETIME(6))", limits_with_top=False)
_SQL_SERVER = Engine("[", "]", "CAST(? AS datetime2(6))", limits_with_top=True)
# By RDS engine name, as the platforms' stack config and REPLICAS name them.
ENGINES = {
    "postgres": _POSTGRES,
    "mysql": _MYSQL,
    "mariadb": _MYSQL,
    "sqlserver-ee": _SQL_SERVER,
}


@dataclass(frozen=True)
class PageQueries:
    """The three statements of a dataset's extract on one engine."""

    # The source fields selected, in the dataset's column order (the CSV header).
    fields: tuple[str, ...]
    # The watermark column, then the keys: the order of the pages and of the keyset cursor.
    order: tuple[Column, ...]
    # The first page of a first extract: every row. No parameters.
    every_row: str
    # The first page of a window: rows whose watermark is at least the window's start.
    from_start: str
    # Every next page: rows after the cursor, the last row of the page before.
    after_cursor: str

    def cursor_of(self, row: Sequence[object]) -> tuple[object, ...]:
        """The (watermark, keys) of a row read by these queries."""
        return tuple(row[self.fields.index(column.source_field)] for column in self.order)

    def from_start_parameters(self, start: int | datetime) -> list[object]:
        """The parameters of `from_start`."""
        return [bound_value(self.order[0], start)]

    def after_cursor_parameters(self, cursor: Sequence[object]) -> list[object]:
        """The parameters of `after_cursor`: the watermark (>=), then each cursor value but the
        last twice (> and =), then the last."""
        values = [
            bound_value(column, value) for column, value in zip(self.order, cursor, strict=True)
        ]
        return [values[0], *(value for value in values[:-1] for _ in (0, 1)), values[-1]]


def page_queries(dataset: Dataset, engine: Engine) -> PageQueries:
    """The page queries of `dataset` (which has `extract` and `watermark`) on `engine`."""
    extract = dataset.extract
    if extract is None or dataset.watermark is None:
        raise ValueError(f"{dataset.qualified_name} has no extract")
    order = cursor_columns(dataset)
    fields = tuple(column.source_field for column in dataset.columns)
    relation = ".".join(engine.quote(part) for part in extract.relation.split("."))
    select = ", ".join(engine.quote(field) for field in fields)
    if engine.limits_with_top:
        select = f"TOP ({extract.batch_rows}) {select}"
    ordering = ", ".join(engine.quote(column.source_field) for column in order)
    limit = "" if engine.limits_with_top else f" LIMIT {extract.batch_rows}"

    def statement(*bounds: str) -> str:
        conditions = [f"({condition})" for condition in (extract.where, *bounds) if condition]
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        return f"SELECT {select} FROM {relation}{where} ORDER BY {ordering}{limit}"

    from_start = f"{engine.quote(order[0].source_field)} >= {_parameter(engine, order[0])}"
    return PageQueries(
        fields=fields,
        order=order,
        every_row=statement(),
        from_start=statement(from_start),
        after_cursor=statement(from_start, _after(engine, order)),
    )


def cursor_columns(dataset: Dataset) -> tuple[Column, ...]:
    """The watermark column, then the keys but the watermark: the order of the pages."""
    by_name = {column.name: column for column in dataset.columns}
    keys = [by_name[key] for key in dataset.keys if key != dataset.watermark]
    return (by_name[dataset.watermark], *keys)


def bound_value(column: Column, value: object) -> object:
    """A cursor value as it is bound: timestamps as naive UTC ISO text (see the module doc)."""
    if column.type == "timestamp" and isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat(sep=" ")
    return value


def _after(engine: Engine, order: Sequence[Column]) -> str:
    """`(c1, c2, ...) > (?, ?, ...)` as c1 > ? OR (c1 = ? AND (c2 > ? OR ...))."""
    column, *rest = order
    name = engine.quote(column.source_field)
    parameter = _parameter(engine, column)
    if not rest:
        return f"{name} > {parameter}"
    return f"{name} > {parameter} OR ({name} = {parameter} AND ({_after(engine, rest)}))"


def _parameter(engine: Engine, column: Column) -> str:
    return engine.timestamp_parameter if column.type == "timestamp" else "?"
