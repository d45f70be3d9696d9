"""Change envelopes: one change of a DynamoDB item, as the landing loader reads it.

An envelope is `{"table", "eventName", "keys", "newImage", "approximateCreationTime",
"sequenceNumber"}` (datasets/README.md, format `dynamodb-stream`); `envelope_line` writes it as
one line of JSON Lines. Values keep their exact DynamoDB meaning: numbers are written as their
decimal text, never through float.

Two sources make envelopes:
- `from_stream_record`: a DynamoDB Streams record of a Lambda event. Its `SequenceNumber` orders
  the changes of an item, and the loader dedupes on keys and sequence number.
- `from_kinesis_destination_record`: a record DynamoDB's Kinesis Data Streams destination
  writes. It carries no stream sequence number, so the envelope's `sequenceNumber` is the
  change's creation time in microseconds. Limitation: two changes of one item in the same
  microsecond (the same millisecond at MILLISECOND precision) share a sequence number, and
  Kinesis may deliver a record twice or out of order, so the loader cannot tell such changes
  apart or order them.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from functions.catalog import Dataset
    from functions.streams.attribute_values import JsonAttributeDeserializer

EVENT_NAMES = frozenset({"INSERT", "MODIFY", "REMOVE"})
# The loader's `_sequence_number` column is varchar(40): DynamoDB's longest sequence number.
MAX_SEQUENCE_DIGITS = 40
STREAM_ARN = re.compile(r"arn:aws[a-z-]*:dynamodb:[^:]*:[^:]*:table/([^/]+)/stream/.+")
# What Kinesis destination records count ApproximateCreationDateTime in, by precision;
# MILLISECOND was the only one before the setting existed, so an absent precision means it.
MICROSECONDS_PER_UNIT = {None: 1000, "MILLISECOND": 1000, "MICROSECOND": 1}
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class EnvelopeError(ValueError):
    """A change cannot become an envelope (poison record); message says why."""


@dataclass(frozen=True)
class Projection:
    """The item attributes a dataset declares; the others are left out of `newImage`."""

    fields: frozenset[str]  # casefolded, as the loader matches them

    @classmethod
    def of(cls, dataset: Dataset) -> Projection:
        """The attributes feeding the dataset's columns."""
        return cls(frozenset(column.source_field.casefold() for column in dataset.columns))


def stream_record_table(record: Mapping[str, Any]) -> str:
    """The table a DynamoDB Streams Lambda event record comes from, by its eventSourceARN."""
    arn = record.get("eventSourceARN")
    match = STREAM_ARN.fullmatch(arn) if isinstance(arn, str) else None
    if match is None:
        raise EnvelopeError(f"eventSourceARN {arn!r} is not a DynamoDB stream ARN")
    return match[1]


def from_stream_record(record: Mapping[str, Any], projection: Projection) -> dict[str, Any]:
    """A DynamoDB Streams Lambda event record (the raw dict) -> envelope."""
    table = stream_record_table(record)
    change = _change(record)
    sequence_number = change.get("SequenceNumber")
    if not (
        isinstance(sequence_number, str)
        and sequence_number.isascii()
        and sequence_number.isdecimal()
        and len(sequence_number) <= MAX_SEQUENCE_DIGITS
    ):
        raise EnvelopeError(f"SequenceNumber {sequence_number!r} is not a stream sequence number")
    microseconds = _stream_microseconds(change.get("ApproximateCreationDateTime"))
    return _envelope(
        table,
        record,
        change,
        projection,
        microseconds=microseconds,
        sequence_number=sequence_number,
    )


def from_kinesis_destination_record(
    record: Mapping[str, Any], projection: Projection
) -> dict[str, Any]:
    """A record of DynamoDB's Kinesis Data Streams destination (the JSON document) -> envelope."""
    table = record.get("tableName")
    if not isinstance(table, str) or not table:
        raise EnvelopeError(f"tableName {table!r} is not a table name")
    change = _change(record)
    precision = change.get("ApproximateCreationDateTimePrecision")
    if precision not in MICROSECONDS_PER_UNIT:
        raise EnvelopeError(f"ApproximateCreationDateTimePrecision {precision!r} is unknown")
    created = change.get("ApproximateCreationDateTime")
    if not isinstance(created, int) or isinstance(created, bool) or created < 0:
        raise EnvelopeError(f"ApproximateCreationDateTime {created!r} is not an epoch time")
    microseconds = created * MICROSECONDS_PER_UNIT[precision]
    return _envelope(
        table,
        record,
        change,
        projection,
        microseconds=microseconds,
        sequence_number=str(microseconds),
    )


def envelope_line(envelope: Mapping[str, Any]) -> bytes:
    """Exact JSON (numbers as their exact decimal text, never float), UTF-8, ending with b"\\n"."""
    try:
        return (_json_text(envelope) + "\n").encode("utf-8")
    except UnicodeEncodeError:
        raise EnvelopeError("a string is not valid Unicode (it holds a lone surrogate)") from None


def _change(record: Mapping[str, Any]) -> Mapping[str, Any]:
    event_name = record.get("eventName")
    if event_name not in EVENT_NAMES:
        raise EnvelopeError(f"eventName {event_name!r} is not INSERT, MODIFY or REMOVE")
    change = record.get("dynamodb")
    if not isinstance(change, Mapping):
        raise EnvelopeError("the record has no dynamodb object")
    return change


def _envelope(
    table: str,
    record: Mapping[str, Any],
    change: Mapping[str, Any],
    projection: Projection,
    *,
    microseconds: int,
    sequence_number: str,
) -> dict[str, Any]:
    event_name = record["eventName"]
    keys = change.get("Keys")
    if not isinstance(keys, Mapping) or not keys:
        raise EnvelopeError("Keys is missing or empty")
    new_image = None
    if event_name != "REMOVE":
        image = change.get("NewImage")
        if not isinstance(image, Mapping) or not image:
            raise EnvelopeError(
                f"{event_name} without a NewImage: the table's stream must include new images"
            )
        new_image = _projected(image, projection)
        if not new_image:
            # The loader rejects a whole file for an empty new image; only this change is bad.
            raise EnvelopeError("the NewImage has none of the dataset's declared attributes")
    _check_names_differ_by_more_than_case(*keys, *(new_image or ()))
    return {
        "table": table,
        "eventName": event_name,
        "keys": {name: _value(name, value) for name, value in keys.items()},
        "newImage": new_image,
        "approximateCreationTime": _timestamp(microseconds),
        "sequenceNumber": sequence_number,
    }


def _projected(image: Mapping[str, Any], projection: Projection) -> dict[str, Any]:
    return {
        name: _value(name, value)
        for name, value in image.items()
        if name.casefold() in projection.fields
    }


def _check_names_differ_by_more_than_case(*names: str) -> None:
    # The loader reads the row as keys over new image, matching names ignoring case, and
    # rejects a whole file where two collide: only this change is at fault.
    seen: dict[str, str] = {}
    for name in names:
        if seen.setdefault(name.casefold(), name) != name:
            raise EnvelopeError(f"attribute names differ only by case: {name!r}")


def _value(name: str, value: Any) -> Any:
    try:
        return _deserializer().deserialize(value)
    except ValueError as error:
        raise EnvelopeError(f"attribute {name!r}: {error}") from None


@cache
def _deserializer() -> JsonAttributeDeserializer:
    # Imported on the first record, not with the handler: boto3 takes about 130 ms to import.
    from functions.streams.attribute_values import (  # noqa: PLC0415
        JsonAttributeDeserializer,
    )

    return JsonAttributeDeserializer()


def _stream_microseconds(seconds: Any) -> int:
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise EnvelopeError(f"ApproximateCreationDateTime {seconds!r} is not an epoch time")
    try:
        # repr() is the shortest text that reads back as the same float: no binary noise.
        exact = Decimal(repr(seconds)) * 1_000_000
        microseconds = int(exact.to_integral_value())
    except (InvalidOperation, OverflowError, ValueError):
        raise EnvelopeError(
            f"ApproximateCreationDateTime {seconds!r} is not an epoch time"
        ) from None
    if microseconds < 0:
        raise EnvelopeError(f"ApproximateCreationDateTime {seconds!r} is not an epoch time")
    return microseconds


def _timestamp(microseconds: int) -> str:
    try:
        moment = EPOCH + dt.timedelta(microseconds=microseconds)
    except OverflowError:
        raise EnvelopeError(
            f"creation time {microseconds} microseconds after 1970 is too late"
        ) from None
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _json_text(value: Any) -> str:
    """JSON of a deserialised value; Decimals as their own text, so no digit is lost."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} has no JSON form")
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Mapping):
        if not all(isinstance(key, str) for key in value):
            raise TypeError("an envelope object's names must be strings")
        members = (f"{_json_text(key)}:{_json_text(item)}" for key, item in value.items())
        return "{" + ",".join(members) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(map(_json_text, value)) + "]"
    raise TypeError(f"{type(value).__name__} is not an envelope value (numbers: Decimal or int)")
