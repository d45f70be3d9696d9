"""The platforms' side of the demo: each replica's database written to a SQLite file from the
samples, the replicas' logins put in the hub's secrets (an operator's step, docs/extracts.md),
the files a platform team exports by hand, and the application's writes to its DynamoDB table.
"""

from __future__ import annotations

import csv
import io
import json
import secrets
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from functions.catalog import Dataset
from functions.extractor.parts import csv_text
from functions.extractor.sql import ENGINES
from offline.demo.blueprint import Blueprint, Replica
from offline.demo.samples import ItemChange, Samples, SourceDatabase
from offline.demo.sqlite_replicas import ReplicaFile, SqliteReplicaConnection, attached_schema

if TYPE_CHECKING:
    # moto is imported only where the emulator runs.
    from offline.demo.emulator import Emulator

# The read-only login each platform team creates on its replica for the reporting account.
REPLICA_USER = "reporting_reader"


@dataclass(frozen=True)
class Sources:
    """The replicas' files, by (host, database) as REPLICAS names them."""

    files: dict[tuple[str, str], ReplicaFile]
    replicas: dict[str, Replica]
    rows: int

    def replica_file(self, platform: str) -> tuple[Replica, ReplicaFile]:
        """The platform's replica and its file."""
        replica = self.replicas[platform]
        return replica, self.files[(replica.address, replica.name)]


def write_sources(directory: Path, blueprint: Blueprint, samples: Samples) -> Sources:
    """One SQLite file per platform's replica, holding its sample tables."""
    directory.mkdir(parents=True, exist_ok=True)
    files, replicas, rows = {}, {}, 0
    for database in samples.databases:
        replica = _replica(blueprint, database)
        path = directory / f"{database.platform}-{database.replica}.sqlite"
        rows += _write_database(path, replica, database)
        files[(replica.address, replica.name)] = ReplicaFile(
            path, REPLICA_USER, secrets.token_urlsafe(18)
        )
        replicas[database.platform] = replica
    return Sources(files, replicas, rows)


def put_replica_logins(
    emulator: Emulator, extractor_environment: Mapping[str, str], sources: Sources
) -> None:
    """Puts each extracted replica's login into the secret the hub made for it (the stack makes
    the secret, never its value)."""
    hub = emulator.blueprint.hub_account
    secrets_manager = emulator.client("secretsmanager", hub)
    for replicas in json.loads(extractor_environment["REPLICAS"]).values():
        for entry in replicas.values():
            login = sources.files[(entry["host"], entry["database"])]
            secrets_manager.put_secret_value(
                SecretId=emulator.translate(entry["secret_arn"]),
                SecretString=json.dumps({"username": login.username, "password": login.password}),
            )


def exported_file(sources: Sources, dataset: Dataset, relation: str) -> tuple[bytes, int]:
    """The file a platform team exports from its database for `dataset`: the declared fields
    of every row, as CSV or JSON Lines (the catalog's format); with its row count."""
    replica, login = sources.replica_file(dataset.platform)
    engine = ENGINES[replica.engine]
    connection = SqliteReplicaConnection.open(
        login.path, attached_schema(replica.engine, replica.name), engine
    )
    fields = [column.source_field for column in dataset.columns]
    try:
        cursor = connection.cursor()
        quoted = ", ".join(engine.quote(field) for field in fields)
        table = ".".join(engine.quote(part) for part in relation.split("."))
        rows = cursor.execute(f"SELECT {quoted} FROM {table}").fetchall()
    finally:
        connection.close()
    if dataset.file_format == "jsonl":
        lines = (json.dumps(dict(zip(fields, map(_json_value, row), strict=True))) for row in rows)
        return "".join(f"{line}\n" for line in lines).encode("utf-8"), len(rows)
    return csv_file(fields, ([csv_text(value) for value in row] for row in rows)), len(rows)


def csv_file(header: Iterable[str], rows: Iterable[Iterable[str]]) -> bytes:
    """RFC 4180 text with a header line, as a spreadsheet saves it."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return text.getvalue().encode("utf-8")


def write_items(dynamodb: Any, table: str, changes: Iterable[ItemChange]) -> int:
    """The application's writes, in order; returns how many."""
    written = 0
    for change in changes:
        if change.operation == "put":
            dynamodb.put_item(TableName=table, Item=change.item)
        elif change.operation == "update":
            key = {name: change.item[name] for name in ("learnerId", "lessonId")}
            values = {name: value for name, value in change.item.items() if name not in key}
            dynamodb.update_item(
                TableName=table,
                Key=key,
                UpdateExpression="SET " + ", ".join(f"#{name} = :{name}" for name in values),
                ExpressionAttributeNames={f"#{name}": name for name in values},
                ExpressionAttributeValues={f":{name}": value for name, value in values.items()},
            )
        else:
            dynamodb.delete_item(TableName=table, Key=change.item)
        written += 1
    return written


def _replica(blueprint: Blueprint, database: SourceDatabase) -> Replica:
    for replica in blueprint.replicas:
        if (replica.platform, replica.name) == (database.platform, database.replica):
            return replica
    raise LookupError(f"the {database.platform} stack has no replica {database.replica}")


def _write_database(path: Path, replica: Replica, database: SourceDatabase) -> int:
    path.unlink(missing_ok=True)
    schema = attached_schema(replica.engine, replica.name)
    rows = 0
    with sqlite3.connect(path) as connection:
        for table in database.tables:
            qualifier, _, name = table.relation.rpartition(".")
            if qualifier not in ("", schema):
                raise ValueError(f"{table.relation}: {replica.engine} tables here are in {schema}")
            columns = ", ".join(f'"{column}" {declared}' for column, declared in table.columns)
            connection.execute(f'CREATE TABLE "{name}" ({columns})')
            marks = ", ".join("?" for _ in table.columns)
            connection.executemany(
                f'INSERT INTO "{name}" VALUES ({marks})',
                ([_stored(value) for value in row] for row in table.rows),
            )
            rows += len(table.rows)
    connection.close()
    return rows


def _stored(value: Any) -> Any:
    """A value as the SQLite source keeps it: timestamps as `isoformat(sep=" ")`, the text the
    extractor binds a cursor as (functions/extractor/sql.py, `bound_value`)."""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bool):
        return int(value)
    return value


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value
