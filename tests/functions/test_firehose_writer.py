"""The Firehose writer against the emulator: Kinesis records in, lines in the staging bucket.

moto's Firehose writes one S3 object per PutRecordBatch call (AWS buffers and joins calls), so
the objects also show how the writer split its calls. `FirehoseProxy` refuses chosen entries
the way AWS does (`FailedPutCount`, an `ErrorCode` per refused entry).
"""

from __future__ import annotations

import base64
import copy
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from functions.firehose_writer import handler
from functions.firehose_writer.settings import WriterSettings
from functions.firehose_writer.writer import (
    OversizedRecordError,
    UndeliveredRecordsError,
    UnroutedStreamError,
)
from functions.streams.environment import SettingsError
from functions.streams.retries import RetryPolicy
from offline.triggers import kinesis_event, read_kinesis

pytestmark = pytest.mark.services

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLE_EVENT = json.loads((REPO_ROOT / "tests/data/aws-events/kinesis-stream.json").read_text())
ACCOUNT = "123456789012"
REGION = "eu-west-2"
PREFIX = "staging/"
UNAVAILABLE = "ServiceUnavailableException"
FIRST_SEQUENCE = 49590338271490256608559692538361571095921575989136588898
# No waiting in tests, and no chance: each delay is its ceiling, 0.1 s doubling.
NO_WAIT = {"uniform": lambda low, high: high}


def sequence(number: int) -> str:
    return str(FIRST_SEQUENCE + number)


@dataclass
class Delivery:
    """A Kinesis stream's name routed to a Firehose stream that delivers to a bucket."""

    s3: Any
    bucket: str
    kinesis_stream: str
    delivery_stream: str

    @property
    def stream_arn(self) -> str:
        return f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{self.kinesis_stream}"

    def event(self, *payloads: bytes) -> dict[str, Any]:
        """A Kinesis event of the stream carrying `payloads`, made from the sample's record."""
        records = []
        for number, payload in enumerate(payloads, start=1):
            record = copy.deepcopy(SAMPLE_EVENT["Records"][0])
            record["kinesis"]["data"] = base64.b64encode(payload).decode()
            record["kinesis"]["sequenceNumber"] = sequence(number)
            record["eventID"] = f"shardId-000000000000:{sequence(number)}"
            record["eventSourceARN"] = self.stream_arn
            records.append(record)
        return {"Records": records}

    def objects(self) -> list[bytes]:
        """The bodies of every object Firehose delivered, sorted (keys order them only to the
        second)."""
        listing = self.s3.list_objects_v2(Bucket=self.bucket, Prefix=PREFIX)
        keys = [item["Key"] for item in listing.get("Contents", [])]
        return sorted(self.s3.get_object(Bucket=self.bucket, Key=k)["Body"].read() for k in keys)


@pytest.fixture
def delivery(aws, monkeypatch: pytest.MonkeyPatch) -> Iterator[Delivery]:
    """A fresh bucket and Firehose stream, and the handler's environment routing to it."""
    suffix = uuid.uuid4().hex[:10]
    s3 = aws.client("s3")
    target = Delivery(s3, f"staging-{suffix}", f"envelopes-{suffix}", f"delivery-{suffix}")
    s3.create_bucket(Bucket=target.bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    aws.client("firehose").create_delivery_stream(
        DeliveryStreamName=target.delivery_stream,
        DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration={
            "RoleARN": f"arn:aws:iam::{ACCOUNT}:role/firehose-delivery",
            "BucketARN": f"arn:aws:s3:::{target.bucket}",
            "Prefix": PREFIX,
        },
    )
    routes = {target.kinesis_stream: target.delivery_stream}
    monkeypatch.setenv("DELIVERY_ROUTES", json.dumps(routes))
    # Kept: a test may replace the handler's factory (see firehose_proxy) until teardown.
    factory = handler.firehose_writer
    factory.cache_clear()
    yield target
    factory.cache_clear()


@dataclass
class FirehoseProxy:
    """Passes PutRecordBatch through to the emulator, recording each call's records; those
    `refuses(call, data)` picks are not written and come back with an ErrorCode."""

    client: Any
    refuses: Callable[[int, bytes], bool]
    calls: list[list[bytes]] = field(default_factory=list)

    def put_record_batch(self, **request: Any) -> dict[str, Any]:
        data = [entry["Data"] for entry in request["Records"]]
        self.calls.append(data)
        refused = [self.refuses(len(self.calls), line) for line in data]
        passed = [entry for entry, no in zip(request["Records"], refused, strict=True) if not no]
        written = iter([])
        if passed:
            response = self.client.put_record_batch(**{**request, "Records": passed})
            written = iter(response["RequestResponses"])
        results = [
            {"ErrorCode": UNAVAILABLE, "ErrorMessage": "Slow down."} if no else next(written)
            for no in refused
        ]
        return {"FailedPutCount": sum(refused), "Encrypted": False, "RequestResponses": results}


@pytest.fixture
def firehose_proxy(
    delivery: Delivery, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., tuple[FirehoseProxy, list[float]]]:
    """Puts a FirehoseProxy between the handler and the emulator; returns it and the sleeps."""

    def install(refuses: Callable[[int, bytes], bool]) -> tuple[FirehoseProxy, list[float]]:
        writer = handler.firehose_writer()
        proxy = FirehoseProxy(writer.firehose, refuses)
        sleeps: list[float] = []
        patched = replace(
            writer, firehose=proxy, retry_policy=RetryPolicy(sleep=sleeps.append, **NO_WAIT)
        )
        monkeypatch.setattr(handler, "firehose_writer", lambda: patched)
        return proxy, sleeps

    return install


def test_the_sample_event_is_written_as_lines(delivery, lambda_context) -> None:
    # GIVEN the powertools sample, pointed at the routed stream
    event = copy.deepcopy(SAMPLE_EVENT)
    for record in event["Records"]:
        record["eventSourceARN"] = delivery.stream_arn

    # WHEN the handler writes it
    response = handler.lambda_handler(event, lambda_context)

    # THEN its two records are two lines of one delivered object
    assert response == {"batchItemFailures": []}
    assert delivery.objects() == [b"Hello, this is a test.\nThis is only a test.\n"]


def test_records_read_from_kinesis_are_written_unchanged(aws, delivery, lambda_context) -> None:
    # GIVEN envelope lines (newline-terminated already) on a Kinesis stream, read back and
    # handed over as the event source mapping does
    kinesis = aws.client("kinesis")
    kinesis.create_stream(StreamName=delivery.kinesis_stream, ShardCount=1)
    # A new stream is CREATING for a moment on AWS and LocalStack (moto makes it ACTIVE at once).
    kinesis.get_waiter("stream_exists").wait(
        StreamName=delivery.kinesis_stream, WaiterConfig={"Delay": 1}
    )
    lines = [
        b'{"table":"T","eventName":"INSERT","keys":{"id":1},"newImage":{"id":1,"note":"Zo\xc3\xab"},'
        b'"approximateCreationTime":"2025-11-25T10:00:00.000000Z","sequenceNumber":"111"}\n',
        b'{"table":"T","eventName":"REMOVE","keys":{"id":1},"newImage":null,'
        b'"approximateCreationTime":"2025-11-25T10:00:01.000000Z","sequenceNumber":"222"}\n',
    ]
    kinesis.put_records(
        StreamName=delivery.kinesis_stream,
        Records=[{"Data": line, "PartitionKey": "item-1"} for line in lines],
    )
    event = kinesis_event(
        delivery.stream_arn,
        read_kinesis(kinesis, delivery.kinesis_stream),
        f"arn:aws:iam::{ACCOUNT}:role/firehose-writer",
    )

    # WHEN the handler writes them
    handler.lambda_handler(event, lambda_context)

    # THEN the object holds the lines byte for byte: no newline added to one that has it
    assert delivery.objects() == [b"".join(lines)]


def test_only_the_refused_entries_are_resent(delivery, firehose_proxy, lambda_context) -> None:
    # GIVEN Firehose refuses two of four records on the first call
    refused = {b"line 2\n", b"line 4\n"}
    proxy, sleeps = firehose_proxy(lambda call, data: call == 1 and data in refused)
    lines = [f"line {n}\n".encode() for n in range(1, 5)]

    # WHEN the handler writes them
    response = handler.lambda_handler(delivery.event(*lines), lambda_context)

    # THEN only those two were sent again, after one backoff, and every line arrived once
    assert response == {"batchItemFailures": []}
    assert proxy.calls == [lines, [b"line 2\n", b"line 4\n"]]
    assert sleeps == [0.1]
    assert delivery.objects() == [b"line 1\nline 3\n", b"line 2\nline 4\n"]


def test_records_refused_on_every_attempt_fail_the_invocation(
    delivery, firehose_proxy, lambda_context
) -> None:
    # GIVEN Firehose refuses two of four records every time
    proxy, sleeps = firehose_proxy(lambda call, data: data in {b"line 2\n", b"line 4\n"})
    lines = [f"line {n}\n".encode() for n in range(1, 5)]

    # WHEN the handler writes them
    with pytest.raises(UndeliveredRecordsError) as failure:
        handler.lambda_handler(delivery.event(*lines), lambda_context)

    # THEN after five attempts with growing waits it raises, so the batch is retried
    assert str(failure.value) == (
        f"2 of 4 records not accepted by Firehose ({UNAVAILABLE}); first: {sequence(2)}"
    )
    assert proxy.calls == [lines] + [[b"line 2\n", b"line 4\n"]] * 4
    assert sleeps == [0.1, 0.2, 0.4, 0.8]
    assert delivery.objects() == [b"line 1\nline 3\n"]


def test_more_than_500_records_take_two_calls(delivery, firehose_proxy, lambda_context) -> None:
    proxy, _ = firehose_proxy(lambda call, data: False)
    lines = [f"line {n}\n".encode() for n in range(1, 502)]

    handler.lambda_handler(delivery.event(*lines), lambda_context)

    assert proxy.calls == [lines[:500], lines[500:]]
    assert delivery.objects() == sorted([b"".join(lines[:500]), lines[500]])


def test_more_than_4_mib_of_records_take_two_calls(
    delivery, firehose_proxy, lambda_context
) -> None:
    # GIVEN five records of 900,000 bytes (with the newline the writer adds): 4.3 MiB in all
    proxy, _ = firehose_proxy(lambda call, data: False)
    records = [bytes([ord("a") + n]) * 899_999 for n in range(5)]

    # WHEN the handler writes them
    handler.lambda_handler(delivery.event(*records), lambda_context)

    # THEN four go in the first call (3.4 MiB) and one in the second
    lines = [record + b"\n" for record in records]
    assert proxy.calls == [lines[:4], lines[4:]]
    assert delivery.objects() == sorted([b"".join(lines[:4]), lines[4]])


def test_a_record_too_large_for_firehose_fails_before_anything_is_sent(
    delivery, firehose_proxy, lambda_context
) -> None:
    # GIVEN a batch whose second record becomes 1,000 KiB + 1 byte with its newline, and a
    # first record exactly at the limit
    proxy, _ = firehose_proxy(lambda call, data: False)
    event = delivery.event(b"a" * 1_023_999, b"b" * 1_024_000, b"c\n")

    # WHEN the handler writes it
    with pytest.raises(OversizedRecordError) as oversized:
        handler.lambda_handler(event, lambda_context)

    # THEN it names that record, and none of the batch was sent (a retry duplicates nothing)
    assert oversized.value.sequence_number == sequence(2)
    assert str(oversized.value) == (
        f"record {sequence(2)} takes 1024001 bytes as a line, a Firehose record at most 1024000"
    )
    assert proxy.calls == []
    assert delivery.objects() == []


def test_a_record_at_the_size_limit_is_written(delivery, lambda_context) -> None:
    handler.lambda_handler(delivery.event(b"a" * 1_023_999), lambda_context)

    assert delivery.objects() == [b"a" * 1_023_999 + b"\n"]


def test_a_record_of_an_unrouted_stream_fails_before_anything_is_sent(
    delivery, lambda_context
) -> None:
    event = delivery.event(b"one\n", b"two\n")
    event["Records"][1]["eventSourceARN"] = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/other"

    with pytest.raises(UnroutedStreamError) as unrouted:
        handler.lambda_handler(event, lambda_context)

    assert str(unrouted.value) == (
        f"eventSourceARN 'arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/other'"
        " is not a stream in DELIVERY_ROUTES"
    )
    assert delivery.objects() == []


def test_settings_name_the_variable_that_is_wrong() -> None:
    with pytest.raises(SettingsError) as missing:
        WriterSettings.from_environment({})
    with pytest.raises(SettingsError) as empty:
        WriterSettings.from_environment({"DELIVERY_ROUTES": "{}"})
    with pytest.raises(SettingsError) as bad_route:
        WriterSettings.from_environment({"DELIVERY_ROUTES": '{"s": 1}'})

    assert str(missing.value) == "environment variable DELIVERY_ROUTES is required"
    assert (
        str(empty.value) == "environment variable DELIVERY_ROUTES must be a non-empty JSON object"
    )
    assert str(bad_route.value) == (
        "environment variable DELIVERY_ROUTES: stream 's' needs the name of a Firehose stream"
    )
    assert WriterSettings.from_environment({"DELIVERY_ROUTES": '{"s": "d"}'}) == WriterSettings(
        {"s": "d"}
    )
