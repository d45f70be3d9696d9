"""Each dataset's extract state: the watermark its parts reach, a small JSON object in the
landing bucket under `extract-state/` (the loader is notified for `incoming/` only).

It is written last, after every part of a run: a run that fails before leaves the old
watermark, and the next run reads the same rows again into the same part names.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from functions.catalog import Column, Dataset

STATE_PREFIX = "extract-state/"


class StateError(ValueError):
    """A stored state that cannot be read as one (the message names its key)."""


@dataclass(frozen=True)
class ExtractState:
    """What a run stores: the watermark of the last row written, and what it wrote."""

    # The watermark of the last row of the last part: an int, or a naive UTC datetime.
    watermark: int | datetime
    window: str
    parts: int
    rows: int
    # False when the run stopped early (its time ran out) with rows left to read.
    complete: bool

    def as_json(self) -> dict[str, Any]:
        """The state as stored."""
        watermark = self.watermark
        return {
            "watermark": watermark.isoformat() if isinstance(watermark, datetime) else watermark,
            "window": self.window,
            "parts": self.parts,
            "rows": self.rows,
            "complete": self.complete,
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
            return ExtractState(
                watermark=_watermark(dataset, stored["watermark"]),
                window=stored["window"],
                parts=stored["parts"],
                rows=stored["rows"],
                complete=stored["complete"],
            )
        except (ValueError, KeyError, TypeError) as error:
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


def storable_watermark(column: Column, value: object) -> int | datetime:
    """A watermark read from the source as stored: an int, or a naive UTC datetime."""
    if column.type == "integer" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if column.type == "timestamp" and isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    raise StateError(
        f"the source gives a {type(value).__name__} for {column.type} watermark {column.name}"
    )


def _watermark(dataset: Dataset, stored: object) -> int | datetime:
    column_type = next(c.type for c in dataset.columns if c.name == dataset.watermark)
    if column_type == "integer" and type(stored) is int:
        return stored
    if column_type == "timestamp" and isinstance(stored, str):
        value = datetime.fromisoformat(stored)
        if value.tzinfo is None:
            return value
    raise ValueError(f"watermark {stored!r} is not a naive {column_type}")
