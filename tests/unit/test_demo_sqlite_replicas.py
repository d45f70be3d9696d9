"""The demo's SQLite replicas run the statements the extractor generates for every replica
engine: each row read exactly once across keyset pages (ties on the watermark included), the
window after a stored watermark, typed values, and a login checked against the replica's."""

from __future__ import annotations

import csv
import gzip
import io
import json
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from functions.catalog import parse_platform
from functions.extractor.extract import DatasetExtract, Landing
from functions.extractor.parts import PartWriter
from functions.extractor.settings import Replica
from functions.extractor.sql import ENGINES
from functions.extractor.state import StateStore
from offline.demo.sqlite_replicas import (
    ReplicaFile,
    ReplicaLoginError,
    SqliteReplicaConnection,
    SqliteReplicas,
    attached_schema,
    sqlite_statement,
)

T0 = datetime(2026, 11, 2, 9, 0)
ROWS = 250
# Where each engine's table is, as the catalog's `extract.from` names it.
RELATIONS = {
    "postgres": "public.lab_events",
    "mysql": "lab_events",
    "mariadb": "lab_events",
    "sqlserver-ee": "dbo.lab_events",
}
TIMESTAMP_TYPES = {
    "postgres": "timestamp(6)",
    "mysql": "datetime(6)",
    "mariadb": "datetime(6)",
    "sqlserver-ee": "datetime2(6)",
}


def _dataset(engine: str):
    (dataset,) = parse_platform(
        {
            "platform": "lab",
            "datasets": [
                {
                    "name": "events",
                    "source": "test",
                    "table": "lab_events",
                    "keys": ["event_id", "bench"],
                    "watermark": "changed_at",
                    "extract": {"database": "lab", "from": RELATIONS[engine], "batch_rows": 100},
                    "columns": [
                        {"name": "event_id", "type": "integer", "nullable": False},
                        {"name": "bench", "type": "string", "max_length": 10, "nullable": False},
                        {"name": "reading", "type": "decimal", "precision": 6, "scale": 2},
                        {"name": "ok", "type": "boolean"},
                        {"name": "changed_at", "type": "timestamp", "nullable": False},
                    ],
                }
            ],
        },
        source="test",
    )
    return dataset


def _row(number: int) -> tuple[Any, ...]:
    # Ten rows share each watermark: pages must go on by the keys.
    changed = T0 + timedelta(minutes=number // 10)
    return (number // 2, f"b{number % 2}", f"{number}.25", number % 3 == 0, str(changed))


def _replica_file(tmp_path: Path, engine: str, rows: range) -> Path:
    path = tmp_path / f"{engine}.sqlite"
    with sqlite3.connect(path) as connection:
        connection.execute(
            "CREATE TABLE lab_events (event_id bigint, bench varchar(10), reading decimal(6,2),"
            f" ok boolean, changed_at {TIMESTAMP_TYPES[engine]})"
        )
        connection.executemany(
            "INSERT INTO lab_events VALUES (?, ?, ?, ?, ?)", [_row(n) for n in rows]
        )
    connection.close()
    return path


@dataclass
class MemoryS3:
    """put_object / get_object of one bucket, in memory."""

    objects: dict[str, bytes] = field(default_factory=dict)

    def put_object(self, Bucket: str, Key: str, Body: bytes, **_: Any) -> None:  # noqa: N803
        self.objects[Key] = Body

    def get_object(self, Bucket: str, Key: str) -> dict[str, Any]:  # noqa: N803
        if Key not in self.objects:
            raise ClientError({"Error": {"Code": "NoSuchKey"}}, "GetObject")
        return {"Body": _Body(self.objects[Key])}


@dataclass
class _Body:
    data: bytes

    def read(self) -> bytes:
        return self.data


def _extract(path: Path, engine: str, s3: MemoryS3):
    schema = attached_schema(engine, "lab")
    connection = SqliteReplicaConnection.open(path, schema, ENGINES[engine])
    try:
        return DatasetExtract(
            dataset=_dataset(engine),
            engine=ENGINES[engine],
            connection=connection,
            landing=Landing(s3, "landing"),
            states=StateStore(s3, "landing"),
            hasher=None,
            overlap=timedelta(minutes=2),
        ).run()
    finally:
        connection.close()


def _part_rows(s3: MemoryS3, keys: set[str]) -> list[list[str]]:
    rows = []
    for key in sorted(keys):
        text = gzip.decompress(s3.objects[key]).decode("utf-8")
        rows.extend(list(csv.reader(io.StringIO(text)))[1:])
    return rows


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_every_row_is_read_once_in_keyset_pages_on_every_engine(tmp_path, engine) -> None:
    s3 = MemoryS3()
    path = _replica_file(tmp_path, engine, range(ROWS))

    result = _extract(path, engine, s3)

    parts = {key for key in s3.objects if key.startswith("incoming/")}
    assert (result.status, result.rows, result.parts) == ("extracted", ROWS, 3)
    read = _part_rows(s3, parts)
    assert sorted((int(r[0]), r[1]) for r in read) == sorted(
        (n // 2, f"b{n % 2}") for n in range(ROWS)
    )
    assert read[0] == ["0", "b0", "0.25", "true", "2026-11-02 09:00:00"]


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_the_next_window_reads_from_the_stored_watermark_less_the_overlap(tmp_path, engine):
    s3 = MemoryS3()
    path = _replica_file(tmp_path, engine, range(ROWS))
    _extract(path, engine, s3)
    first_parts = {key for key in s3.objects if key.startswith("incoming/")}
    with sqlite3.connect(path) as connection:
        connection.executemany(
            "INSERT INTO lab_events VALUES (?, ?, ?, ?, ?)",
            [_row(n) for n in range(ROWS, ROWS + 5)],
        )
    connection.close()

    result = _extract(path, engine, s3)

    new_parts = {key for key in s3.objects if key.startswith("incoming/")} - first_parts
    # The last watermark (minute 24) less two minutes: minutes 22 to 25, ten rows a minute but
    # the five new ones.
    assert result.rows == 35
    assert len(_part_rows(s3, new_parts)) == 35


def test_sql_server_top_becomes_a_limit_and_timestamp_casts_bare_parameters() -> None:
    statement = (
        "SELECT TOP (100) [a] FROM [dbo].[t] WHERE ([a] >= CAST(? AS datetime2(6))) ORDER BY [a]"
    )

    assert sqlite_statement(statement, ENGINES["sqlserver-ee"]) == (
        "SELECT [a] FROM [dbo].[t] WHERE ([a] >= ?) ORDER BY [a] LIMIT 100"
    )


def test_values_come_back_typed_as_a_driver_returns_them(tmp_path) -> None:
    path = _replica_file(tmp_path, "postgres", range(1))
    connection = SqliteReplicaConnection.open(path, "public", ENGINES["postgres"])
    row = connection.cursor().execute('SELECT * FROM "public"."lab_events"').fetchall()[0]
    connection.close()

    assert row == (0, "b0", Decimal("0.25"), True, T0)
    # What the extractor's part writer makes of them.
    PartWriter(_dataset("postgres"), None).write([row])


def test_a_login_other_than_the_replicas_is_refused(tmp_path) -> None:
    path = _replica_file(tmp_path, "mysql", range(1))
    secret = {"username": "reporting_reader", "password": "wrong"}

    class Secrets:
        def get_secret_value(self, SecretId: str) -> dict[str, str]:  # noqa: N803
            return {"SecretString": json.dumps(secret)}

    replicas = SqliteReplicas(
        Secrets(), {("db.example", "lab"): ReplicaFile(path, "reporting_reader", "right")}
    )
    replica = Replica("lab", "lab", "mysql", "db.example", 3306, "lab", "arn:secret")

    with pytest.raises(ReplicaLoginError, match="login failed for 'reporting_reader'"):
        replicas.open(replica)
    secret["password"] = "right"
    replicas.open(replica).close()
