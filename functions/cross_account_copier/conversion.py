"""DynamoDB's Kinesis-destination records, as Firehose delivers them, turned into the change
envelopes the landing loader reads: a line at a time, gzip in and gzip out."""

from __future__ import annotations

import gzip
import json
import zlib
from typing import IO

from functions.cross_account_copier.routing import StagingFileError
from functions.streams.envelope import (
    EnvelopeError,
    Projection,
    envelope_line,
    from_kinesis_destination_record,
)


def convert_records(
    records: IO[bytes], envelopes: IO[bytes], projection: Projection, source: str
) -> int:
    """Writes to `envelopes` (gzip) one envelope per record of `records` (gzip, one JSON
    document a line); returns how many. A bad line raises StagingFileError naming `source` and
    the line: the caller writes nothing of a file that fails."""
    converted = line_number = 0
    # mtime=0: the same records always make the same bytes.
    with (
        gzip.GzipFile(fileobj=records, mode="rb") as lines,
        gzip.GzipFile(filename="", fileobj=envelopes, mode="wb", mtime=0) as output,
    ):
        try:
            for line_number, line in enumerate(lines, start=1):
                # Blank lines are skipped, as the loader skips them in JSON Lines.
                if line.strip():
                    output.write(_envelope_line(line, projection, source, line_number))
                    converted += 1
        except (gzip.BadGzipFile, EOFError, zlib.error) as error:
            raise StagingFileError(
                f"{source}, line {line_number + 1}: corrupt gzip data ({error})"
            ) from None
    return converted


def _envelope_line(line: bytes, projection: Projection, source: str, line_number: int) -> bytes:
    try:
        record = json.loads(line)
    except (ValueError, RecursionError) as error:
        # ValueError covers JSON syntax, invalid UTF-8 and integers Python refuses to read.
        raise StagingFileError(f"{source}, line {line_number}: not valid JSON ({error})") from None
    if not isinstance(record, dict):
        raise StagingFileError(f"{source}, line {line_number}: not a JSON object")
    try:
        return envelope_line(from_kinesis_destination_record(record, projection))
    except EnvelopeError as error:
        raise StagingFileError(f"{source}, line {line_number}: {error}") from None
