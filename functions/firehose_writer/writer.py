"""Writes Kinesis records to Firehose, one line each, all of them or an error.

Firehose concatenates records into the objects it delivers, so each record must end its own
line. The writer checks every record before sending any: a record it can never write fails the
invocation before the others are sent, so a retry does not duplicate them. Records Firehose
still refuses after the retries fail it after the others went through: the batch's retry sends
those again (at least once; the loader dedupes changes on keys and sequence number).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord

from functions.streams.batches import size_bounded_batches
from functions.streams.retries import FailedEntry, RetryPolicy, send_resending_failures

# PutRecordBatch limits: 500 records and 4 MiB a request; 1,000 KiB a record.
MAX_BATCH_RECORDS = 500
MAX_BATCH_BYTES = 4 * 1024 * 1024
MAX_RECORD_BYTES = 1000 * 1024
KINESIS_STREAM_ARN = re.compile(r"arn:aws[a-z-]*:kinesis:[^:]*:[^:]*:stream/(.+)")


class OversizedRecordError(ValueError):
    """A Kinesis record too large for Firehose (poison record); names its sequence number."""

    def __init__(self, sequence_number: str, size: int) -> None:
        super().__init__(
            f"record {sequence_number} takes {size} bytes as a line, a Firehose record at most"
            f" {MAX_RECORD_BYTES}"
        )
        self.sequence_number = sequence_number


class UnroutedStreamError(LookupError):
    """A record of a Kinesis stream DELIVERY_ROUTES does not name."""


class UndeliveredRecordsError(RuntimeError):
    """Firehose still refused some records after the retries; the batch must be retried."""


@dataclass(frozen=True)
class Line:
    """One Kinesis record's data as a line for one Firehose stream."""

    sequence_number: str
    delivery_stream: str
    data: bytes


@dataclass(frozen=True)
class FirehoseWriter:
    """The Firehose client and the delivery stream of every Kinesis stream."""

    firehose: Any
    delivery_routes: Mapping[str, str]
    retry_policy: RetryPolicy = field(default_factory=RetryPolicy)

    def write(self, records: Iterable[KinesisStreamRecord]) -> int:
        """Writes every record, or raises; returns how many were written."""
        lines = [self._line(record) for record in records]
        by_delivery_stream: dict[str, list[Line]] = {}
        for line in lines:
            by_delivery_stream.setdefault(line.delivery_stream, []).append(line)
        failures: list[FailedEntry[Line]] = []
        for delivery_stream, stream_lines in by_delivery_stream.items():
            put = partial(self._put, delivery_stream)
            for batch in size_bounded_batches(
                stream_lines, lambda line: len(line.data), MAX_BATCH_RECORDS, MAX_BATCH_BYTES
            ):
                failures += send_resending_failures(batch, put, self.retry_policy)
        if failures:
            codes = sorted({failure.error_code for failure in failures})
            raise UndeliveredRecordsError(
                f"{len(failures)} of {len(lines)} records not accepted by Firehose"
                f" ({', '.join(codes)}); first: {failures[0].entry.sequence_number}"
            )
        return len(lines)

    def _line(self, record: KinesisStreamRecord) -> Line:
        match = KINESIS_STREAM_ARN.fullmatch(record.event_source_arn or "")
        delivery_stream = self.delivery_routes.get(match[1]) if match else None
        if delivery_stream is None:
            raise UnroutedStreamError(
                f"eventSourceARN {record.event_source_arn!r} is not a stream in DELIVERY_ROUTES"
            )
        data = record.kinesis.data_as_bytes()
        if not data.endswith(b"\n"):
            data += b"\n"
        if len(data) > MAX_RECORD_BYTES:
            raise OversizedRecordError(record.kinesis.sequence_number, len(data))
        return Line(record.kinesis.sequence_number, delivery_stream, data)

    def _put(self, delivery_stream: str, lines: Sequence[Line]) -> list[dict[str, Any]]:
        # An error of the whole call (after botocore's own retries) fails the invocation too.
        response = self.firehose.put_record_batch(
            DeliveryStreamName=delivery_stream, Records=[{"Data": line.data} for line in lines]
        )
        return response["RequestResponses"]
