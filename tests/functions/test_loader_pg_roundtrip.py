"""Hostile values through the PostgreSQL batch path and back, byte for byte.

The loader sends each column of a batch as one array literal (functions/loader/pg_arrays.py);
these tests load files through `load_stream` into a real PostgreSQL and read every value back,
comparing strings by their UTF-8 bytes as the server stores them (md5 computed server-side).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import time

import pytest
from hostile_values import HOSTILE_STRINGS

from functions.catalog import parse_platform
from functions.loader.database import connect, parse_target
from functions.loader.errors import RejectedFileError
from functions.loader.load import BATCH_ROWS, load_stream
from functions.loader.schema import create_schema
from functions.loader.source import SourceObject

pytestmark = [
    pytest.mark.services,
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
]

COLUMNS = [
    {"name": "id", "type": "integer", "nullable": False},
    {"name": "label", "type": "string"},
    {"name": "code", "type": "string", "max_length": 12},
    {"name": "amount", "type": "decimal", "precision": 38, "scale": 18},
    {"name": "flag", "type": "boolean"},
    {"name": "day", "type": "date"},
    {"name": "moment", "type": "timestamp"},
]
(CSV_DATASET, JSONL_DATASET) = parse_platform(
    {
        "platform": "hostile",
        "datasets": [
            {
                "name": "csv",
                "source": "test",
                "table": "hostile_csv",
                "keys": ["id"],
                "columns": COLUMNS,
            },
            {
                "name": "jsonl",
                "source": "test",
                "table": "hostile_jsonl",
                "format": "jsonl",
                "keys": ["id"],
                "columns": COLUMNS,
            },
        ],
    },
    source="test",
)

# code is varchar(12): PostgreSQL counts characters, so twelve emoji or CJK characters fit.
CODES = ["", "NULL", '"', "\\", "{}", ",", "王小明王小明王小明王小明", "🦊" * 12]
AMOUNTS = [
    ("12345678901234567890.123456789012345678", "12345678901234567890.123456789012345678"),
    ("-0.000000000000000001", "-0.000000000000000001"),
    ("+001.5", "1.500000000000000000"),
    (".5", "0.500000000000000000"),
    ("7.", "7.000000000000000000"),
    ("0", "0.000000000000000000"),
    ("-99999999999999999999.999999999999999999", "-99999999999999999999.999999999999999999"),
]
MOMENTS = [
    ("2026-11-26T10:00:00.123456", "2026-11-26 10:00:00.123456"),
    ("2026-11-26 10:00:00.000001", "2026-11-26 10:00:00.000001"),
    ("2026-11-26T10:00:00.5+05:30", "2026-11-26 04:30:00.5"),
    ("0001-01-01T00:00:00", "0001-01-01 00:00:00"),
    ("9999-12-31T23:59:59.999999", "9999-12-31 23:59:59.999999"),
    ("2026-11-26T10:00", "2026-11-26 10:00:00"),
]
DAYS = ["2026-11-26", "0001-01-01", "9999-12-31", "2024-02-29"]
FLAGS = [("t", True), ("false", False), ("1", True), ("F", False)]


@pytest.fixture
def hostile_database(database_url: str):
    database = connect(parse_target(database_url))
    create_schema(database.connection, database.dialect, [CSV_DATASET, JSONL_DATASET])
    yield database
    database.close()


def load(database, dataset, body: bytes, name: str):
    source = SourceObject("landing", f"incoming/hostile/{dataset.name}/{name}", "v1")
    return load_stream(database, dataset, io.BytesIO(body), source)


def expected_row(n: int) -> tuple:
    """The raw fields of row `n` and what PostgreSQL must hold for them, as text."""
    label = HOSTILE_STRINGS[n % len(HOSTILE_STRINGS)]
    code = CODES[n % len(CODES)]
    amount_raw, amount = AMOUNTS[n % len(AMOUNTS)]
    flag_raw, flag = FLAGS[n % len(FLAGS)]
    day = DAYS[n % len(DAYS)]
    moment_raw, moment = MOMENTS[n % len(MOMENTS)]
    raw = [str(n), label, code, amount_raw, flag_raw, day, moment_raw]
    stored = (n, _md5(label), len(label), code, amount, flag, day, moment)
    return raw, stored


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def csv_field(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


STORED_TEXT = (
    "SELECT id, md5(label), char_length(label), code, amount::text, flag, day::text,"
    " moment::text FROM {table} ORDER BY _source_line"
)


def test_hostile_csv_values_come_back_exactly(hostile_database, query) -> None:
    # GIVEN more rows than one loader batch, cycling through every hostile value
    rows = [expected_row(n) for n in range(BATCH_ROWS + 2600)]
    header = "id,label,code,amount,flag,day,moment\n"
    body = header + "".join(",".join(map(csv_field, raw)) + "\n" for raw, _ in rows)

    # WHEN the file is loaded
    result = load(hostile_database, CSV_DATASET, body.encode("utf-8"), "hostile.csv")

    # THEN every value reads back exactly: strings byte for byte, decimals to the last digit
    assert result.row_count == len(rows)
    assert query(STORED_TEXT.format(table="hostile_csv")) == [stored for _, stored in rows]


def test_hostile_strings_read_back_as_the_same_python_strings(hostile_database, query) -> None:
    body = "id,label,code,amount,flag,day,moment\n" + "".join(
        f"{n},{csv_field(label)},,,,,\n" for n, label in enumerate(HOSTILE_STRINGS)
    )

    load(hostile_database, CSV_DATASET, body.encode("utf-8"), "strings.csv")

    assert query("SELECT label FROM hostile_csv ORDER BY id") == [(s,) for s in HOSTILE_STRINGS]


def test_json_nulls_and_empty_strings_stay_apart(hostile_database, query) -> None:
    records = [
        {"id": 1, "label": None, "code": "", "amount": None, "flag": None},
        {"id": 2, "label": "", "code": None, "amount": 1.25, "flag": True},
        {"id": 3, "label": "NULL", "code": "NULL", "amount": "-0.5", "flag": False},
        {"id": 4, "label": "null", "code": "None", "day": None, "moment": None},
        {"id": 5, "label": '{"a": [1, "b"]}', "code": "\\N", "moment": 1_700_000_000},
    ]
    body = "".join(json.dumps(record) + "\n" for record in records)

    load(hostile_database, JSONL_DATASET, body.encode("utf-8"), "nulls.jsonl")

    assert query(
        "SELECT id, label, code, amount::text, flag, day, moment FROM hostile_jsonl ORDER BY id"
    ) == [
        (1, None, "", None, None, None, None),
        (2, "", None, "1.250000000000000000", True, None, None),
        (3, "NULL", "NULL", "-0.500000000000000000", False, None, None),
        (4, "null", "None", None, None, None, None),
        (5, '{"a": [1, "b"]}', "\\N", None, None, None, dt.datetime(2023, 11, 14, 22, 13, 20)),
    ]


def test_a_statement_failing_mid_file_leaves_nothing(hostile_database, query) -> None:
    # GIVEN a constraint only the server checks, broken by a row in the second loader batch
    cursor = hostile_database.connection.cursor()
    cursor.execute("ALTER TABLE hostile_csv ADD CONSTRAINT no_7000 CHECK (id <> 7000)")
    hostile_database.connection.commit()
    body = "id,label,code,amount,flag,day,moment\n" + "".join(
        f"{n},x,,,,,\n" for n in range(BATCH_ROWS * 2)
    )

    # WHEN the file is loaded, the error is the server's, after whole statements went through
    with pytest.raises(hostile_database.driver.Error, match="no_7000"):
        load(hostile_database, CSV_DATASET, body.encode("utf-8"), "broken.csv")

    # THEN the transaction left no row and no ledger claim
    assert query("SELECT COUNT(*) FROM hostile_csv") == [(0,)]
    assert query("SELECT COUNT(*) FROM load_ledger") == [(0,)]


SLOW_STATEMENTS = (
    "CREATE FUNCTION slow_statement() RETURNS trigger LANGUAGE plpgsql AS"
    " $$BEGIN PERFORM pg_sleep({seconds}); RETURN NULL; END$$",
    "CREATE TRIGGER slow BEFORE INSERT ON hostile_csv"
    " FOR EACH STATEMENT EXECUTE FUNCTION slow_statement()",
)


def slow_down_statements(database, seconds: float) -> None:
    """Makes every INSERT into hostile_csv take `seconds` on the server before its rows."""
    cursor = database.connection.cursor()
    for statement in SLOW_STATEMENTS:
        cursor.execute(statement.format(seconds=seconds))
    database.connection.commit()


def csv_body(ids) -> bytes:
    return (
        "id,label,code,amount,flag,day,moment\n" + "".join(f"{n},x,,,,,\n" for n in ids)
    ).encode()


def test_a_statement_failing_while_the_next_batch_is_parsed_leaves_nothing(
    hostile_database, query
) -> None:
    # GIVEN a server-side check broken in the first batch, whose statement the server keeps
    # busy while the loader parses the batches after it
    slow_down_statements(hostile_database, 0.3)
    cursor = hostile_database.connection.cursor()
    cursor.execute("ALTER TABLE hostile_csv ADD CONSTRAINT no_100 CHECK (id <> 100)")
    hostile_database.connection.commit()

    # WHEN the file is loaded, the server's error is raised as it is (the event is retried)
    with pytest.raises(hostile_database.driver.Error, match="no_100"):
        load(hostile_database, CSV_DATASET, csv_body(range(BATCH_ROWS * 4)), "broken.csv")

    # THEN the transaction left no row and no ledger claim, and the connection loads on
    assert query("SELECT COUNT(*) FROM hostile_csv") == [(0,)]
    assert query("SELECT COUNT(*) FROM load_ledger") == [(0,)]
    result = load(hostile_database, CSV_DATASET, csv_body(range(1, 99)), "good.csv")
    assert result.row_count == 98
    assert query("SELECT COUNT(*), MAX(id) FROM hostile_csv") == [(98, 98)]


def test_a_bad_value_met_while_a_statement_is_in_flight_leaves_nothing(
    hostile_database, query
) -> None:
    # GIVEN a file whose third batch holds a bad value, parsed while the server still works on
    # the first batch's statement
    slow_down_statements(hostile_database, 0.3)
    body = csv_body(range(BATCH_ROWS * 2 + 10)) + b"two,x,,,,,\n"

    # WHEN the file is loaded, it is rejected at the bad value's line, once the statement in
    # flight has finished (the rollback never meets a busy connection)
    started = time.perf_counter()
    with pytest.raises(RejectedFileError) as rejected:
        load(hostile_database, CSV_DATASET, body, "bad.csv")
    assert time.perf_counter() - started >= 0.3
    assert (rejected.value.line, rejected.value.column) == (BATCH_ROWS * 2 + 12, "id")

    # THEN the rows already sent were rolled back with the ledger claim
    assert query("SELECT COUNT(*) FROM hostile_csv") == [(0,)]
    assert query("SELECT COUNT(*) FROM load_ledger") == [(0,)]


def test_a_statement_failing_before_a_later_bad_value_is_the_error_reported(
    hostile_database, query
) -> None:
    # GIVEN a server-side error in the first batch and a bad value in the third, met while
    # the first batch's statement is still on the server
    slow_down_statements(hostile_database, 0.3)
    cursor = hostile_database.connection.cursor()
    cursor.execute("ALTER TABLE hostile_csv ADD CONSTRAINT no_100 CHECK (id <> 100)")
    hostile_database.connection.commit()
    body = csv_body(range(BATCH_ROWS * 2 + 10)) + b"two,x,,,,,\n"

    # WHEN the file is loaded, the error is the statement's, as when batches were written one
    # after the other: a database error (retried), not a rejection (quarantined)
    with pytest.raises(hostile_database.driver.Error, match="no_100") as raised:
        load(hostile_database, CSV_DATASET, body, "both.csv")
    assert isinstance(raised.value.__context__, RejectedFileError)

    # THEN nothing is left
    assert query("SELECT COUNT(*) FROM hostile_csv") == [(0,)]
    assert query("SELECT COUNT(*) FROM load_ledger") == [(0,)]
