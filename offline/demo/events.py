"""The triggers of the blueprint, played on the emulator (which runs none): S3 notifications
and event source mappings, exactly those the stacks register.

`settle()` delivers until nothing is left: new records of each mapped stream, in batches of the
mapping's size with its retry rules (offline/triggers.py), and each new object under a notified
prefix as the S3 event of its current version, one object per event as S3 sends them. A
function's output may be the next one's input (the writer's Firehose objects reach the copier,
the copier's landing files the loader), so it goes round until a round finds nothing new.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from offline.demo.blueprint import BucketTrigger, StreamTrigger
from offline.demo.emulator import Emulator
from offline.demo.lambdas import Lambdas
from offline.triggers import (
    ShardPoller,
    StreamMapping,
    kinesis_event,
    kinesis_poller,
    s3_event,
    send_to_queue,
    table_stream_event,
    table_stream_poller,
)


@dataclass(frozen=True)
class Delivery:
    """One invocation a trigger made, and what the function returned."""

    function: str
    source: str
    response: Any


@dataclass
class _MappedStream:
    """A mapping's trigger, its source as the emulator names it, and where it has read to."""

    trigger: StreamTrigger
    source_arn: str
    poller: ShardPoller


@dataclass
class Triggers:
    """Every trigger of the blueprint, with what each has delivered so far."""

    emulator: Emulator
    lambdas: Lambdas
    _streams: list[_MappedStream] = field(default_factory=list, init=False)
    # (bucket, key, version) of every object notified so far.
    _delivered: set[tuple[str, str, str]] = field(default_factory=set, init=False)

    def __post_init__(self) -> None:
        for trigger in self.emulator.blueprint.stream_triggers:
            source_arn = self.emulator.translate(trigger.source_arn)
            account = source_arn.split(":")[4]
            if ":dynamodb:" in source_arn:
                streams = self.emulator.client("dynamodbstreams", account)
                poller = table_stream_poller(streams, source_arn)
            else:
                kinesis = self.emulator.client("kinesis", account)
                poller = kinesis_poller(kinesis, source_arn.rsplit("/", 1)[1])
            self._streams.append(_MappedStream(trigger, source_arn, poller))

    def settle(self) -> list[Delivery]:
        """Delivers everything new, round after round, until a round finds nothing."""
        deliveries: list[Delivery] = []
        while True:
            found = [
                *(d for stream in self._streams for d in self._deliver_stream(stream)),
                *(d for t in self.emulator.blueprint.bucket_triggers for d in self._objects(t)),
            ]
            if not found:
                return deliveries
            deliveries.extend(found)

    def _deliver_stream(self, stream: _MappedStream) -> list[Delivery]:
        trigger = stream.trigger
        deliveries: list[Delivery] = []
        is_table = ":dynamodb:" in stream.source_arn
        function = self.emulator.blueprint.function(trigger.function)

        def invoke(event: dict[str, Any]) -> Any:
            response = self.lambdas.invoke(function.name, event)
            deliveries.append(Delivery(function.name, stream.source_arn, response))
            return response

        mapping = StreamMapping(
            handler=invoke,
            event_of=(
                (lambda batch: table_stream_event(stream.source_arn, batch))
                if is_table
                else (lambda batch: kinesis_event(stream.source_arn, batch, function.role_arn))
            ),
            sequence_of=(
                (lambda record: record["dynamodb"]["SequenceNumber"])
                if is_table
                else (lambda shard_record: shard_record[1]["SequenceNumber"])
            ),
            source_arn=stream.source_arn,
            maximum_retry_attempts=trigger.maximum_retry_attempts,
            on_failure=self._failure_destination(trigger),
        )
        for shard_id, records in stream.poller.poll().items():
            batch = records if is_table else [(shard_id, record) for record in records]
            for start in range(0, len(batch), trigger.batch_size):
                mapping.deliver(batch[start : start + trigger.batch_size])
        return deliveries

    def _failure_destination(self, trigger: StreamTrigger) -> Any:
        if trigger.failure_destination_arn is None:
            return lambda record: None
        queue = self.emulator.blueprint.queue(trigger.failure_destination_arn)
        sqs = self.emulator.client("sqs", queue.account)
        return send_to_queue(sqs, self.emulator.translate(queue.url))

    def _objects(self, trigger: BucketTrigger) -> list[Delivery]:
        """The notification of each object created under the prefix since the last round."""
        bucket = self.emulator.blueprint.bucket(trigger.bucket)
        s3 = self.emulator.client("s3", bucket.account)
        versions = []
        for page in s3.get_paginator("list_object_versions").paginate(
            Bucket=bucket.name, Prefix=trigger.prefix
        ):
            versions.extend(v for v in page.get("Versions", []) if v["IsLatest"])
        deliveries = []
        for version in sorted(versions, key=lambda v: (v["LastModified"], v["Key"])):
            identity = (bucket.name, version["Key"], version["VersionId"])
            if identity in self._delivered:
                continue
            self._delivered.add(identity)
            event = s3_event(
                bucket.name,
                version["Key"],
                version["VersionId"] if version["VersionId"] != "null" else None,
                version["ETag"],
                version["Size"],
                region=self.emulator.region,
            )
            function = self.emulator.blueprint.function(trigger.function)
            response = self.lambdas.invoke(function.name, event)
            deliveries.append(
                Delivery(function.name, f"s3://{bucket.name}/{version['Key']}", response)
            )
        return deliveries
