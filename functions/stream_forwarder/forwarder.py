"""Turns DynamoDB stream records into change envelopes and puts them on Kinesis.

Each table's changes go to the stream its route names, partitioned by item, so the changes of
an item share a shard. Their order there is not promised: PutRecords does not keep the order of
a request's entries, and a resent entry lands after later ones. Hence each envelope carries its
stream sequence number: the loader dedupes an item's changes by it, and they can be ordered by
it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from functions.catalog import Catalog, UnknownDatasetError
from functions.stream_forwarder.settings import ForwarderSettings
from functions.streams.batches import size_bounded_batches
from functions.streams.envelope import (
    Projection,
    envelope_line,
    from_stream_record,
    stream_record_table,
)
from functions.streams.environment import SettingsError
from functions.streams.retries import FailedEntry, RetryPolicy, send_resending_failures

# PutRecords limits: 500 records and 5 MiB a request. Partition keys count.
MAX_PUT_RECORDS = 500
MAX_PUT_BYTES = 5 * 1024 * 1024
# Kinesis takes 1 MiB a record, but the envelope goes on to Firehose, which takes 1,000 KiB:
# a change too large for the writer is poison here, where it can be parked with its record.
MAX_RECORD_BYTES = 1000 * 1024


class UnroutedTableError(LookupError):
    """A stream record of a table STREAM_ROUTES does not name (poison record)."""


class OversizedChangeError(ValueError):
    """An envelope too large for one Kinesis record (poison record)."""


@dataclass(frozen=True)
class Route:
    """One table's Kinesis stream and the attributes its dataset declares."""

    stream: str
    projection: Projection


@dataclass(frozen=True)
class OutgoingChange:
    """One change, ready for PutRecords, with the stream record it came from."""

    sequence_number: str  # the DynamoDB stream record's, to report it if it cannot be put
    stream: str
    partition_key: str
    data: bytes

    @property
    def size(self) -> int:
        """What the change counts against Kinesis's record and request limits."""
        return len(self.data) + len(self.partition_key.encode())


@dataclass(frozen=True)
class StreamForwarder:
    """The Kinesis client and the routes of every table the function forwards."""

    kinesis: Any
    routes: Mapping[str, Route]
    retry_policy: RetryPolicy = field(default_factory=RetryPolicy)

    @classmethod
    def build(cls, kinesis: Any, settings: ForwarderSettings, catalog: Catalog) -> StreamForwarder:
        """Resolves each route's dataset in the catalog; a bad one fails the cold start."""
        routes = {}
        for table, route in settings.routes.items():
            try:
                dataset = catalog.find(route.dataset)
            except UnknownDatasetError as error:
                raise SettingsError(f"environment variable STREAM_ROUTES: {error}") from None
            if not dataset.is_change_stream:
                raise SettingsError(
                    f"environment variable STREAM_ROUTES: {route.dataset} is a"
                    f" {dataset.file_format} dataset, not dynamodb-stream"
                )
            routes[table] = Route(route.stream, Projection.of(dataset))
        return cls(kinesis=kinesis, routes=routes)

    def change_of(self, record: Mapping[str, Any]) -> OutgoingChange:
        """A stream record (the raw dict) as a Kinesis entry; a poison record raises."""
        table = stream_record_table(record)
        route = self.routes.get(table)
        if route is None:
            raise UnroutedTableError(f"table {table!r} is not in STREAM_ROUTES")
        envelope = from_stream_record(record, route.projection)
        change = OutgoingChange(
            sequence_number=envelope["sequenceNumber"],
            stream=route.stream,
            partition_key=partition_key(envelope),
            data=envelope_line(envelope),
        )
        if change.size > MAX_RECORD_BYTES:
            raise OversizedChangeError(
                f"the envelope takes {change.size} bytes, a Firehose record at most"
                f" {MAX_RECORD_BYTES}"
            )
        return change

    def forward(self, changes: Sequence[OutgoingChange]) -> list[FailedEntry[OutgoingChange]]:
        """Puts the changes on their streams; returns those still failing after the retries."""
        by_stream: dict[str, list[OutgoingChange]] = {}
        for change in changes:
            by_stream.setdefault(change.stream, []).append(change)
        failures: list[FailedEntry[OutgoingChange]] = []
        for stream, stream_changes in by_stream.items():
            put = partial(self._put, stream)
            for batch in size_bounded_batches(
                stream_changes, lambda change: change.size, MAX_PUT_RECORDS, MAX_PUT_BYTES
            ):
                failures += send_resending_failures(batch, put, self.retry_policy)
        return failures

    def _put(self, stream: str, changes: Sequence[OutgoingChange]) -> list[dict[str, Any]]:
        # An error of the whole call (after botocore's own retries) fails the invocation:
        # Lambda retries the batch, and the envelopes already put arrive twice (at least once).
        response = self.kinesis.put_records(
            StreamName=stream,
            Records=[
                {"Data": change.data, "PartitionKey": change.partition_key} for change in changes
            ],
        )
        return response["Records"]


def partition_key(envelope: Mapping[str, Any]) -> str:
    """The item's shard key: a hash of its table and keys, names sorted, numbers exact."""
    item = {"table": envelope["table"], "keys": dict(sorted(envelope["keys"].items()))}
    return hashlib.sha256(envelope_line(item)).hexdigest()
