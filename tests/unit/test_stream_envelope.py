"""Change envelopes: every DynamoDB type, the projection, poison records, and the loader
reading `envelope_line` output back into exactly the rows the changes describe."""

from __future__ import annotations

import copy
import io
import json
import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from functions.catalog import load_catalog, parse_platform
from functions.loader.database import connect, parse_target
from functions.loader.load import load_stream
from functions.loader.schema import create_schema
from functions.loader.settings import DEFAULT_CATALOG_DIR
from functions.loader.source import SourceObject
from functions.streams.envelope import (
    EnvelopeError,
    Projection,
    envelope_line,
    from_kinesis_destination_record,
    from_stream_record,
    stream_record_table,
)

TEST_DATA = Path(__file__).resolve().parents[1] / "data"
SAMPLE_EVENT = json.loads((TEST_DATA / "aws-events" / "dynamodb-stream.json").read_text())
LESSON_PROGRESS = load_catalog(DEFAULT_CATALOG_DIR).find("languages/lesson_progress")
PROGRESS = Projection.of(LESSON_PROGRESS)
STREAM_ARN = (
    "arn:aws:dynamodb:eu-west-2:123456789012:table/LessonProgress/stream/2025-11-25T10:00:00.000"
)
SEQUENCE = "4421584500000000017450439091"
# 2025-11-25T10:00:00Z
CREATED = 1764064800
KEYS = {"learnerId": {"N": "42"}, "lessonId": {"S": "fr-01"}}
IMAGE = {**KEYS, "xp": {"N": "120"}, "streakDays": {"N": "7"}}


def stream_record(
    event_name: str = "MODIFY",
    new_image: dict[str, Any] | None = IMAGE,
    sequence: str = SEQUENCE,
    created: object = CREATED,
) -> dict[str, Any]:
    """A DynamoDB Streams record of the LessonProgress table, as Lambda delivers it."""
    change: dict[str, Any] = {
        "ApproximateCreationDateTime": created,
        "Keys": copy.deepcopy(KEYS),
        "SequenceNumber": sequence,
        "SizeBytes": 59,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if new_image is not None:
        change["NewImage"] = copy.deepcopy(new_image)
    return {
        "eventID": "c4ca4238a0b923820dcc509a6f75849b",
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "eu-west-2",
        "dynamodb": change,
        "eventSourceARN": STREAM_ARN,
    }


def destination_record(
    event_name: str = "MODIFY", created: object = CREATED * 1000, precision: str | None = None
) -> dict[str, Any]:
    """A record of DynamoDB's Kinesis Data Streams destination, as Firehose delivers it."""
    change: dict[str, Any] = {
        "ApproximateCreationDateTime": created,
        "Keys": copy.deepcopy(KEYS),
        "NewImage": copy.deepcopy(IMAGE),
        "OldImage": copy.deepcopy(IMAGE),
        "SizeBytes": 123,
    }
    if precision is not None:
        change["ApproximateCreationDateTimePrecision"] = precision
    return {
        "awsRegion": "eu-west-2",
        "eventID": "5a88419c-468a-4ac4-8bad-7f832caf7345",
        "eventName": event_name,
        "userIdentity": None,
        "recordFormat": "application/json",
        "tableName": "LessonProgress",
        "dynamodb": change,
        "eventSource": "aws:dynamodb",
    }


ENVELOPE = {
    "table": "LessonProgress",
    "eventName": "MODIFY",
    "keys": {"learnerId": Decimal("42"), "lessonId": "fr-01"},
    "newImage": {
        "learnerId": Decimal("42"),
        "lessonId": "fr-01",
        "xp": Decimal("120"),
        "streakDays": Decimal("7"),
    },
    "approximateCreationTime": "2025-11-25T10:00:00.000000Z",
    "sequenceNumber": SEQUENCE,
}


@pytest.mark.parametrize(
    ("attribute", "value", "json_text"),
    [
        ({"S": 'Zoë "q"\n'}, 'Zoë "q"\n', '"Zoë \\"q\\"\\n"'),
        ({"S": ""}, "", '""'),
        ({"N": "120"}, Decimal("120"), "120"),
        (
            {"N": "12345678901234567890.123456789012345678"},
            Decimal("12345678901234567890.123456789012345678"),
            "12345678901234567890.123456789012345678",
        ),
        ({"N": "-0.000001"}, Decimal("-0.000001"), "-0.000001"),
        (
            {"N": "9.9999999999999999999999999999999999999E+125"},
            Decimal("9.9999999999999999999999999999999999999E+125"),
            "9.9999999999999999999999999999999999999E+125",
        ),
        ({"N": "1E-130"}, Decimal("1E-130"), "1E-130"),
        ({"B": "AAEC/w=="}, "AAEC/w==", '"AAEC/w=="'),
        ({"BOOL": True}, True, "true"),
        ({"BOOL": False}, False, "false"),
        ({"NULL": True}, None, "null"),
        (
            {"M": {"level": {"N": "3"}, "tags": {"L": [{"S": "a"}, {"NULL": True}]}}},
            {"level": Decimal("3"), "tags": ["a", None]},
            '{"level":3,"tags":["a",null]}',
        ),
        (
            {"L": [{"N": "1.50"}, {"BOOL": False}, {"M": {}}, {"L": []}, {"SS": ["b", "a"]}]},
            [Decimal("1.50"), False, {}, [], ["a", "b"]],
            '[1.50,false,{},[],["a","b"]]',
        ),
        ({"SS": ["b", "a", "B", "é"]}, ["B", "a", "b", "é"], '["B","a","b","é"]'),
        (
            {"NS": ["10", "9.5", "-1", "1E+2", "-0.000001"]},
            [Decimal("-1"), Decimal("-0.000001"), Decimal("9.5"), Decimal("10"), Decimal("1E+2")],
            "[-1,-0.000001,9.5,10,1E+2]",
        ),
        # Sorted by their bytes (00, 00 01, ff), not by their base64 text.
        ({"BS": ["/w==", "AAE=", "AA=="]}, ["AA==", "AAE=", "/w=="], '["AA==","AAE=","/w=="]'),
    ],
    ids=lambda value: next(iter(value)) if isinstance(value, dict) else None,
)
def test_every_attribute_type_becomes_an_exact_json_value(
    attribute: dict[str, Any], value: object, json_text: str
) -> None:
    # GIVEN an item whose declared attribute `xp` holds a value of the type
    record = stream_record(new_image={**KEYS, "xp": attribute})

    # WHEN it becomes an envelope and a line
    envelope = from_stream_record(record, PROGRESS)
    line = envelope_line(envelope)

    # THEN the value is the deserialised one, and the line writes it exactly
    assert envelope["newImage"] == {"learnerId": Decimal("42"), "lessonId": "fr-01", "xp": value}
    assert (
        line
        == (
            '{"table":"LessonProgress","eventName":"MODIFY","keys":{"learnerId":42,"lessonId":"fr-01"},'
            f'"newImage":{{"learnerId":42,"lessonId":"fr-01","xp":{json_text}}},'
            f'"approximateCreationTime":"2025-11-25T10:00:00.000000Z","sequenceNumber":"{SEQUENCE}"}}\n'
        ).encode()
    )


def test_numbers_read_back_with_every_digit() -> None:
    # GIVEN numbers no float holds
    numbers = ["12345678901234567890.123456789012345678", "-0.000001", "0.10", "1E+125"]
    record = stream_record(new_image={**KEYS, "xp": {"NS": numbers}})

    # WHEN the line is read back as the loader reads it
    document = json.loads(envelope_line(from_stream_record(record, PROGRESS)), parse_float=Decimal)

    # THEN each number has its own text, trailing zeros and all
    assert [str(number) for number in document["newImage"]["xp"]] == [
        "-0.000001",
        "0.10",
        "12345678901234567890.123456789012345678",
        "1E+125",
    ]


def test_a_stream_record_becomes_an_envelope() -> None:
    assert from_stream_record(stream_record(), PROGRESS) == ENVELOPE
    assert stream_record_table(stream_record()) == "LessonProgress"


def test_the_projection_is_the_datasets_source_fields_casefolded() -> None:
    assert Projection.of(LESSON_PROGRESS) == Projection(
        frozenset({"learnerid", "lessonid", "xp", "streakdays", "completedat"})
    )


def test_undeclared_attributes_are_dropped_nested_ones_included() -> None:
    # GIVEN undeclared attributes beside the declared ones: a map (holding a declared name), a
    # list, and one whose value is malformed; and a declared map
    image = {
        **KEYS,
        "xp": {"N": "120"},
        "profile": {"M": {"xp": {"N": "1"}, "nested": {"M": {"deep": {"S": "x"}}}}},
        "history": {"L": [{"M": {"lessonId": {"S": "fr-00"}}}]},
        "broken": {"N": "not a number"},
        "completedAt": {"M": {"day": {"S": "2025-11-25"}, "extra": {"N": "1"}}},
    }

    # WHEN it becomes an envelope
    envelope = from_stream_record(stream_record(new_image=image), PROGRESS)

    # THEN only the declared attributes are kept, a declared map whole, and the undeclared
    # malformed one is never read
    assert envelope["newImage"] == {
        "learnerId": Decimal("42"),
        "lessonId": "fr-01",
        "xp": Decimal("120"),
        "completedAt": {"day": "2025-11-25", "extra": Decimal("1")},
    }


def test_keys_are_kept_whole_even_when_undeclared() -> None:
    record = stream_record()
    record["dynamodb"]["Keys"]["shard"] = {"S": "a"}

    assert from_stream_record(record, PROGRESS)["keys"] == {
        "learnerId": Decimal("42"),
        "lessonId": "fr-01",
        "shard": "a",
    }


def test_the_projection_matches_names_ignoring_case_and_keeps_them_as_written() -> None:
    image = {**KEYS, "XP": {"N": "5"}, "streakdays": {"N": "2"}, "Notes": {"S": "dropped"}}

    assert from_stream_record(stream_record(new_image=image), PROGRESS)["newImage"] == {
        "learnerId": Decimal("42"),
        "lessonId": "fr-01",
        "XP": Decimal("5"),
        "streakdays": Decimal("2"),
    }


def test_a_remove_has_its_keys_and_a_null_new_image() -> None:
    # GIVEN a REMOVE of a NEW_AND_OLD_IMAGES stream: the old image only
    record = stream_record("REMOVE", new_image=None)
    record["dynamodb"]["OldImage"] = copy.deepcopy(IMAGE)

    envelope = from_stream_record(record, PROGRESS)

    assert envelope == {**ENVELOPE, "eventName": "REMOVE", "newImage": None}
    assert b'"newImage":null' in envelope_line(envelope)


@pytest.mark.parametrize(
    ("seconds", "timestamp"),
    [
        (CREATED, "2025-11-25T10:00:00.000000Z"),
        (1764064800.0, "2025-11-25T10:00:00.000000Z"),
        (1764064800.123456, "2025-11-25T10:00:00.123456Z"),
        (0, "1970-01-01T00:00:00.000000Z"),
    ],
)
def test_the_creation_time_is_utc_iso_8601_to_the_microsecond(
    seconds: float, timestamp: str
) -> None:
    record = stream_record(created=seconds)

    assert from_stream_record(record, PROGRESS)["approximateCreationTime"] == timestamp


def test_the_sample_event_records_pass_through() -> None:
    # GIVEN the powertools sample, its placeholder ARNs replaced by a table's stream ARN and its
    # MODIFY (which has none) given a creation time, as AWS always sends one
    records = copy.deepcopy(SAMPLE_EVENT["Records"])
    arn = "arn:aws:dynamodb:us-west-2:123456789012:table/Messages/stream/2023-09-06T10:00:00.000"
    for record in records:
        record["eventSourceARN"] = arn
    records[1]["dynamodb"]["ApproximateCreationDateTime"] = 1693997156.5
    projection = Projection(frozenset({"id", "message"}))

    # WHEN each becomes an envelope
    envelopes = [from_stream_record(record, projection) for record in records]

    # THEN
    assert envelopes == [
        {
            "table": "Messages",
            "eventName": "INSERT",
            "keys": {"Id": Decimal("101")},
            "newImage": {"Message": "New item!", "Id": Decimal("101")},
            "approximateCreationTime": "2023-09-06T10:45:55.000000Z",
            "sequenceNumber": "111",
        },
        {
            "table": "Messages",
            "eventName": "MODIFY",
            "keys": {"Id": Decimal("101")},
            "newImage": {"Message": "This item has changed", "Id": Decimal("101")},
            "approximateCreationTime": "2023-09-06T10:45:56.500000Z",
            "sequenceNumber": "222",
        },
    ]


def test_the_unchanged_sample_records_are_poison() -> None:
    projection = Projection(frozenset({"id", "message"}))
    insert, modify = SAMPLE_EVENT["Records"]

    with pytest.raises(EnvelopeError) as placeholder:
        from_stream_record(insert, projection)
    without_time = {**modify, "eventSourceARN": STREAM_ARN}
    with pytest.raises(EnvelopeError) as no_time:
        from_stream_record(without_time, projection)

    assert str(placeholder.value) == "eventSourceARN 'eventsource_arn' is not a DynamoDB stream ARN"
    assert str(no_time.value) == "ApproximateCreationDateTime None is not an epoch time"


def _set(path: tuple[str, ...], value: object):
    def change(record: dict[str, Any]) -> None:
        target = record
        for name in path[:-1]:
            target = target[name]
        if value is DELETE:
            del target[path[-1]]
        else:
            target[path[-1]] = value

    return change


DELETE = object()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_set(("eventName",), "UPSERT"), "eventName 'UPSERT' is not INSERT, MODIFY or REMOVE"),
        (_set(("eventName",), DELETE), "eventName None is not INSERT, MODIFY or REMOVE"),
        (_set(("dynamodb",), DELETE), "the record has no dynamodb object"),
        (_set(("dynamodb", "Keys"), DELETE), "Keys is missing or empty"),
        (_set(("dynamodb", "Keys"), {}), "Keys is missing or empty"),
        (
            _set(("dynamodb", "NewImage"), DELETE),
            "MODIFY without a NewImage: the table's stream must include new images",
        ),
        (
            _set(("dynamodb", "NewImage"), {"Notes": {"S": "x"}}),
            "the NewImage has none of the dataset's declared attributes",
        ),
        (
            _set(("dynamodb", "NewImage", "XP"), {"N": "1"}),
            "attribute names differ only by case: 'XP'",
        ),
        (
            # The loader would read both as learner_id, and reject the whole file.
            _set(("dynamodb", "NewImage", "LearnerId"), {"N": "1"}),
            "attribute names differ only by case: 'LearnerId'",
        ),
        (
            _set(("dynamodb", "Keys", "LEARNERID"), {"N": "1"}),
            "attribute names differ only by case: 'LEARNERID'",
        ),
        (
            _set(("dynamodb", "ApproximateCreationDateTime"), "2025-11-25T10:00:00Z"),
            "ApproximateCreationDateTime '2025-11-25T10:00:00Z' is not an epoch time",
        ),
        (
            _set(("dynamodb", "ApproximateCreationDateTime"), -1),
            "ApproximateCreationDateTime -1 is not an epoch time",
        ),
        (
            _set(("dynamodb", "ApproximateCreationDateTime"), float("nan")),
            "ApproximateCreationDateTime nan is not an epoch time",
        ),
        (
            _set(("dynamodb", "ApproximateCreationDateTime"), True),
            "ApproximateCreationDateTime True is not an epoch time",
        ),
        (
            _set(("dynamodb", "ApproximateCreationDateTime"), 1e20),
            "creation time 100000000000000000000000000 microseconds after 1970 is too late",
        ),
        (
            _set(("dynamodb", "SequenceNumber"), "12a"),
            "SequenceNumber '12a' is not a stream sequence number",
        ),
        (
            _set(("dynamodb", "SequenceNumber"), "1" * 41),
            f"SequenceNumber '{'1' * 41}' is not a stream sequence number",
        ),
        (
            _set(("dynamodb", "SequenceNumber"), DELETE),
            "SequenceNumber None is not a stream sequence number",
        ),
        (
            _set(("eventSourceARN",), "arn:aws:kinesis:eu-west-2:123456789012:stream/s"),
            "eventSourceARN 'arn:aws:kinesis:eu-west-2:123456789012:stream/s'"
            " is not a DynamoDB stream ARN",
        ),
        (
            _set(("dynamodb", "NewImage", "xp"), {"N": "12.5.1"}),
            "attribute 'xp': '12.5.1' is not a DynamoDB number",
        ),
        (
            _set(("dynamodb", "NewImage", "xp"), {"N": "NaN"}),
            "attribute 'xp': 'NaN' is not a DynamoDB number",
        ),
        (
            # 39 significant digits: more than DynamoDB stores.
            _set(("dynamodb", "NewImage", "xp"), {"N": "1." + "0" * 37 + "1"}),
            f"attribute 'xp': '1.{'0' * 37}1' is not a DynamoDB number",
        ),
        (
            _set(("dynamodb", "NewImage", "xp"), {"N": 120}),
            "attribute 'xp': N must be a string of digits, not 120",
        ),
        (
            _set(("dynamodb", "NewImage", "xp"), {"B": "not base64!"}),
            "attribute 'xp': B must be base64 text, not 'not base64!'",
        ),
        (
            _set(("dynamodb", "NewImage", "xp"), {"BOOL": "true"}),
            "attribute 'xp': BOOL must be true or false, not 'true'",
        ),
        (
            _set(("dynamodb", "NewImage", "xp"), {"NULL": False}),
            "attribute 'xp': NULL must be true, not False",
        ),
        (
            _set(("dynamodb", "NewImage", "xp"), {"SS": []}),
            "attribute 'xp': a set must be a non-empty list, not []",
        ),
        (
            _set(("dynamodb", "NewImage", "xp"), {"Q": "1"}),
            "attribute 'xp': Dynamodb type Q is not supported",
        ),
        (
            _set(("dynamodb", "NewImage", "xp"), {"S": "a", "N": "1"}),
            "attribute 'xp': not a DynamoDB attribute value (one type, one value):"
            " {'S': 'a', 'N': '1'}",
        ),
        (
            _set(("dynamodb", "NewImage", "xp"), {"M": {"inner": {"L": [{}]}}}),
            "attribute 'xp': not a DynamoDB attribute value (one type, one value): {}",
        ),
        (
            _set(("dynamodb", "Keys", "learnerId"), "42"),
            "attribute 'learnerId': not a DynamoDB attribute value (one type, one value): '42'",
        ),
    ],
)
def test_a_poison_stream_record_raises_saying_why(change, message: str) -> None:
    record = stream_record()
    change(record)

    with pytest.raises(EnvelopeError) as poison:
        from_stream_record(record, PROGRESS)

    assert str(poison.value) == message


def test_an_insert_of_a_keys_only_stream_is_poison() -> None:
    with pytest.raises(EnvelopeError) as poison:
        from_stream_record(stream_record("INSERT", new_image=None), PROGRESS)

    assert str(poison.value) == (
        "INSERT without a NewImage: the table's stream must include new images"
    )


@pytest.mark.parametrize(
    ("created", "precision", "timestamp", "sequence"),
    [
        (1764064800123456, "MICROSECOND", "2025-11-25T10:00:00.123456Z", "1764064800123456"),
        (1764064800123, "MILLISECOND", "2025-11-25T10:00:00.123000Z", "1764064800123000"),
        # Records from before the precision setting existed count milliseconds.
        (1764064800123, None, "2025-11-25T10:00:00.123000Z", "1764064800123000"),
    ],
)
def test_a_kinesis_destination_record_becomes_an_envelope(
    created: int, precision: str | None, timestamp: str, sequence: str
) -> None:
    record = destination_record(created=created, precision=precision)

    assert from_kinesis_destination_record(record, PROGRESS) == {
        **ENVELOPE,
        "approximateCreationTime": timestamp,
        "sequenceNumber": sequence,
    }


def test_a_kinesis_destination_remove_has_a_null_new_image() -> None:
    record = destination_record("REMOVE", precision="MILLISECOND")
    del record["dynamodb"]["NewImage"]

    envelope = from_kinesis_destination_record(record, PROGRESS)

    assert (envelope["eventName"], envelope["newImage"]) == ("REMOVE", None)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_set(("tableName",), DELETE), "tableName None is not a table name"),
        (_set(("tableName",), ""), "tableName '' is not a table name"),
        (_set(("eventName",), "aws:kinesis:record"), "eventName 'aws:kinesis:record' is not"),
        (
            _set(("dynamodb", "ApproximateCreationDateTimePrecision"), "NANOSECOND"),
            "ApproximateCreationDateTimePrecision 'NANOSECOND' is unknown",
        ),
        (
            _set(("dynamodb", "ApproximateCreationDateTime"), 1764064800.5),
            "ApproximateCreationDateTime 1764064800.5 is not an epoch time",
        ),
        (
            _set(("dynamodb", "ApproximateCreationDateTime"), DELETE),
            "ApproximateCreationDateTime None is not an epoch time",
        ),
        (
            _set(("dynamodb", "NewImage"), DELETE),
            "MODIFY without a NewImage: the table's stream must include new images",
        ),
    ],
)
def test_a_poison_kinesis_destination_record_raises_saying_why(change, message: str) -> None:
    record = destination_record()
    change(record)

    with pytest.raises(EnvelopeError) as poison:
        from_kinesis_destination_record(record, PROGRESS)

    assert str(poison.value).startswith(message)


def test_a_line_is_utf_8_with_control_characters_escaped() -> None:
    envelope = {**ENVELOPE, "newImage": {"note": "é\t\u2028\x00"}}

    assert (
        envelope_line(envelope)
        == (
            '{"table":"LessonProgress","eventName":"MODIFY","keys":{"learnerId":42,"lessonId":"fr-01"},'
            '"newImage":{"note":"é\\t\u2028\\u0000"},'
            f'"approximateCreationTime":"2025-11-25T10:00:00.000000Z","sequenceNumber":"{SEQUENCE}"}}\n'
        ).encode()
    )


def test_a_line_refuses_what_json_cannot_hold_exactly() -> None:
    with pytest.raises(EnvelopeError) as surrogate:
        envelope_line({**ENVELOPE, "newImage": {"note": "\ud800"}})
    with pytest.raises(TypeError) as float_value:
        envelope_line({**ENVELOPE, "newImage": {"xp": 1.5}})

    assert str(surrogate.value) == "a string is not valid Unicode (it holds a lone surrogate)"
    assert str(float_value.value) == "float is not an envelope value (numbers: Decimal or int)"


def _load(dataset, lines: bytes, tmp_path: Path) -> list[tuple[Any, ...]]:
    """Loads `lines` with the landing loader into SQLite; returns the staged rows."""
    path = tmp_path / "staging.db"
    database = connect(parse_target(f"sqlite:///{path}"))
    try:
        create_schema(database.connection, database.dialect, [dataset])
        source = SourceObject("landing", f"incoming/{dataset.qualified_name}/changes.jsonl", "v1")
        load_stream(database, dataset, io.BytesIO(lines), source)
    finally:
        database.close()
    columns = [column.name for column in dataset.columns]
    columns += ["_event_name", "_sequence_number", "_approximate_creation_time", "_source_line"]
    with sqlite3.connect(path) as staging:
        return staging.execute(
            f"SELECT {', '.join(columns)} FROM {dataset.table} ORDER BY _source_line"
        ).fetchall()


def test_the_loader_stages_the_lines_as_the_changes_describe(tmp_path: Path) -> None:
    # GIVEN lines of both sources: a stream INSERT (attribute names in another case than the
    # catalog's), a destination MODIFY at microsecond precision and a stream REMOVE
    insert = stream_record(
        "INSERT",
        new_image={
            **KEYS,
            "XP": {"N": "10"},
            "COMPLETEDAT": {"S": "2025-11-25T09:59:59.5+01:00"},
            "profile": {"M": {"xp": {"N": "99"}}},
        },
        sequence="100000000000000000001",
    )
    modify = destination_record(created=1764064800654321, precision="MICROSECOND")
    modify["dynamodb"]["NewImage"]["xp"] = {"N": "120"}
    remove = stream_record("REMOVE", new_image=None, sequence="100000000000000000003")
    lines = (
        envelope_line(from_stream_record(insert, PROGRESS))
        + envelope_line(from_kinesis_destination_record(modify, PROGRESS))
        + envelope_line(from_stream_record(remove, PROGRESS))
    )

    # WHEN the loader loads them
    rows = _load(LESSON_PROGRESS, lines, tmp_path)

    # THEN each change is one row: keys over the new image, plus the change's metadata
    assert rows == [
        (
            42,
            "fr-01",
            10,
            None,
            "2025-11-25 08:59:59.500000",
            "INSERT",
            "100000000000000000001".zfill(40),
            "2025-11-25 10:00:00.000000",
            1,
        ),
        (
            42,
            "fr-01",
            120,
            7,
            None,
            "MODIFY",
            "1764064800654321".zfill(40),
            "2025-11-25 10:00:00.654321",
            2,
        ),
        (
            42,
            "fr-01",
            None,
            None,
            None,
            "REMOVE",
            "100000000000000000003".zfill(40),
            "2025-11-25 10:00:00.000000",
            3,
        ),
    ]


def test_the_loader_stages_every_scalar_type_exactly(tmp_path: Path) -> None:
    # GIVEN a change-stream dataset with a decimal(38,18), a boolean, a string and a binary
    # (base64 text) column, and values at their limits
    (dataset,) = parse_platform(
        {
            "platform": "wide",
            "datasets": [
                {
                    "name": "changes",
                    "source": "test",
                    "table": "wide_changes",
                    "format": "dynamodb-stream",
                    "keys": ["id"],
                    "columns": [
                        {"name": "id", "type": "integer", "nullable": False, "field": "Id"},
                        {"name": "amount", "type": "decimal", "precision": 38, "scale": 18},
                        {"name": "flag", "type": "boolean"},
                        {"name": "note", "type": "string"},
                        {"name": "blob", "type": "string"},
                    ],
                }
            ],
        },
        source="test",
    )
    projection = Projection.of(dataset)

    def change(item_id: str, sequence: str, **values: dict[str, Any]) -> bytes:
        record = stream_record("INSERT", new_image={"Id": {"N": item_id}, **values})
        record["dynamodb"]["Keys"] = {"Id": {"N": item_id}}
        record["dynamodb"]["SequenceNumber"] = sequence
        return envelope_line(from_stream_record(record, projection))

    lines = change(
        "9223372036854775807",
        "100000000000000000001",
        amount={"N": "12345678901234567890.123456789012345678"},
        flag={"BOOL": True},
        note={"S": 'Zoë\n"quoted"'},
        blob={"B": "AAEC/w=="},
    ) + change(
        "-9223372036854775808",
        "100000000000000000002",
        amount={"N": "-0.000001"},
        flag={"BOOL": False},
        note={"NULL": True},
    )

    # WHEN the loader loads them
    rows = _load(dataset, lines, tmp_path)

    # THEN every value is the one DynamoDB held (SQLite keeps decimals as canonical text)
    assert [row[:5] for row in rows] == [
        (2**63 - 1, "12345678901234567890.123456789012345678", 1, 'Zoë\n"quoted"', "AAEC/w=="),
        (-(2**63), "-0.000001000000000000", 0, None, None),
    ]
