"""The demo's read replicas: SQLite files in place of PostgreSQL, MySQL and SQL Server, behind
the extractor's connector interface (`open(replica)`, as `ReplicaConnector`). Demo code only: no
Lambda package carries it.

A replica's database is one SQLite file, attached read-only under the name its engine puts
before a table (`public` for PostgreSQL, the database itself for MySQL, `dbo` for SQL Server), so
the relation the catalog names resolves as written. The statements the extractor generates for
each engine run unchanged but for the two spellings SQLite lacks: the engine's cast of a
timestamp parameter (SQLite would cast the text to a number) becomes the bare parameter, compared
as text with the stored ISO text; SQL Server's `SELECT TOP (n)` becomes a trailing `LIMIT n`.
Values come back typed as an ODBC driver returns them (datetime, date, Decimal, bool), from each
column's declared type. The login is checked against the one the replica was given.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from functions.extractor.settings import Replica
from functions.extractor.sql import ENGINES, Engine

_TOP = re.compile(r"^SELECT TOP \((\d+)\) ")


class ReplicaLoginError(PermissionError):
    """The login in the replica's secret is not the replica's (or no replica answers there)."""


@dataclass(frozen=True)
class ReplicaFile:
    """Where a replica's data is, and the login the platform team gave the reporting account."""

    path: Path
    username: str
    password: str


def attached_schema(engine: str, database: str) -> str:
    """The name a table is qualified with on `engine`: the file is attached under it."""
    return {"postgres": "public", "sqlserver-ee": "dbo"}.get(engine, database)


def sqlite_statement(statement: str, engine: Engine) -> str:
    """An extractor statement for `engine` as SQLite takes it (see the module docstring)."""
    text = statement.replace(engine.timestamp_parameter, "?")
    if engine.limits_with_top:
        top = _TOP.match(text)
        if top:
            text = f"SELECT {text[top.end() :]} LIMIT {top.group(1)}"
    return text


@dataclass(frozen=True)
class SqliteReplicas:
    """Opens the replicas named in REPLICAS, by host and database, with the login in their
    Secrets Manager secret (read on every connect, as the extractor's own connector does)."""

    secrets: Any
    files: Mapping[tuple[str, str], ReplicaFile]

    def open(self, replica: Replica) -> SqliteReplicaConnection:
        """An open, read-only connection to `replica`."""
        login = json.loads(
            self.secrets.get_secret_value(SecretId=replica.secret_arn)["SecretString"]
        )
        found = self.files.get((replica.host, replica.database))
        if found is None or (login.get("username"), login.get("password")) != (
            found.username,
            found.password,
        ):
            raise ReplicaLoginError(
                f"login failed for {login.get('username')!r} at {replica.host}:{replica.port}"
                f"/{replica.database}"
            )
        return SqliteReplicaConnection.open(
            found.path, attached_schema(replica.engine, replica.database), ENGINES[replica.engine]
        )


class SqliteReplicaConnection:
    """A pyodbc-shaped connection to one replica file: `cursor()`, `close()`."""

    def __init__(self, connection: sqlite3.Connection, engine: Engine, types: dict[str, str]):
        self._connection = connection
        self._engine = engine
        self._types = types

    @classmethod
    def open(cls, path: Path, schema: str, engine: Engine) -> SqliteReplicaConnection:
        """The file at `path`, read-only, its tables qualified by `schema`."""
        connection = sqlite3.connect(":memory:", uri=True)
        connection.execute(
            f'ATTACH DATABASE ? AS "{schema}"', (f"{Path(path).resolve().as_uri()}?mode=ro",)
        )
        return cls(connection, engine, _declared_types(connection, schema))

    def cursor(self) -> SqliteReplicaCursor:
        """A new cursor, as pyodbc's."""
        return SqliteReplicaCursor(self._connection.cursor(), self._engine, self._types)

    def close(self) -> None:
        """Closes the connection (the file is never written)."""
        self._connection.close()


class SqliteReplicaCursor:
    """A pyodbc-shaped cursor: parameters as arguments, rows typed by declared column type."""

    def __init__(self, cursor: sqlite3.Cursor, engine: Engine, types: dict[str, str]) -> None:
        self._cursor = cursor
        self._engine = engine
        self._types = types
        self._converters: list[Callable[[Any], Any] | None] = []

    def execute(self, statement: str, *parameters: object) -> SqliteReplicaCursor:
        """Runs an extractor statement for this engine, its parameters as pyodbc takes them."""
        self._cursor.execute(sqlite_statement(statement, self._engine), parameters)
        self._converters = [
            _converter(self._types.get(column[0], "")) for column in self._cursor.description or ()
        ]
        return self

    def fetchmany(self, size: int) -> list[tuple[Any, ...]]:
        """Up to `size` more rows, typed."""
        return [self._typed(row) for row in self._cursor.fetchmany(size)]

    def fetchall(self) -> list[tuple[Any, ...]]:
        """The remaining rows, typed."""
        return [self._typed(row) for row in self._cursor.fetchall()]

    def close(self) -> None:
        """Closes the cursor."""
        self._cursor.close()

    def _typed(self, row: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(
            value if convert is None or value is None else convert(value)
            for convert, value in zip(self._converters, row, strict=True)
        )


def _declared_types(connection: sqlite3.Connection, schema: str) -> dict[str, str]:
    """Each column name's declared type, over every table of the file; a name declared with
    two different types would be ambiguous in a result, and is refused."""
    types: dict[str, str] = {}
    tables = connection.execute(
        f"SELECT name FROM \"{schema}\".sqlite_master WHERE type = 'table'"
    ).fetchall()
    for (table,) in tables:
        for _, column, declared, *_ in connection.execute(
            f'PRAGMA "{schema}".table_info("{table}")'
        ):
            if types.setdefault(column, declared) != declared:
                raise ValueError(f"column {column} is declared {types[column]} and {declared}")
    return types


def _converter(declared: str) -> Callable[[Any], Any] | None:
    kind = declared.split("(", 1)[0].strip().lower()
    if kind in ("timestamp", "timestamptz", "datetime", "datetime2", "datetimeoffset"):
        return datetime.fromisoformat
    if kind == "date":
        return date.fromisoformat
    if kind in ("boolean", "bool", "bit"):
        return bool
    if kind in ("numeric", "decimal"):
        return _decimal
    return None


def _decimal(value: Any) -> Decimal:
    # A NUMERIC column keeps 20.50 as the REAL 20.5: its shortest repr is the exact value.
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
