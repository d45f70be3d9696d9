"""Each dataset's extract state: where its parts reach and what the last run wrote, a small
JSON object in the landing bucket under `extract-state/` (the loader is notified for `incoming/`
only).

It is written last, after every part of a run: a run that fails before leaves the old state,
and the next run reads the same rows again into the same part names.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from functions.catalog import Column, Dataset
from functions.extractor.sql import cursor_columns

STATE_PREFIX = "extract-state/"


class StateError(ValueError):
    """A stored state that cannot be read as one (the message names its key)."""


@dataclass(frozen=True)
class ExtractState:
    """What a run stores: where its last row is, and the parts it wrote."""

    # The watermark of the last row of the last part: an int, or a naive UTC datetime.
    watermark: int | datetime
    # The keys (but the watermark) of that row when the run stopped early, its time out: the
    # next run resumes strictly after (watermark, keys). None when the run read to the end.
    resume_keys: tuple[object, ...] | None
    window: str
    parts: int
    rows: int
    # The sha256 (hex) of each part's bytes, by key: the next run does not write them again.
    part_digests: Mapping[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """The state as stored."""
        keys = self.resume_keys
        return {
            "watermark": _json_value(self.watermark),
            "resume_keys": None if keys is None else [_json_value(key) for key in keys],
            "window": self.window,
            "parts": self.parts,
            "rows": self.rows,
            "part_digests": dict(self.part_digests),
        }


@dataclass(frozen=True)
class StateStore:
    """The states of every dataset, in one bucket."""

    s3: Any
    bucket: str

    def read(self, dataset: Dataset) -> ExtractState | None:
        """The dataset's state, or None before its first extract."""
        key = state_key(dataset)
        try:
            body = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise
        try:
            stored = json.loads(body)
            watermark_column, *key_columns = cursor_columns(dataset)
            # Absent from states written before runs could resume: those start with the overlap.
            keys = stored.get("resume_keys")
            return ExtractState(
                watermark=_parsed_value(watermark_column, stored["watermark"]),
                resume_keys=None
                if keys is None
                else tuple(
                    _parsed_value(column, value)
                    for column, value in zip(key_columns, keys, strict=True)
                ),
                window=stored["window"],
                parts=stored["parts"],
                rows=stored["rows"],
                part_digests=dict(stored.get("part_digests", {})),
            )
        except (ValueError, ArithmeticError, KeyError, TypeError) as error:
            raise StateError(f"s3://{self.bucket}/{key}: not an extract state ({error})") from None

    def write(self, dataset: Dataset, state: ExtractState) -> None:
        """Stores the dataset's state."""
        self.s3.put_object(
            Bucket=self.bucket,
            Key=state_key(dataset),
            Body=json.dumps(state.as_json(), sort_keys=True).encode("utf-8"),
            ContentType="application/json",
        )


def state_key(dataset: Dataset) -> str:
    """`extract-state/<platform>/<dataset>.json`."""
    return f"{STATE_PREFIX}{dataset.platform}/{dataset.name}.json"


def storable_value(column: Column, value: object) -> object:
    """A cursor value read from the source as stored: timestamps naive UTC, decimals exact."""
    if column.type == "timestamp" and isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    if column.type == "decimal" and isinstance(value, float | int) and not isinstance(value, bool):
        # A double read into a decimal column, as parts write it: its shortest exact repr.
        return Decimal(repr(value))
    if _is_type(column, value):
        return value
    raise StateError(f"the source gives a {type(value).__name__} for {column.type} {column.name}")


def _is_type(column: Column, value: object) -> bool:
    expected = {
        "integer": int,
        "string": str,
        "boolean": bool,
        "decimal": Decimal,
        "date": date,
    }.get(column.type)
    if expected is int and isinstance(value, bool):
        return False
    # A datetime is a date too, and not a date column's value.
    if expected is date and isinstance(value, datetime):
        return False
    return expected is not None and isinstance(value, expected)


def _json_value(value: object) -> object:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _parsed_value(column: Column, stored: object) -> object:
    if column.type in ("timestamp", "date", "decimal") and isinstance(stored, str):
        if column.type == "decimal":
            return Decimal(stored)
        if column.type == "date":
            return date.fromisoformat(stored)
        value = datetime.fromisoformat(stored)
        if value.tzinfo is None:
            return value
    elif _is_type(column, stored):
        return stored
    raise ValueError(f"{column.name} {stored!r} is not a stored {column.type}")
