"""The landing files of an extract: gzip CSV parts the loader reads as the catalog declares.

A part's bytes depend only on its rows: gzip is written without a name or time, so a run that
reads the same rows again writes the same objects.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal

from functions.catalog import Dataset
from functions.extractor.privacy import ValueHasher

# zlib's default: level 9 takes about twice as long for a few percent less.
COMPRESS_LEVEL = 6


class UnsupportedValueError(TypeError):
    """A source value of a type no catalog type takes (the message names the type only)."""


def csv_text(value: object) -> str:
    """A source value as the loader's CSV reader takes it (datasets/README.md, "Types").

    NULL is the empty field. Timestamps are naive UTC: an aware value is converted.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    # bool before int: True is an int, and "True" is not a boolean the loader takes.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        # Never the exponent form ("1E+2"), which the loader refuses.
        return format(value, "f")
    if isinstance(value, float):
        # A double read into a decimal column: its shortest exact repr, without an exponent.
        return format(Decimal(repr(value)), "f")
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    raise UnsupportedValueError(f"a source value of type {type(value).__name__}")


class PartWriter:
    """Builds one part in memory: the header, then rows, rendered and hashed as declared."""

    def __init__(self, dataset: Dataset, hasher: ValueHasher | None) -> None:
        hashed = [i for i, column in enumerate(dataset.columns) if column.privacy == "hash"]
        if hashed and hasher is None:
            raise ValueError(f"{dataset.qualified_name} hashes columns: a hasher is needed")
        self._hashed = [(index, hasher.hash_text) for index in hashed] if hasher else []
        self._buffer = io.BytesIO()
        self._gzip = gzip.GzipFile(
            filename="", mode="wb", fileobj=self._buffer, compresslevel=COMPRESS_LEVEL, mtime=0
        )
        self._text = io.TextIOWrapper(self._gzip, encoding="utf-8", newline="")
        self._csv = csv.writer(self._text, lineterminator="\r\n")
        self._csv.writerow([column.source_field for column in dataset.columns])
        self.rows = 0

    def write(self, rows: Sequence[Sequence[object]]) -> None:
        """Adds rows of source values, in the dataset's column order."""
        for row in rows:
            texts = [csv_text(value) for value in row]
            for index, hash_text in self._hashed:
                # NULL stays NULL: it has no value to hide, and hashing "" would invent one.
                if row[index] is not None:
                    texts[index] = hash_text(texts[index])
            self._csv.writerow(texts)
        self.rows += len(rows)

    def finish(self) -> bytes:
        """The part's gzip bytes; the writer is done with."""
        self._text.close()
        return self._buffer.getvalue()
