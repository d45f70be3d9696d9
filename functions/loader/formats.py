"""Reads a landing file as a stream of records, one per data row, each with its line number.

A record's values are raw (CSV text or JSON scalars) and in the order of the dataset's staging
columns; `values.py` converts them. Nothing here holds more than one record at a time, so memory
does not grow with the size of the file.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import IO

from functions.catalog import Dataset
from functions.loader.errors import RejectedFileError

GZIP_MAGIC = b"\x1f\x8b"
# The csv module refuses fields over 131,072 characters by default, though unbounded string
# columns (nvarchar(max), text) take more. This bound keeps one field, and so one batch,
# within the function's memory; a longer field rejects the file.
CSV_FIELD_LIMIT = 16 * 1024 * 1024
STREAM_EVENT_NAMES = frozenset({"INSERT", "MODIFY", "REMOVE"})
# The widest DynamoDB stream sequence number; the staging column holds exactly this many.
SEQUENCE_DIGITS = 40


class RFC4180(csv.Dialect):
    """Comma separated, double-quoted, quotes doubled; CRLF or LF line ends are both accepted."""

    delimiter = ","
    quotechar = '"'
    doublequote = True
    skipinitialspace = False
    lineterminator = "\r\n"
    quoting = csv.QUOTE_MINIMAL
    # Refuse what RFC 4180 does not allow (text after a closing quote) instead of guessing.
    strict = True


@dataclass(frozen=True)
class RawBatch:
    """Consecutive records of a file, column by column (the loader converts a column at a time).

    `columns` holds one sequence of raw values per staging value column; `lines` the line each
    record starts on.
    """

    lines: list[int]
    columns: list[Sequence[object]]


def open_text(binary: IO[bytes]) -> io.TextIOWrapper:
    """UTF-8 text of a possibly gzip-compressed byte stream, without a leading BOM."""
    buffered = (
        binary if isinstance(binary, io.BufferedReader) else io.BufferedReader(binary)  # type: ignore[arg-type]
    )
    if buffered.peek(2)[:2] == GZIP_MAGIC:
        buffered = gzip.GzipFile(fileobj=buffered, mode="rb")  # type: ignore[assignment]
    # newline="" hands line ends to the parsers untouched: CSV keeps CRLF inside quoted fields.
    return io.TextIOWrapper(buffered, encoding="utf-8-sig", newline="")


def read_batches(
    text: IO[str], dataset: Dataset, source: str, batch_rows: int
) -> Iterator[RawBatch]:
    """The records of a file of `dataset` in batches; malformed input raises RejectedFileError."""
    if dataset.file_format == "csv":
        batches = _csv_batches(text, dataset, source, batch_rows)
    else:
        envelope = dataset.file_format == "dynamodb-stream"
        batches = _jsonl_batches(text, dataset, source, batch_rows, envelope)
    return _decoding_errors_rejected(batches, source)


def _decoding_errors_rejected(batches: Iterator[RawBatch], source: str) -> Iterator[RawBatch]:
    line = 0
    try:
        for batch in batches:
            line = batch.lines[-1]
            yield batch
    except UnicodeDecodeError as error:
        # Text is decoded a buffer ahead of the parser: the line is where the search starts.
        message = f"not valid UTF-8 ({error.reason}) at or after this line"
        raise RejectedFileError(source, message, line + 1) from None
    except (gzip.BadGzipFile, EOFError, zlib.error) as error:
        raise RejectedFileError(source, f"corrupt gzip data ({error})", line + 1) from None


def _csv_batches(
    text: IO[str], dataset: Dataset, source: str, batch_rows: int
) -> Iterator[RawBatch]:
    # The limit is the csv module's, process-wide: set where every CSV reader is made.
    csv.field_size_limit(CSV_FIELD_LIMIT)
    reader = csv.reader(text, RFC4180)
    try:
        header = next(reader, None)
        if header is None:
            raise RejectedFileError(source, "empty file: a CSV file needs a header line", 1)
        positions = _header_positions(header, dataset, source)
        width = len(header)
        previous_end = reader.line_num
        while True:
            # The per-row work stays in C where it can: the reader, the appends, and below the
            # width check and the transposition into columns.
            rows: list[list[str]] = []
            ends: list[int] = []
            for row in reader:
                rows.append(row)
                ends.append(reader.line_num)
                if len(rows) == batch_rows:
                    break
            if not rows:
                return
            starts = [previous_end + 1, *(end + 1 for end in ends[:-1])]
            previous_end = ends[-1]
            if min(map(len, rows)) != width or max(map(len, rows)) != width:
                rows, starts = _without_blank_lines(rows, starts, width, source)
                if not rows:
                    continue
            by_position = list(zip(*rows, strict=True))
            yield RawBatch(starts, [by_position[position] for position in positions])
    except csv.Error as error:
        raise RejectedFileError(source, f"malformed CSV: {error}", reader.line_num) from None


def _without_blank_lines(
    rows: list[list[str]], starts: list[int], width: int, source: str
) -> tuple[list[list[str]], list[int]]:
    """Drops blank lines (no record); any other row of the wrong width fails the file."""
    kept_rows, kept_starts = [], []
    for row, line in zip(rows, starts, strict=True):
        if len(row) == width:
            kept_rows.append(row)
            kept_starts.append(line)
        elif row:
            raise RejectedFileError(source, f"{len(row)} fields where the header has {width}", line)
    return kept_rows, kept_starts


def _header_positions(header: list[str], dataset: Dataset, source: str) -> list[int]:
    """Where each declared column is in the header: case-insensitive, in any order."""
    wanted = {column.source_field.casefold(): column for column in dataset.columns}
    found: dict[str, int] = {}
    for position, name in enumerate(header):
        column = wanted.get(name.strip().casefold())
        if column is None:
            continue
        if column.name in found:
            raise RejectedFileError(
                source, f"more than one header matches column {column.name}", 1, column.name
            )
        found[column.name] = position
    missing = [column.source_field for column in dataset.columns if column.name not in found]
    if missing:
        raise RejectedFileError(source, f"missing declared column(s): {', '.join(missing)}", 1)
    return [found[column.name] for column in dataset.columns]


def _jsonl_batches(
    text: IO[str], dataset: Dataset, source: str, batch_rows: int, envelope: bool
) -> Iterator[RawBatch]:
    fields = [column.source_field.casefold() for column in dataset.columns]
    records: list[list[object]] = []
    lines: list[int] = []
    for line, text_line in enumerate(text, start=1):
        if not text_line.strip():
            continue
        try:
            document = json.loads(text_line, parse_float=Decimal)
        except json.JSONDecodeError as error:
            raise RejectedFileError(source, f"invalid JSON: {error.msg}", line) from None
        except ValueError as error:
            # Valid JSON Python refuses to convert: an integer over sys.get_int_max_str_digits().
            raise RejectedFileError(source, f"invalid JSON: {error}", line) from None
        except RecursionError:
            # Valid JSON nested deeper than the parser's recursion limit: no staging row is.
            raise RejectedFileError(source, "invalid JSON: nested too deeply", line) from None
        if not isinstance(document, dict):
            raise RejectedFileError(source, "a JSON Lines record must be an object", line)
        if envelope:
            document, stream_values = _unwrap_envelope(document, source, line)
        values = _object_values(document, fields, source, line)
        if envelope:
            values.extend(stream_values)
        records.append(values)
        lines.append(line)
        if len(records) == batch_rows:
            yield RawBatch(lines, list(zip(*records, strict=True)))
            records, lines = [], []
    if records:
        yield RawBatch(lines, list(zip(*records, strict=True)))


def _object_values(
    document: dict[str, object], fields: list[str], source: str, line: int
) -> list[object]:
    """Values of the declared fields, matched case-insensitively; an absent key is null."""
    by_folded_key: dict[str, object] = {}
    for key, value in document.items():
        folded = key.casefold()
        if folded in by_folded_key:
            raise RejectedFileError(
                source, f"keys differ only by case: {key!r}", line, None, "keys differ only by case"
            )
        by_folded_key[folded] = value
    return [by_folded_key.get(field) for field in fields]


def _unwrap_envelope(
    envelope: dict[str, object], source: str, line: int
) -> tuple[dict[str, object], list[object]]:
    """The item the envelope describes (keys over new image) and its stream values."""
    event_name = envelope.get("eventName")
    if event_name not in STREAM_EVENT_NAMES:
        raise RejectedFileError(
            source, "eventName must be INSERT, MODIFY or REMOVE", line, "eventName"
        )
    keys = envelope.get("keys")
    if not isinstance(keys, dict) or not keys:
        raise RejectedFileError(source, "keys must be a non-empty object", line, "keys")
    new_image = envelope.get("newImage") or {}
    if not isinstance(new_image, dict):
        raise RejectedFileError(source, "newImage must be an object", line, "newImage")
    if event_name != "REMOVE" and not new_image:
        raise RejectedFileError(source, f"{event_name} without a newImage", line, "newImage")
    sequence_number = envelope.get("sequenceNumber")
    if not isinstance(sequence_number, str) or not (
        sequence_number.isascii() and sequence_number.isdecimal()
    ):
        raise RejectedFileError(
            source, "sequenceNumber must be a string of digits", line, "sequenceNumber"
        )
    if len(sequence_number) > SEQUENCE_DIGITS:
        raise RejectedFileError(
            source, f"sequenceNumber has more than {SEQUENCE_DIGITS} digits", line, "sequenceNumber"
        )
    item = {**new_image, **keys}
    # Zero-padded to a fixed width, so the text order of the column is the numeric order
    # (DynamoDB's sequence numbers run from 21 to 40 digits).
    stream_values = [
        event_name,
        sequence_number.zfill(SEQUENCE_DIGITS),
        envelope.get("approximateCreationTime"),
    ]
    return item, stream_values
