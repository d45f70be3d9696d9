"""The Lambda triggers the emulators do not run, played the way AWS runs them (shared by the
end-to-end tests and `make demo`).

Records are read from the emulator with the same APIs Lambda's pollers use (DynamoDB Streams
and Kinesis GetRecords) and handed to a handler as the event Lambda would build; `ShardPoller`
keeps each shard's position between polls, as a poller does. New S3 objects become the
notification S3 would send (`s3_event`). `StreamMapping`
plays an event source mapping's failure handling, as the Lambda developer guide describes it
("Configuring partial batch response", for DynamoDB and Kinesis):

- the batch succeeds when `batchItemFailures` is empty;
- otherwise the lowest reported sequence number is the checkpoint: the records before it are
  done, and the batch from the checkpoint on is retried (split there, not halved);
- a handler that raises fails the whole batch, which, with bisection on, is retried in halves;
- a batch whose retries are exhausted is skipped, and a record describing it (sequence range,
  never the data) goes to the on-failure destination.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote_plus

Handler = Callable[[dict[str, Any]], dict[str, Any] | None]
# The handler raised: the whole batch failed (retried from its first record, bisected).
_FUNCTION_ERROR = -1


def read_table_stream(streams: Any, stream_arn: str) -> list[dict[str, Any]]:
    """Every record of a DynamoDB stream, from the trim horizon, shard by shard."""
    records = []
    description = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]
    for shard in description["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        records.extend(streams.get_records(ShardIterator=iterator)["Records"])
    return records


def _lambda_attribute(value: dict[str, Any]) -> dict[str, Any]:
    """An attribute value as Lambda events carry it: boto3 decodes binary, events hold base64."""
    ((kind, inner),) = value.items()
    if kind == "B":
        return {"B": base64.b64encode(inner).decode()}
    if kind == "BS":
        return {"BS": [base64.b64encode(member).decode() for member in inner]}
    if kind == "M":
        return {"M": {name: _lambda_attribute(member) for name, member in inner.items()}}
    if kind == "L":
        return {"L": [_lambda_attribute(member) for member in inner]}
    return value


def table_stream_event(stream_arn: str, records: list[dict[str, Any]]) -> dict[str, Any]:
    """GetRecords output of a DynamoDB stream as the event source mapping hands it over."""
    event_records = []
    for record in records:
        change = dict(record["dynamodb"])
        change["ApproximateCreationDateTime"] = change["ApproximateCreationDateTime"].timestamp()
        for image in ("Keys", "NewImage", "OldImage"):
            if image in change:
                change[image] = {n: _lambda_attribute(v) for n, v in change[image].items()}
        event_records.append({**record, "dynamodb": change, "eventSourceARN": stream_arn})
    return {"Records": event_records}


def read_kinesis(kinesis: Any, stream_name: str) -> list[tuple[str, dict[str, Any]]]:
    """Every record of a Kinesis stream with its shard id, from the trim horizon."""
    records = []
    for shard in kinesis.list_shards(StreamName=stream_name)["Shards"]:
        iterator = kinesis.get_shard_iterator(
            StreamName=stream_name, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        for record in kinesis.get_records(ShardIterator=iterator)["Records"]:
            records.append((shard["ShardId"], record))
    return records


def kinesis_event(
    stream_arn: str, records: list[tuple[str, dict[str, Any]]], role_arn: str
) -> dict[str, Any]:
    """Kinesis records (with their shard ids) as the event source mapping hands them over."""
    region = stream_arn.split(":")[3]
    return {
        "Records": [
            {
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": record["PartitionKey"],
                    "sequenceNumber": record["SequenceNumber"],
                    "data": base64.b64encode(record["Data"]).decode(),
                    "approximateArrivalTimestamp": record[
                        "ApproximateArrivalTimestamp"
                    ].timestamp(),
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": f"{shard_id}:{record['SequenceNumber']}",
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": role_arn,
                "awsRegion": region,
                "eventSourceARN": stream_arn,
            }
            for shard_id, record in records
        ]
    }


@dataclass
class StreamMapping:
    """One event source mapping over a batch of stream records (see the module docstring).

    `event_of` builds the handler's event from a slice of the records; `sequence_of` reads a
    record's sequence number; `on_failure` receives the record AWS sends the destination.
    """

    handler: Handler
    event_of: Callable[[list[Any]], dict[str, Any]]
    sequence_of: Callable[[Any], str]
    source_arn: str
    maximum_retry_attempts: int
    on_failure: Callable[[dict[str, Any]], None]
    invocations: list[list[str]] = field(default_factory=list)

    def deliver(self, records: list[Any]) -> None:
        """Runs the records to completion: each processed, or skipped into the destination."""
        pending = [records]
        # Retries so far of the batch starting at a record, by that record's sequence number.
        retries: dict[str, int] = {}
        while pending:
            batch = pending.pop(0)
            checkpoint = self._invoke(batch)
            if checkpoint is None:
                continue
            remaining = batch[max(checkpoint, 0) :]
            first = self.sequence_of(remaining[0])
            if retries.get(first, 0) >= self.maximum_retry_attempts:
                self.on_failure(self._failure_record(remaining, retries.get(first, 0) + 1))
                continue
            retries[first] = retries.get(first, 0) + 1
            if checkpoint == _FUNCTION_ERROR and len(remaining) > 1:
                half = len(remaining) // 2
                pending[:0] = [remaining[:half], remaining[half:]]
            else:
                pending.insert(0, remaining)

    def _invoke(self, batch: list[Any]) -> int | None:
        """The index of the checkpoint in `batch` (`_FUNCTION_ERROR` when the handler raised),
        or None when the batch succeeded."""
        self.invocations.append([self.sequence_of(record) for record in batch])
        try:
            response = self.handler(self.event_of(batch)) or {}
        except Exception:
            return _FUNCTION_ERROR
        failed = {item["itemIdentifier"] for item in response.get("batchItemFailures", [])}
        positions = [i for i, record in enumerate(batch) if self.sequence_of(record) in failed]
        return min(positions) if positions else None

    def _failure_record(self, batch: list[Any], invokes: int) -> dict[str, Any]:
        """What Lambda sends the on-failure destination of a DynamoDB stream mapping."""
        return {
            "requestContext": {
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": invokes,
            },
            "version": "1.0",
            "DDBStreamBatchInfo": {
                "startSequenceNumber": self.sequence_of(batch[0]),
                "endSequenceNumber": self.sequence_of(batch[-1]),
                "batchSize": len(batch),
                "streamArn": self.source_arn,
            },
        }


def send_to_queue(sqs: Any, queue_url: str) -> Callable[[dict[str, Any]], None]:
    """An on-failure destination: the record, as JSON, into an SQS queue."""

    def send(record: dict[str, Any]) -> None:
        sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(record))

    return send


@dataclass
class ShardPoller:
    """A stream's new records, shard by shard, from the trim horizon: each poll returns only
    what arrived since the last, as Lambda's poller keeps each shard's position.

    `shard_ids` lists the stream's shards; `first_iterator` gives a shard's TRIM_HORIZON
    iterator; `read` is GetRecords on an iterator.
    """

    shard_ids: Callable[[], list[str]]
    first_iterator: Callable[[str], str]
    read: Callable[[str], dict[str, Any]]
    positions: dict[str, str] = field(default_factory=dict)

    def poll(self) -> dict[str, list[dict[str, Any]]]:
        """The new records of each shard that has any, oldest first."""
        found = {}
        for shard_id in self.shard_ids():
            iterator = self.positions.get(shard_id) or self.first_iterator(shard_id)
            records: list[dict[str, Any]] = []
            while True:
                response = self.read(iterator)
                iterator = response.get("NextShardIterator") or iterator
                if not response["Records"]:
                    break
                records.extend(response["Records"])
            self.positions[shard_id] = iterator
            if records:
                found[shard_id] = records
        return found


def table_stream_poller(streams: Any, stream_arn: str) -> ShardPoller:
    """A poller of a DynamoDB table's stream (a DynamoDB Streams client)."""
    return ShardPoller(
        shard_ids=lambda: [
            shard["ShardId"]
            for shard in streams.describe_stream(StreamArn=stream_arn)["StreamDescription"][
                "Shards"
            ]
        ],
        first_iterator=lambda shard_id: streams.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"],
        read=lambda iterator: streams.get_records(ShardIterator=iterator),
    )


def kinesis_poller(kinesis: Any, stream_name: str) -> ShardPoller:
    """A poller of a Kinesis stream (a Kinesis client)."""
    return ShardPoller(
        shard_ids=lambda: [
            shard["ShardId"] for shard in kinesis.list_shards(StreamName=stream_name)["Shards"]
        ],
        first_iterator=lambda shard_id: kinesis.get_shard_iterator(
            StreamName=stream_name, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"],
        read=lambda iterator: kinesis.get_records(ShardIterator=iterator),
    )


def s3_event(
    bucket: str, key: str, version_id: str | None, etag: str, size: int, *, region: str
) -> dict[str, Any]:
    """The `ObjectCreated:Put` notification S3 sends a function for one object: the key
    URL-encoded, as S3 sends it."""
    s3_object: dict[str, Any] = {
        "key": quote_plus(key, safe="/"),
        "size": size,
        "eTag": etag.strip('"'),
        "sequencer": "0",
    }
    if version_id:
        s3_object["versionId"] = version_id
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": region,
                "eventTime": datetime.now(UTC).isoformat(timespec="milliseconds"),
                "eventName": "ObjectCreated:Put",
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": "landing-notification",
                    "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
                    "object": s3_object,
                },
            }
        ]
    }
