"""The landing bucket's layout and the file formats, on in-memory data."""

from __future__ import annotations

import datetime as dt
import gzip
import io

import pytest

from functions.catalog import load_catalog
from functions.loader.errors import RejectedFileError
from functions.loader.formats import open_text, read_batches
from functions.loader.layout import error_report_key, parse_incoming, quarantine_key
from functions.loader.settings import DEFAULT_CATALOG_DIR

CATALOG = load_catalog(DEFAULT_CATALOG_DIR)


def test_incoming_keys_map_to_archive_and_quarantine() -> None:
    key = "incoming/languages/lesson_progress/2026/11/25/10/stream-1.gz"
    landing_key = parse_incoming(key)

    assert landing_key is not None
    assert landing_key.qualified_dataset == "languages/lesson_progress"
    assert landing_key.archive_key(dt.datetime(2026, 11, 26, 23, 59)) == (
        "archive/languages/lesson_progress/2026/11/26/2026/11/25/10/stream-1.gz"
    )
    assert quarantine_key(key) == "quarantine/languages/lesson_progress/2026/11/25/10/stream-1.gz"
    assert error_report_key(key).endswith("stream-1.gz.error.json")


@pytest.mark.parametrize(
    "key",
    ["archive/maths/pupils/a.csv", "incoming/maths/a.csv", "incoming/maths/pupils/", "incoming/"],
)
def test_other_keys_are_not_loadable(key: str) -> None:
    assert parse_incoming(key) is None


def batches(dataset: str, data: bytes, batch_rows: int = 2):
    text = open_text(io.BytesIO(data))
    return list(read_batches(text, CATALOG.find(dataset), "s3://b/k", batch_rows))


def test_csv_batches_are_columns_in_declared_order_with_start_lines() -> None:
    data = (
        b"last_name,ENROLLED_AT,pupil_id,x,school_id,first_name,year_group\r\n"
        b'L1,2026-01-01,1,"a\r\nb",10,F1,7\r\n'
        b"\r\n"
        b"L2,2026-01-02,2,x,20,F2,8\r\n"
        b"L3,2026-01-03,3,x,30,F3,9"
    )

    result = batches("maths/pupils", gzip.compress(data))

    # The blank line is no record; the quoted CRLF keeps row 1 on lines 2-3.
    assert [line for batch in result for line in batch.lines] == [2, 5, 6]
    columns = [[value for batch in result for value in batch.columns[index]] for index in range(6)]
    assert columns == [
        ["1", "2", "3"],
        ["10", "20", "30"],
        ["7", "8", "9"],
        ["F1", "F2", "F3"],
        ["L1", "L2", "L3"],
        ["2026-01-01", "2026-01-02", "2026-01-03"],
    ]


HEADER = b"pupil_id,school_id,year_group,first_name,last_name,enrolled_at\n"


@pytest.mark.parametrize(
    ("data", "line", "reason"),
    [
        (b"pupil_id\n1\n", 1, "missing declared column(s): school_id, year_group, first_name"),
        (HEADER + b'1,2,3,"4"x,5,6\n', 2, "malformed CSV: ',' expected after '\"'"),
        # Decoding runs a buffer ahead of parsing: the line is where to start looking.
        (HEADER + b"1,2,3,\xff,5,6\n", 1, "not valid UTF-8 (invalid start byte) at or after"),
        (b"\x1f\x8b\x08\x00garbage", 1, "corrupt gzip data"),
    ],
)
def test_malformed_csv_is_rejected_with_its_line(data: bytes, line: int, reason: str) -> None:
    with pytest.raises(RejectedFileError) as rejection:
        batches("maths/pupils", data)

    assert rejection.value.line == line
    assert rejection.value.reason.startswith(reason)


@pytest.mark.parametrize(
    ("envelope", "column", "reason"),
    [
        (
            '{"eventName":"UPSERT","keys":{"a":1},"sequenceNumber":"1"}',
            "eventName",
            "eventName must",
        ),
        ('{"eventName":"INSERT","keys":{},"sequenceNumber":"1"}', "keys", "keys must be"),
        (
            '{"eventName":"MODIFY","keys":{"a":1},"sequenceNumber":"1"}',
            "newImage",
            "MODIFY without",
        ),
        (
            '{"eventName":"REMOVE","keys":{"a":1},"sequenceNumber":"x1"}',
            "sequenceNumber",
            "sequence",
        ),
    ],
)
def test_malformed_stream_envelopes_are_rejected(envelope: str, column: str, reason: str) -> None:
    with pytest.raises(RejectedFileError) as rejection:
        batches("languages/lesson_progress", b"\n" + envelope.encode() + b"\n")

    assert (rejection.value.line, rejection.value.column) == (2, column)
    assert rejection.value.reason.startswith(reason)


def test_json_lines_must_be_objects_without_keys_that_differ_only_by_case() -> None:
    with pytest.raises(RejectedFileError, match="must be an object"):
        batches("reading/quiz_attempts", b"[1, 2]\n")
    with pytest.raises(RejectedFileError, match="keys differ only by case"):
        batches("reading/quiz_attempts", b'{"readerId": 1, "READERID": 2}\n')
