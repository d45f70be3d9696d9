"""What differs between the databases: DDL types, identifier quoting, the batch strategy, and
how an INSERT skips a row that repeats the table's unique key.

Everything else (the ledger, the transaction, the statements' shape) is one DB-API 2.0 code path
with qmark parameters. Identifiers reaching this module come from the validated catalog only, and
are quoted all the same.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from hashlib import sha256
from itertools import repeat
from types import TracebackType
from typing import Any, Self

from functions.catalog import Column
from functions.loader.pg_arrays import (
    ArrayEncoder,
    DateArray,
    plain_array,
    text_array,
    timestamp_array,
)
from functions.loader.statement_runner import StatementRunner
from functions.loader.values import Converter, column_converter

# A batch as the loader builds it: one sequence of values per row column, in table order.
Columns = Sequence[Sequence[object]]

# PostgreSQL cuts names at 63 bytes, SQL Server at 128: one name within both.
MAX_CONSTRAINT_NAME_LENGTH = 63
# Catalog tables start with a letter: a leading underscore keeps the constraint's name (which
# shares the tables' namespace in PostgreSQL and SQL Server) clear of every staging table.
UNIQUE_CONSTRAINT_PREFIX = "_unique_"


def unique_constraint_name(table: str) -> str:
    """The name of `table`'s unique constraint: the prefix and the table's name, or, when that is
    too long, as much of the name as fits beside 8 hex digits of its SHA-256."""
    name = UNIQUE_CONSTRAINT_PREFIX + table
    if len(name) <= MAX_CONSTRAINT_NAME_LENGTH:
        return name
    digest = sha256(table.encode()).hexdigest()[:8]
    kept = MAX_CONSTRAINT_NAME_LENGTH - len(UNIQUE_CONSTRAINT_PREFIX) - len(digest) - 1
    return f"{UNIQUE_CONSTRAINT_PREFIX}{table[:kept]}_{digest}"


class Dialect(ABC):
    """What every dialect shares: ANSI quoting, DDL and the plain INSERT."""

    name: str
    # The most length units one character takes in the database's string types.
    units_per_character = 1
    # Whether decimals are bound as validated text rather than as Decimal objects.
    decimal_as_text = False

    def quote(self, identifier: str) -> str:
        """The identifier as a quoted SQL name."""
        return '"' + identifier.replace('"', '""') + '"'

    @abstractmethod
    def column_type(self, column: Column) -> str:
        """The SQL type that stores `column` exactly."""

    def text_length(self, value: str) -> int:
        """The length of `value` as the database's string types count it."""
        return len(value)

    def bind_adapter(self, column_type: str) -> Callable[[object], object] | None:
        """Converts a Python value into what the driver binds, where the driver needs help."""
        return None

    def converter(self, column: Column) -> Converter:
        """Converts raw values of `column` into what this dialect's driver binds."""
        return column_converter(
            column,
            self.text_length,
            units_per_character=self.units_per_character,
            decimal_as_text=self.decimal_as_text,
            bind=self.bind_adapter(column.type),
        )

    def create_table(
        self,
        table: str,
        columns: Sequence[Column],
        primary_key: Sequence[str] = (),
        unique: Sequence[str] = (),
    ) -> str:
        """CREATE TABLE for `table` that does nothing when the table exists.

        `unique` names the columns of a unique constraint (`unique_constraint_name`) whose
        duplicates the inserts of `batch_writer(skip_duplicates=True)` skip.
        """
        body = self._table_body(table, columns, primary_key, unique)
        return f"CREATE TABLE IF NOT EXISTS {self.quote(table)} ({body})"

    def _table_body(
        self,
        table: str,
        columns: Sequence[Column],
        primary_key: Sequence[str],
        unique: Sequence[str],
    ) -> str:
        parts = [
            f"{self.quote(c.name)} {self.column_type(c)}{'' if c.nullable else ' NOT NULL'}"
            for c in columns
        ]
        if primary_key:
            parts.append(f"PRIMARY KEY ({self._name_list(primary_key)})")
        if unique:
            parts.append(self.unique_constraint(table, unique))
        return ", ".join(parts)

    def unique_constraint(self, table: str, columns: Sequence[str]) -> str:
        """The table constraint that makes `columns` unique in `table`."""
        name = self.quote(unique_constraint_name(table))
        return f"CONSTRAINT {name} UNIQUE ({self._name_list(columns)})"

    def _name_list(self, names: Sequence[str]) -> str:
        return ", ".join(self.quote(name) for name in names)

    def insert_statement(self, table: str, columns: Sequence[Column]) -> str:
        """INSERT of one row of `columns`, qmark parameters."""
        names = ", ".join(self.quote(c.name) for c in columns)
        markers = ", ".join("?" for _ in columns)
        return f"INSERT INTO {self.quote(table)} ({names}) VALUES ({markers})"

    @abstractmethod
    def batch_writer(
        self,
        cursor: Any,
        table: str,
        row_columns: Sequence[Column],
        constant_columns: Sequence[Column],
        constants: Sequence[object],
        *,
        skip_duplicates: bool = False,
    ) -> BatchWriter:
        """Inserts batches of rows through `cursor`; `constants` fill `constant_columns`.

        With `skip_duplicates`, a row that repeats the unique key `create_table(unique=...)`
        gave the table is not inserted, and is no error.
        """


class BatchWriter(ABC):
    """Writes batches of staging rows through one cursor, inside a `with` block.

    `write` may return before its rows reach the database. Leaving the block waits until every
    row written is in the caller's transaction, and raises the first error on the way; after
    leaving it, by any path, nothing is running on the cursor's connection.
    """

    def __init__(self, cursor: Any) -> None:
        self.cursor = cursor
        # The rows the database reported inserted; None once a statement did not say.
        self._inserted_rows: int | None = 0

    @property
    def inserted_rows(self) -> int | None:
        """Rows the database inserted (skipped duplicates not counted), read after the block;
        None when the driver does not report it."""
        return self._inserted_rows

    def _count_inserted(self, rowcount: int) -> None:
        """Adds a statement's `cursor.rowcount`; DB-API's -1 (not known) makes the total None."""
        if self._inserted_rows is not None:
            self._inserted_rows = None if rowcount < 0 else self._inserted_rows + rowcount

    @abstractmethod
    def write(self, columns: Columns) -> None:
        """Sends the rows of `columns` into the caller's transaction."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        error_type: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        """Synchronous writers have nothing in flight; an error goes on as it is."""
        return False

    @staticmethod
    def rows(columns: Columns, constants: Sequence[object]) -> list[tuple[object, ...]]:
        """The batch as row tuples, each ending with the constants."""
        count = len(columns[0])
        return list(zip(*columns, *(repeat(value, count) for value in constants), strict=True))


class ExecuteManyWriter(BatchWriter):
    """The DB-API path: one `executemany` per batch, constants appended to each row."""

    def __init__(self, cursor: Any, statement: str, constants: tuple[object, ...]) -> None:
        super().__init__(cursor)
        self.statement = statement
        self.constants = constants

    def write(self, columns: Columns) -> None:
        self.cursor.executemany(self.statement, self.rows(columns, self.constants))
        # sqlite3 sums the rows each execution changed; an ignored duplicate changes none.
        self._count_inserted(self.cursor.rowcount)


class SQLiteDialect(Dialect):
    """SQLite through the standard library: the embedded default for local runs."""

    name = "sqlite"

    def insert_statement(
        self, table: str, columns: Sequence[Column], *, skip_duplicates: bool = False
    ) -> str:
        """INSERT of one row of `columns`; `skip_duplicates` skips a row the unique constraint
        refuses (only that: `OR IGNORE` would also skip rows breaking other constraints)."""
        statement = super().insert_statement(table, columns)
        return statement + " ON CONFLICT DO NOTHING" if skip_duplicates else statement

    def batch_writer(
        self,
        cursor: Any,
        table: str,
        row_columns: Sequence[Column],
        constant_columns: Sequence[Column],
        constants: Sequence[object],
        *,
        skip_duplicates: bool = False,
    ) -> BatchWriter:
        columns = [*row_columns, *constant_columns]
        return ExecuteManyWriter(
            cursor,
            self.insert_statement(table, columns, skip_duplicates=skip_duplicates),
            tuple(constants),
        )

    def column_type(self, column: Column) -> str:
        # SQLite has no exact decimal and no date types: decimals, dates and timestamps are
        # stored as text. ISO dates and timestamps sort and compare correctly as text; decimals
        # keep their exact value but compare as strings ("10.00" < "9.00"): cast them to compare.
        return {
            "string": "TEXT",
            "integer": "INTEGER",
            "decimal": "TEXT",
            "boolean": "INTEGER",
            "date": "TEXT",
            "timestamp": "TEXT",
        }[column.type]

    def bind_adapter(self, column_type: str) -> Callable[[object], object] | None:
        # The sqlite3 module's own date adapters are deprecated since Python 3.12.
        return {
            "decimal": _decimal_text,
            "date": date.isoformat,
            "timestamp": timestamp_text,
        }.get(column_type)


def _decimal_text(value: object) -> str:
    assert isinstance(value, Decimal)
    return format(value, "f")


def timestamp_text(value: object) -> str:
    """A timestamp as ISO text with microseconds: SQLite's stored form, and text that
    PostgreSQL's and SQL Server's casts to their timestamp types read exactly."""
    assert isinstance(value, datetime)
    return value.isoformat(sep=" ", timespec="microseconds")


class PostgreSQLDialect(Dialect):
    """PostgreSQL through pyodbc and psqlODBC: batches as array parameters, unnested."""

    name = "postgresql"
    # Decimals travel as validated text inside array literals, which numeric input parses exactly.
    decimal_as_text = True

    def column_type(self, column: Column) -> str:
        if column.type == "string":
            return "text" if column.max_length is None else f"varchar({column.max_length})"
        if column.type == "decimal":
            return f"numeric({column.precision},{column.scale})"
        return {
            "integer": "bigint",
            "boolean": "boolean",
            "date": "date",
            "timestamp": "timestamp(6)",
        }[column.type]

    def batch_writer(
        self,
        cursor: Any,
        table: str,
        row_columns: Sequence[Column],
        constant_columns: Sequence[Column],
        constants: Sequence[object],
        *,
        skip_duplicates: bool = False,
    ) -> BatchWriter:
        return UnnestInsertWriter(
            cursor,
            self.unnest_insert_statement(
                table, row_columns, constant_columns, skip_duplicates=skip_duplicates
            ),
            [_array_encoder(column) for column in row_columns],
            tuple(constants),
        )

    def unnest_insert_statement(
        self,
        table: str,
        row_columns: Sequence[Column],
        constant_columns: Sequence[Column],
        *,
        skip_duplicates: bool = False,
    ) -> str:
        """INSERT of one array parameter per row column, unnested, and one per constant.

        `skip_duplicates` adds ON CONFLICT DO NOTHING, which also skips a row repeating one
        earlier in the same statement (DO UPDATE would fail there instead).
        """
        names = ", ".join(self.quote(c.name) for c in (*row_columns, *constant_columns))
        # unnest() in the select list walks the arrays in step; measured 20% cheaper on the
        # server than unnest(a, b, ...) in FROM, which materialises its rows first.
        selected = ", ".join(
            [
                *(f"unnest(CAST(? AS {POSTGRESQL_ARRAY_TYPES[c.type]}))" for c in row_columns),
                *(f"CAST(? AS {self.column_type(c)})" for c in constant_columns),
            ]
        )
        conflict = " ON CONFLICT DO NOTHING" if skip_duplicates else ""
        return f"INSERT INTO {self.quote(table)} ({names}) SELECT {selected}{conflict}"


# The array each column type travels in. Unconstrained element types on purpose: assigning a
# too-long string to varchar(n), or a too-large number to numeric(p,s), then fails, where an
# explicit CAST to varchar(n)[] would silently truncate (the converters check both first).
POSTGRESQL_ARRAY_TYPES = {
    "string": "text[]",
    "integer": "bigint[]",
    "decimal": "numeric[]",
    "boolean": "boolean[]",
    "date": "date[]",
    "timestamp": "timestamp[]",
}
# pyodbc sends a string longer than the driver's reported varchar size (psqlODBC: 255) in pieces
# through SQLPutData, holding the GIL throughout. Up to this many bytes it binds the whole value
# at once instead: measured half the client time per literal, and the GIL free while the server
# works. PostgreSQL's own limit on one value is 1 GB.
PYODBC_MAXWRITE_BYTES = 1 << 30


def _array_encoder(column: Column) -> ArrayEncoder:
    if column.type == "string":
        return text_array
    if column.type == "date":
        return DateArray()
    if column.type == "timestamp":
        return timestamp_array
    # Integers, booleans, and decimals as validated text (decimal_as_text).
    return plain_array


class UnnestInsertWriter(BatchWriter):
    """`INSERT INTO t (...) SELECT unnest(CAST(? AS bigint[])), ..., <constants>`.

    Each column of a batch travels as one text parameter, a PostgreSQL array literal
    (`pg_arrays`), so a statement binds one parameter per column whatever its row count. The
    multi-row VALUES INSERT this replaced bound every value, and pyodbc with psqlODBC spends
    about 0.75 us on each bound parameter; building the literals costs 0.05 to 0.4 us a value.
    """

    # The most rows a statement carries, whatever batch a writer is handed: each literal stays
    # a few hundred kB. Equal to the loader's batch (`load.BATCH_ROWS`, which imports this
    # module, so it cannot be imported here; a test pins the two) so a batch is one statement,
    # run while the loader parses the next. Measured per row, statements of 500 or 1,000 rows
    # cost the server 10-30% more than 2,500 or 5,000.
    rows_per_statement = 5000

    def __init__(
        self,
        cursor: Any,
        statement: str,
        encoders: list[ArrayEncoder],
        constants: tuple[object, ...],
    ) -> None:
        super().__init__(cursor)
        self.statement = statement
        self.encoders = encoders
        self.constants = list(constants)
        # pyodbc releases the GIL while a statement runs: the loader parses and converts the
        # next batch meanwhile, and the runner keeps one statement in flight at most.
        self.statements = StatementRunner(_RowCountingCursor(cursor, self._count_inserted))

    def __enter__(self) -> Self:
        # Set while the connection is idle: the worker thread is the only user from here on.
        self.cursor.connection.maxwrite = PYODBC_MAXWRITE_BYTES
        self.statements.__enter__()
        return self

    def __exit__(
        self,
        error_type: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        """Waits for the statements sent; raises the first one's error, if one failed."""
        self.statements.__exit__(error_type, error, traceback)
        return False

    def write(self, columns: Columns) -> None:
        step = self.rows_per_statement
        for start in range(0, len(columns[0]), step):
            parameters = [
                encode(values[start : start + step])
                for encode, values in zip(self.encoders, columns, strict=True)
            ]
            self.statements.execute(self.statement, parameters + self.constants)


class _RowCountingCursor:
    """Executes on `cursor`, then hands each statement's row count to `count` (on the runner's
    thread; the writer reads the total only after leaving its block, which joins the thread)."""

    def __init__(self, cursor: Any, count: Callable[[int], None]) -> None:
        self.cursor = cursor
        self.count = count

    def execute(self, statement: str, parameters: list[object]) -> None:
        self.cursor.execute(statement, parameters)
        # psqlODBC reports the INSERT's command tag: the rows inserted, conflicts not counted.
        self.count(self.cursor.rowcount)


class SQLServerDialect(Dialect):
    """SQL Server through pyodbc and ODBC Driver 18: `fast_executemany` in bounded chunks."""

    name = "mssql"
    units_per_character = 2
    # fast_executemany sends a whole parameter array at once; bound it so a batch's buffer
    # (rows x columns x declared sizes) stays a few MB.
    rows_per_chunk = 1000

    def quote(self, identifier: str) -> str:
        return "[" + identifier.replace("]", "]]") + "]"

    def column_type(self, column: Column) -> str:
        if column.type == "string":
            length = "max" if column.max_length is None else column.max_length
            return f"nvarchar({length})"
        if column.type == "decimal":
            return f"decimal({column.precision},{column.scale})"
        return {
            "integer": "bigint",
            "boolean": "bit",
            "date": "date",
            # Python datetimes carry microseconds: datetime2(6) stores them without rounding.
            "timestamp": "datetime2(6)",
        }[column.type]

    def text_length(self, value: str) -> int:
        # nvarchar(n) counts UTF-16 code units: a character outside the BMP (an emoji) takes two.
        if value.isascii():
            return len(value)
        return len(value.encode("utf-16-le")) // 2

    def create_table(
        self,
        table: str,
        columns: Sequence[Column],
        primary_key: Sequence[str] = (),
        unique: Sequence[str] = (),
    ) -> str:
        # The catalog allows only [A-Za-z0-9_] in names, so the literal needs no escaping.
        body = self._table_body(table, columns, primary_key, unique)
        return f"IF OBJECT_ID(N'{table}', N'U') IS NULL CREATE TABLE {self.quote(table)} ({body})"

    def unique_constraint(self, table: str, columns: Sequence[str]) -> str:
        # IGNORE_DUP_KEY discards a duplicate row, one repeated within a statement too, with a
        # warning ("Duplicate key was ignored.") instead of failing the statement: the
        # fast_executemany INSERT stays plain. A nonclustered index key holds at most 1,700
        # bytes (900 clustered), 2 bytes a character of nvarchar: a longer key fails its insert,
        # an nvarchar(max) key column the CREATE TABLE.
        name = self.quote(unique_constraint_name(table))
        return (
            f"CONSTRAINT {name} UNIQUE NONCLUSTERED ({self._name_list(columns)}) "
            "WITH (IGNORE_DUP_KEY = ON)"
        )

    def input_sizes(self, columns: Sequence[Column]) -> list[tuple[int, int, int]]:
        """`setinputsizes` for `columns`: without it fast_executemany guesses sizes from the
        first row and silently truncates longer strings, and rounds decimals and datetime2."""
        import pyodbc  # noqa: PLC0415 -- only the SQL Server path needs the ODBC driver manager

        sizes = []
        for column in columns:
            if column.type == "string":
                # 0 declares nvarchar(max).
                sizes.append((pyodbc.SQL_WVARCHAR, column.max_length or 0, 0))
            elif column.type == "decimal":
                assert column.precision is not None and column.scale is not None
                sizes.append((pyodbc.SQL_DECIMAL, column.precision, column.scale))
            elif column.type == "timestamp":
                # datetime2(6): 26 characters (yyyy-mm-dd hh:mm:ss.ffffff), 6 fractional digits.
                sizes.append((pyodbc.SQL_TYPE_TIMESTAMP, 26, 6))
            else:
                sql_type = {
                    "integer": pyodbc.SQL_BIGINT,
                    "boolean": pyodbc.SQL_BIT,
                    "date": pyodbc.SQL_TYPE_DATE,
                }[column.type]
                sizes.append((sql_type, 0, 0))
        return sizes

    def batch_writer(
        self,
        cursor: Any,
        table: str,
        row_columns: Sequence[Column],
        constant_columns: Sequence[Column],
        constants: Sequence[object],
        *,
        skip_duplicates: bool = False,
    ) -> BatchWriter:
        # The unique constraint's IGNORE_DUP_KEY skips duplicates: the INSERT is the same.
        columns = [*row_columns, *constant_columns]
        return FastExecuteManyWriter(
            cursor,
            self.insert_statement(table, columns),
            self.input_sizes(columns),
            tuple(constants),
            self.rows_per_chunk,
        )


class FastExecuteManyWriter(BatchWriter):
    """pyodbc's `fast_executemany`: one parameter array per chunk, declared sizes."""

    def __init__(
        self,
        cursor: Any,
        statement: str,
        input_sizes: list[tuple[int, int, int]],
        constants: tuple[object, ...],
        rows_per_chunk: int,
    ) -> None:
        super().__init__(cursor)
        self.statement = statement
        self.input_sizes = input_sizes
        self.constants = constants
        self.rows_per_chunk = rows_per_chunk
        # pyodbc sets rowcount to -1 after every executemany, fast or not.
        self._inserted_rows = None

    def write(self, columns: Columns) -> None:
        self.cursor.fast_executemany = True
        rows = self.rows(columns, self.constants)
        for start in range(0, len(rows), self.rows_per_chunk):
            self.cursor.setinputsizes(self.input_sizes)
            self.cursor.executemany(self.statement, rows[start : start + self.rows_per_chunk])


DIALECTS: dict[str, Dialect] = {
    dialect.name: dialect for dialect in (SQLiteDialect(), PostgreSQLDialect(), SQLServerDialect())
}
