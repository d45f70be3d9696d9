"""The load library against SQLite and PostgreSQL: exact values, one transaction per file."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest

from functions.catalog import load_catalog, parse_platform
from functions.loader.database import connect, parse_target
from functions.loader.errors import RejectedFileError
from functions.loader.load import BATCH_ROWS, load_stream
from functions.loader.schema import create_schema
from functions.loader.settings import DEFAULT_CATALOG_DIR
from functions.loader.source import SourceObject

pytestmark = pytest.mark.services

CATALOG = load_catalog(DEFAULT_CATALOG_DIR)
ASSESSMENTS = CATALOG.find("maths/assessments")
HEADER = "assessment_id,pupil_id,topic,score,max_score,passed,completed_at\n"

# decimal(38,2), the widest the catalog allows, and an unbounded string, in both file formats.
WIDE_COLUMNS = [
    {"name": "id", "type": "integer", "nullable": False},
    {"name": "amount", "type": "decimal", "precision": 38, "scale": 2},
    {"name": "note", "type": "string"},
]
WIDE_CSV, WIDE_JSONL = parse_platform(
    {
        "platform": "wide",
        "datasets": [
            {
                "name": name,
                "source": "test",
                "table": f"wide_{name}",
                "format": name,
                "keys": ["id"],
                "columns": WIDE_COLUMNS,
            }
            for name in ("csv", "jsonl")
        ],
    },
    source="test",
)


@pytest.fixture
def loader_database(database_url: str):
    database = connect(parse_target(database_url))
    create_schema(database.connection, database.dialect, [ASSESSMENTS])
    yield database
    database.close()


def load(database, text: str, version: str = "v1"):
    source = SourceObject("landing", "incoming/maths/assessments/a.csv", version)
    return load_stream(database, ASSESSMENTS, io.BytesIO(text.encode()), source)


def test_values_of_every_type_are_stored_exactly(loader_database, query) -> None:
    load(
        loader_database,
        HEADER
        + "9223372036854775807,1,x,999.99,0.5,TRUE,2026-11-26T10:00:00.123456+05:30\n"
        + "-9223372036854775808,2,y,-0.01,+001.50,f,2026-11-26 10:00\n"
        + "3,3,z,,10,,\n",
    )

    rows = query(
        "SELECT assessment_id, score, max_score, passed, completed_at"
        " FROM maths_assessments ORDER BY _source_line"
    )
    assert [
        (row[0], _decimal(row[1]), _decimal(row[2]), _bool(row[3]), _ts(row[4])) for row in rows
    ] == [
        (
            2**63 - 1,
            Decimal("999.99"),
            Decimal("0.50"),
            True,
            dt.datetime(2026, 11, 26, 4, 30, 0, 123456),
        ),
        (-(2**63), Decimal("-0.01"), Decimal("1.50"), False, dt.datetime(2026, 11, 26, 10, 0)),
        (3, None, Decimal("10.00"), None, None),
    ]


def test_line_numbers_count_physical_lines(loader_database, query) -> None:
    load(loader_database, HEADER + '1,1,"two\nlines",1,1,t,\n\n2,1,x,1,1,t,\n')

    assert query("SELECT assessment_id, _source_line FROM maths_assessments ORDER BY 1") == [
        (1, 2),
        (2, 5),
    ]


def test_a_file_failing_after_its_first_batches_leaves_nothing(loader_database, query) -> None:
    # GIVEN a bad value after more rows than one batch, so earlier batches were already written
    good = "".join(f"{n},1,x,1,1,t,\n" for n in range(1, BATCH_ROWS * 2 + 2))
    with pytest.raises(RejectedFileError) as rejection:
        load(loader_database, HEADER + good + "0,1,x,1000.00,1,t,\n")

    # THEN the error names the line and column, and the transaction left no row and no claim
    assert (rejection.value.line, rejection.value.column) == (BATCH_ROWS * 2 + 3, "score")
    assert rejection.value.reason == "'1000.00' is not a decimal(5,2) number"
    assert query("SELECT COUNT(*) FROM maths_assessments") == [(0,)]
    assert query("SELECT COUNT(*) FROM load_ledger") == [(0,)]


@pytest.mark.parametrize(
    ("row", "column", "reason"),
    [
        ("9223372036854775808,1,x,1,1,t,", "assessment_id", "integer out of the 64-bit range"),
        ("1,1_000,x,1,1,t,", "pupil_id", "not an integer: '1_000'"),
        ("1,1," + "x" * 101 + ",1,1,t,", "topic", "101 characters, the column holds 100"),
        ("1,1,a\x00b,1,1,t,", "topic", "NUL character in a string"),
        ("1,1,x,1.234,1,t,", "score", "'1.234' is not a decimal(5,2) number"),
        ("1,1,x,1,1,yes,", "passed", "not a boolean (true/false/t/f/1/0): 'yes'"),
        ("1,1,x,1,1,t,20261126", "completed_at", "not an ISO 8601 timestamp: '20261126'"),
    ],
)
def test_values_that_do_not_fit_reject_the_file(loader_database, row, column, reason) -> None:
    with pytest.raises(RejectedFileError) as rejection:
        load(loader_database, HEADER + row + "\n")

    assert (rejection.value.line, rejection.value.column) == (2, column)
    assert rejection.value.reason.startswith(reason)


@pytest.fixture
def wide_database(database_url: str):
    database = connect(parse_target(database_url))
    create_schema(database.connection, database.dialect, [WIDE_CSV, WIDE_JSONL])
    yield database
    database.close()


def load_wide(database, dataset, text: str):
    source = SourceObject("landing", f"incoming/wide/{dataset.name}/w", "v1")
    return load_stream(database, dataset, io.BytesIO(text.encode()), source)


def test_decimals_of_38_digits_load_exactly_from_csv_and_json(wide_database, query) -> None:
    # GIVEN decimal(38,2) values with 36 integer digits, more than Python's default 28-digit
    # context holds, as CSV text, as JSON numbers and as a JSON integer
    largest = "9" * 36 + ".99"
    csv_text = f"id,amount,note\n1,{largest},\n2,-{largest},\n"
    jsonl_text = (
        f'{{"id": 1, "amount": {largest}}}\n'
        f'{{"id": 2, "amount": -{largest}}}\n'
        f'{{"id": 3, "amount": {"1" * 36}}}\n'
    )

    # WHEN both files load
    load_wide(wide_database, WIDE_CSV, csv_text)
    load_wide(wide_database, WIDE_JSONL, jsonl_text)

    # THEN every value is stored exactly
    expected = [Decimal(largest), Decimal("-" + largest)]
    assert [_decimal(row[0]) for row in query("SELECT amount FROM wide_csv ORDER BY id")] == (
        expected
    )
    assert [_decimal(row[0]) for row in query("SELECT amount FROM wide_jsonl ORDER BY id")] == [
        *expected,
        Decimal("1" * 36),
    ]


def test_a_csv_field_longer_than_the_csv_module_default_loads(wide_database, query) -> None:
    # GIVEN a 200,000-character field, over the csv module's default limit of 131,072
    note = "x" * 200_000

    # WHEN it loads into an unbounded string column
    load_wide(wide_database, WIDE_CSV, f'id,amount,note\n1,,"{note}"\n')

    # THEN it is stored whole
    assert query("SELECT note FROM wide_csv") == [(note,)]


@pytest.mark.parametrize(
    ("record", "column", "reason"),
    [
        # json.loads accepts an escaped lone surrogate, which no database can store.
        ('{"id": 2, "note": "a\\ud800b"}', "note", "not valid Unicode: a lone surrogate (U+D800)"),
        # Valid JSON that json.loads refuses with a plain ValueError (int_max_str_digits).
        ('{"id": 2, "amount": ' + "1" * 5000 + "}", None, "invalid JSON: Exceeds the limit"),
        # Valid JSON deeper than the parser's recursion limit (RecursionError, not ValueError).
        ('{"id": 2, "note": ' + "[" * 100_000 + "]" * 100_000 + "}", None, "invalid JSON: nested"),
    ],
    ids=["lone surrogate", "integer of 5000 digits", "nested 100000 deep"],
)
def test_json_values_python_cannot_take_reject_the_file(
    wide_database, query, record, column, reason
) -> None:
    # GIVEN a JSON Lines file whose second record holds such a value
    text = '{"id": 1, "note": "fine"}\n' + record + "\n"

    # WHEN it loads
    with pytest.raises(RejectedFileError) as rejection:
        load_wide(wide_database, WIDE_JSONL, text)

    # THEN the file is rejected naming the line (and the column), and nothing is stored
    assert (rejection.value.line, rejection.value.column) == (2, column)
    assert rejection.value.reason.startswith(reason)
    assert query("SELECT COUNT(*) FROM wide_jsonl") == [(0,)]


def test_the_same_version_loads_once_and_a_new_version_again(loader_database, query) -> None:
    text = HEADER + "1,1,x,1,1,t,\n"

    results = [load(loader_database, text, "v1"), load(loader_database, text, "v1")]
    results.append(load(loader_database, text, "v2"))

    assert [r.status for r in results] == ["loaded", "already_loaded", "loaded"]
    assert results[1].load_id == results[0].load_id
    assert query("SELECT COUNT(*) FROM maths_assessments") == [(2,)]


def _decimal(value):
    return None if value is None else Decimal(value)


def _bool(value):
    return None if value is None else bool(value)


def _ts(value):
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(value)
