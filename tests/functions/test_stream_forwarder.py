"""The stream forwarder against the emulator: DynamoDB stream records in, envelopes on Kinesis.

Kinesis answers PutRecords entry by entry; `KinesisProxy` passes calls through to the emulator
and refuses chosen entries the way AWS does when a shard is throttled, so the tests see what
is resent and what reaches the stream.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from functions.catalog import catalog_bundle, load_catalog_bundle
from functions.stream_forwarder import handler
from functions.stream_forwarder.forwarder import StreamForwarder
from functions.stream_forwarder.settings import ForwarderSettings, StreamRoute
from functions.streams.environment import SettingsError
from functions.streams.retries import RetryPolicy
from offline.triggers import read_table_stream, table_stream_event

pytestmark = pytest.mark.services

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLE_EVENT = json.loads((REPO_ROOT / "tests/data/aws-events/dynamodb-stream.json").read_text())
ACCOUNT = "123456789012"
REGION = "eu-west-2"
# The powertools sample's item (Id, Message), declared as a dataset of its own.
SAMPLE_PLATFORM = {
    "platform": "samples",
    "datasets": [
        {
            "name": "messages",
            "source": "dynamodb Messages (stream, NEW_AND_OLD_IMAGES)",
            "table": "samples_messages",
            "format": "dynamodb-stream",
            "keys": ["id"],
            "columns": [
                {"name": "id", "type": "integer", "nullable": False, "field": "Id"},
                {"name": "message", "type": "string", "field": "Message"},
            ],
        }
    ],
}
THROTTLED = "ProvisionedThroughputExceededException"
# No waiting in tests, and no chance: each delay is its ceiling, 0.1 s doubling.
NO_WAIT = {"uniform": lambda low, high: high}


def stream_arn(table: str) -> str:
    return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{table}/stream/2025-11-25T10:00:00.000"


def sequence(number: int) -> str:
    """A DynamoDB stream sequence number (21 to 40 digits)."""
    return str(100_000_000_000_000_000_000 + number)


@dataclass
class ChangeStream:
    """The forwarder's Kinesis stream on the emulator, and the tables routed to it."""

    kinesis: Any
    name: str
    table: str
    sample_table: str
    sqs: Any = None
    dead_letter_queue_url: str = ""

    def change(
        self,
        number: int,
        event_name: str = "MODIFY",
        learner: int = 42,
        lesson: str = "fr-01",
        xp: int = 10,
        **attributes: dict[str, Any],
    ) -> dict[str, Any]:
        """A LessonProgress stream record, made from the sample's INSERT record."""
        record = copy.deepcopy(SAMPLE_EVENT["Records"][0])
        keys = {"learnerId": {"N": str(learner)}, "lessonId": {"S": lesson}}
        record["eventName"] = event_name
        record["eventSourceARN"] = stream_arn(self.table)
        record["dynamodb"] = {
            "ApproximateCreationDateTime": 1764064800.0 + number,
            "Keys": keys,
            "NewImage": {**keys, "xp": {"N": str(xp)}, **attributes},
            "SequenceNumber": sequence(number),
            "SizeBytes": 100,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        }
        if event_name == "REMOVE":
            del record["dynamodb"]["NewImage"]
        return record

    def envelope(
        self,
        number: int,
        event_name: str = "MODIFY",
        learner: int = 42,
        lesson: str = "fr-01",
        xp: int = 10,
        **image: object,
    ) -> dict[str, Any]:
        """The envelope `change` with the same arguments must become, as read back."""
        keys = {"learnerId": learner, "lessonId": lesson}
        created = dt.datetime.fromtimestamp(1764064800 + number, dt.UTC)
        return {
            "table": self.table,
            "eventName": event_name,
            "keys": keys,
            "newImage": None if event_name == "REMOVE" else {**keys, "xp": xp, **image},
            "approximateCreationTime": created.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "sequenceNumber": sequence(number),
        }

    def written(self) -> list[tuple[str, bytes]]:
        """Every record on the stream, in order: (partition key, data)."""
        (shard,) = self.kinesis.list_shards(StreamName=self.name)["Shards"]
        iterator = self.kinesis.get_shard_iterator(
            StreamName=self.name, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        found = []
        while True:
            response = self.kinesis.get_records(ShardIterator=iterator, Limit=10000)
            if not response["Records"]:
                return found
            found += [(record["PartitionKey"], record["Data"]) for record in response["Records"]]
            iterator = response["NextShardIterator"]

    def records(self) -> list[tuple[str, dict[str, Any]]]:
        """Every record on the stream, in order: (partition key, envelope, numbers exact)."""
        return [(key, json.loads(data, parse_float=Decimal)) for key, data in self.written()]

    def envelopes(self) -> list[dict[str, Any]]:
        return [envelope for _, envelope in self.records()]

    def dead_letters(self) -> list[dict[str, Any]]:
        """The messages parked in the dead-letter queue (received, so read once)."""
        messages = self.sqs.receive_message(
            QueueUrl=self.dead_letter_queue_url, MaxNumberOfMessages=10
        ).get("Messages", [])
        return [json.loads(message["Body"]) for message in messages]


@pytest.fixture
def changes(aws, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[ChangeStream]:
    """A fresh Kinesis stream, both tables routed to it, and the handler's environment."""
    suffix = uuid.uuid4().hex[:10]
    kinesis = aws.client("kinesis")
    sqs = aws.client("sqs")
    stream = ChangeStream(
        kinesis,
        f"changes-{suffix}",
        f"LessonProgress-{suffix}",
        f"Messages-{suffix}",
        sqs,
        sqs.create_queue(QueueName=f"forwarder-failures-{suffix}")["QueueUrl"],
    )
    # One shard: the records read back in the order they were put.
    kinesis.create_stream(StreamName=stream.name, ShardCount=1)
    # A new stream is CREATING for a moment on AWS and LocalStack (moto makes it ACTIVE at once).
    kinesis.get_waiter("stream_exists").wait(StreamName=stream.name, WaiterConfig={"Delay": 1})
    bundle = json.loads(catalog_bundle(REPO_ROOT / "datasets"))
    bundle["samples"] = SAMPLE_PLATFORM
    catalog_file = tmp_path / "catalog.json"
    catalog_file.write_text(json.dumps(bundle), encoding="utf-8")
    monkeypatch.setenv("CATALOG_FILE", str(catalog_file))
    routes = {
        stream.table: {"dataset": "languages/lesson_progress", "stream": stream.name},
        stream.sample_table: {"dataset": "samples/messages", "stream": stream.name},
    }
    monkeypatch.setenv("STREAM_ROUTES", json.dumps(routes))
    monkeypatch.setenv("DEAD_LETTER_QUEUE_URL", stream.dead_letter_queue_url)
    # Kept: a test may replace the handler's factory (see kinesis_proxy) until teardown.
    factories = (handler.settings, handler.stream_forwarder, handler.dead_letters)
    for factory in factories:
        factory.cache_clear()
    yield stream
    for factory in factories:
        factory.cache_clear()


@dataclass
class KinesisProxy:
    """Passes PutRecords through to the emulator, recording each call by the sequence numbers
    of its envelopes; the entries `refuses(call, sequence_number)` picks are not written and
    come back with an ErrorCode, as AWS answers them when a shard is throttled."""

    client: Any
    refuses: Callable[[int, str], bool]
    calls: list[list[str]] = field(default_factory=list)
    call_bytes: list[int] = field(default_factory=list)

    def put_records(self, **request: Any) -> dict[str, Any]:
        entries = request["Records"]
        numbers = [json.loads(entry["Data"])["sequenceNumber"] for entry in entries]
        self.calls.append(numbers)
        self.call_bytes.append(sum(len(e["Data"]) + len(e["PartitionKey"]) for e in entries))
        refused = [self.refuses(len(self.calls), number) for number in numbers]
        passed = [entry for entry, no in zip(entries, refused, strict=True) if not no]
        written = iter([])
        if passed:
            written = iter(self.client.put_records(**{**request, "Records": passed})["Records"])
        results = [
            {"ErrorCode": THROTTLED, "ErrorMessage": "Rate exceeded for shard"}
            if no
            else next(written)
            for no in refused
        ]
        return {"FailedRecordCount": sum(refused), "Records": results}


@pytest.fixture
def kinesis_proxy(
    changes: ChangeStream, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., tuple[KinesisProxy, list[float]]]:
    """Puts a KinesisProxy between the handler and the emulator; returns it and the sleeps."""

    def install(refuses: Callable[[int, str], bool]) -> tuple[KinesisProxy, list[float]]:
        forwarder = handler.stream_forwarder()
        proxy = KinesisProxy(forwarder.kinesis, refuses)
        sleeps: list[float] = []
        patched = replace(
            forwarder, kinesis=proxy, retry_policy=RetryPolicy(sleep=sleeps.append, **NO_WAIT)
        )
        monkeypatch.setattr(handler, "stream_forwarder", lambda: patched)
        return proxy, sleeps

    return install


def partition_key_of(table: str, learner: int, lesson: str) -> str:
    item = f'{{"table":"{table}","keys":{{"learnerId":{learner},"lessonId":"{lesson}"}}}}\n'
    return hashlib.sha256(item.encode()).hexdigest()


def test_the_sample_event_reaches_kinesis_as_envelopes(changes, lambda_context) -> None:
    # GIVEN the powertools sample, pointed at a routed table, its MODIFY given a creation time
    event = copy.deepcopy(SAMPLE_EVENT)
    for record in event["Records"]:
        record["eventSourceARN"] = stream_arn(changes.sample_table)
    event["Records"][1]["dynamodb"]["ApproximateCreationDateTime"] = 1693997156.0

    # WHEN the handler forwards it
    response = handler.lambda_handler(event, lambda_context)

    # THEN both changes are on the stream, exactly, under the item's partition key
    key = hashlib.sha256(f'{{"table":"{changes.sample_table}","keys":{{"Id":101}}}}\n'.encode())
    assert response == {"batchItemFailures": []}
    assert changes.records() == [
        (
            key.hexdigest(),
            {
                "table": changes.sample_table,
                "eventName": "INSERT",
                "keys": {"Id": 101},
                "newImage": {"Message": "New item!", "Id": 101},
                "approximateCreationTime": "2023-09-06T10:45:55.000000Z",
                "sequenceNumber": "111",
            },
        ),
        (
            key.hexdigest(),
            {
                "table": changes.sample_table,
                "eventName": "MODIFY",
                "keys": {"Id": 101},
                "newImage": {"Message": "This item has changed", "Id": 101},
                "approximateCreationTime": "2023-09-06T10:45:56.000000Z",
                "sequenceNumber": "222",
            },
        ),
    ]


@pytest.mark.emulator_needs("dynamodb")
def test_real_stream_records_of_a_table_reach_kinesis(aws, changes, lambda_context) -> None:
    # GIVEN a table with a stream on the emulator, an item inserted, updated and deleted
    dynamodb = aws.client("dynamodb")
    keys = {"learnerId": {"N": "42"}, "lessonId": {"S": "fr-01"}}
    table = dynamodb.create_table(
        TableName=changes.table,
        KeySchema=[
            {"AttributeName": "learnerId", "KeyType": "HASH"},
            {"AttributeName": "lessonId", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "learnerId", "AttributeType": "N"},
            {"AttributeName": "lessonId", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    item = {
        **keys,
        "xp": {"N": "10"},
        "streakDays": {"N": "3"},
        "completedAt": {"S": "2025-11-25T09:30:00Z"},
        "avatar": {"B": b"\x00\xff"},
        "badges": {"SS": ["gold", "bronze"]},
    }
    dynamodb.put_item(TableName=changes.table, Item=item)
    dynamodb.update_item(
        TableName=changes.table,
        Key=keys,
        UpdateExpression="SET xp = :xp",
        ExpressionAttributeValues={":xp": {"N": "12345678901234567890.123456789012345678"}},
    )
    dynamodb.delete_item(TableName=changes.table, Key=keys)
    arn = table["TableDescription"]["LatestStreamArn"]
    stream_records = read_table_stream(aws.client("dynamodbstreams"), arn)

    # WHEN the handler forwards them as Lambda would hand them over
    response = handler.lambda_handler(table_stream_event(arn, stream_records), lambda_context)

    # THEN the three changes are on Kinesis, declared attributes only, under one partition key
    def created(record: dict[str, Any]) -> str:
        moment = record["dynamodb"]["ApproximateCreationDateTime"].astimezone(dt.UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    image = {"learnerId": 42, "lessonId": "fr-01", "streakDays": 3}
    image["completedAt"] = "2025-11-25T09:30:00Z"
    key = partition_key_of(changes.table, 42, "fr-01")
    metadata = [
        (record["eventName"], created(record), record["dynamodb"]["SequenceNumber"])
        for record in stream_records
    ]
    assert response == {"batchItemFailures": []}
    assert changes.records() == [
        (
            key,
            {
                "table": changes.table,
                "eventName": event_name,
                "keys": {"learnerId": 42, "lessonId": "fr-01"},
                "newImage": new_image,
                "approximateCreationTime": creation_time,
                "sequenceNumber": sequence_number,
            },
        )
        for (event_name, creation_time, sequence_number), new_image in zip(
            metadata,
            [
                {**image, "xp": 10},
                {**image, "xp": Decimal("12345678901234567890.123456789012345678")},
                None,
            ],
            strict=True,
        )
    ]
    assert [event_name for event_name, _, _ in metadata] == ["INSERT", "MODIFY", "REMOVE"]


def test_the_exact_decimal_text_reaches_kinesis(changes, lambda_context) -> None:
    record = changes.change(1, xp=0)
    record["dynamodb"]["NewImage"]["xp"] = {"N": "-0.000001"}

    handler.lambda_handler({"Records": [record]}, lambda_context)

    ((_, data),) = changes.written()
    assert (
        data
        == (
            f'{{"table":"{changes.table}","eventName":"MODIFY",'
            '"keys":{"learnerId":42,"lessonId":"fr-01"},'
            '"newImage":{"learnerId":42,"lessonId":"fr-01","xp":-0.000001},'
            f'"approximateCreationTime":"2025-11-25T10:00:01.000000Z","sequenceNumber":"{sequence(1)}"}}\n'
        ).encode()
    )


def test_each_item_keeps_its_partition_key(changes, lambda_context) -> None:
    # GIVEN changes of two items, interleaved
    event = {
        "Records": [
            changes.change(1, "INSERT"),
            changes.change(2, "INSERT", learner=7, lesson="es-02"),
            changes.change(3, "MODIFY", xp=20),
            changes.change(4, "REMOVE", learner=7, lesson="es-02"),
        ]
    }

    handler.lambda_handler(event, lambda_context)

    # THEN one key per item, whatever the change
    first = partition_key_of(changes.table, 42, "fr-01")
    second = partition_key_of(changes.table, 7, "es-02")
    assert [key for key, _ in changes.records()] == [first, second, first, second]
    assert changes.envelopes() == [
        changes.envelope(1, "INSERT"),
        changes.envelope(2, "INSERT", learner=7, lesson="es-02"),
        changes.envelope(3, "MODIFY", xp=20),
        changes.envelope(4, "REMOVE", learner=7, lesson="es-02"),
    ]


REFUSED = {sequence(2), sequence(4)}


def test_only_the_refused_entries_are_resent(changes, kinesis_proxy, lambda_context) -> None:
    # GIVEN Kinesis refuses the second and fourth entries of the first call
    proxy, sleeps = kinesis_proxy(lambda call, number: call == 1 and number in REFUSED)
    event = {"Records": [changes.change(n, xp=n) for n in range(1, 5)]}

    # WHEN the handler forwards four changes
    response = handler.lambda_handler(event, lambda_context)

    # THEN only those two were sent again, after one backoff, and each change is on the stream
    # once: the accepted ones first
    assert response == {"batchItemFailures": []}
    assert proxy.calls == [[sequence(n) for n in range(1, 5)], sorted(REFUSED)]
    assert sleeps == [0.1]
    assert changes.envelopes() == [changes.envelope(n, xp=n) for n in (1, 3, 2, 4)]


def test_entries_refused_on_every_attempt_are_the_batch_item_failures(
    changes, kinesis_proxy, lambda_context
) -> None:
    # GIVEN Kinesis refuses the second and fourth entries every time
    proxy, sleeps = kinesis_proxy(lambda call, number: number in REFUSED)
    event = {"Records": [changes.change(n, xp=n) for n in range(1, 5)]}

    # WHEN the handler forwards four changes
    response = handler.lambda_handler(event, lambda_context)

    # THEN after five attempts with growing waits, exactly those two are reported
    assert response == {
        "batchItemFailures": [
            {"itemIdentifier": sequence(2)},
            {"itemIdentifier": sequence(4)},
        ]
    }
    assert proxy.calls == [[sequence(n) for n in range(1, 5)]] + [sorted(REFUSED)] * 4
    assert sleeps == [0.1, 0.2, 0.4, 0.8]
    assert changes.envelopes() == [changes.envelope(1, xp=1), changes.envelope(3, xp=3)]


def _unrouted(record: dict[str, Any]) -> None:
    record["eventSourceARN"] = stream_arn("Unrouted")


def _upsert(record: dict[str, Any]) -> None:
    record["eventName"] = "UPSERT"


def _keys_only(record: dict[str, Any]) -> None:
    del record["dynamodb"]["NewImage"]


def _bad_number(record: dict[str, Any]) -> None:
    record["dynamodb"]["NewImage"]["xp"] = {"N": "1.2.3"}


@pytest.mark.parametrize("poison", [_unrouted, _upsert, _keys_only, _bad_number])
def test_a_poison_record_is_parked_and_the_rest_flows(changes, lambda_context, poison) -> None:
    # GIVEN a batch whose middle record cannot become an envelope
    records = [changes.change(n, xp=n) for n in range(1, 4)]
    poison(records[1])

    # WHEN the handler forwards it
    response = handler.lambda_handler({"Records": records}, lambda_context)

    # THEN the others reach Kinesis, the poison record waits in the dead-letter queue with the
    # reason, and nothing is left for Lambda to retry (the shard moves on)
    assert response == {"batchItemFailures": []}
    assert changes.envelopes() == [changes.envelope(1, xp=1), changes.envelope(3, xp=3)]
    (parked,) = changes.dead_letters()
    assert parked["record"] == json.loads(json.dumps(records[1]))
    assert parked["imagesOmitted"] is False
    assert parked["reason"].split(":", 1)[0] in {"UnroutedTableError", "EnvelopeError"}


def test_a_batch_of_only_poison_is_parked_whole(changes, lambda_context) -> None:
    record = changes.change(1)
    _upsert(record)

    response = handler.lambda_handler({"Records": [record]}, lambda_context)

    assert response == {"batchItemFailures": []}
    assert changes.envelopes() == []
    assert [
        parked["record"]["dynamodb"]["SequenceNumber"] for parked in changes.dead_letters()
    ] == [sequence(1)]


def test_a_poison_record_the_queue_refuses_is_retried(
    changes, lambda_context, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a dead-letter queue that does not exist (deleted, or the URL is wrong)
    monkeypatch.setenv("DEAD_LETTER_QUEUE_URL", changes.dead_letter_queue_url + "-gone")
    handler.settings.cache_clear()
    handler.dead_letters.cache_clear()
    records = [changes.change(n, xp=n) for n in range(1, 4)]
    _upsert(records[1])

    # WHEN the handler forwards the batch
    response = handler.lambda_handler({"Records": records}, lambda_context)

    # THEN the poison record is reported for Lambda to retry: it is never dropped
    assert response == {"batchItemFailures": [{"itemIdentifier": sequence(2)}]}
    assert changes.envelopes() == [changes.envelope(1, xp=1), changes.envelope(3, xp=3)]


def test_a_record_too_large_for_the_queue_is_parked_with_its_keys_only(
    changes, lambda_context
) -> None:
    record = changes.change(1)
    record["dynamodb"]["NewImage"]["notes"] = {"S": "x" * 300_000}
    _upsert(record)

    handler.lambda_handler({"Records": [record]}, lambda_context)

    (parked,) = changes.dead_letters()
    assert parked["imagesOmitted"] is True
    assert parked["record"]["dynamodb"]["Keys"] == record["dynamodb"]["Keys"]
    assert "NewImage" not in parked["record"]["dynamodb"]


def test_more_than_500_changes_take_two_calls(changes, kinesis_proxy, lambda_context) -> None:
    proxy, _ = kinesis_proxy(lambda call, number: False)
    event = {"Records": [changes.change(n, learner=n, xp=n) for n in range(1, 502)]}

    response = handler.lambda_handler(event, lambda_context)

    assert response == {"batchItemFailures": []}
    assert [len(call) for call in proxy.calls] == [500, 1]
    assert changes.envelopes() == [changes.envelope(n, learner=n, xp=n) for n in range(1, 502)]


def test_more_than_5_mib_of_changes_take_two_calls(changes, kinesis_proxy, lambda_context) -> None:
    # GIVEN 14 changes of about 390 KB each (an item holds at most 400 KB): 5.2 MiB in all
    proxy, _ = kinesis_proxy(lambda call, number: False)
    note = "x" * 390_000
    event = {
        "Records": [changes.change(n, learner=n, completedAt={"S": note}) for n in range(1, 15)]
    }

    # WHEN the handler forwards them
    response = handler.lambda_handler(event, lambda_context)

    # THEN they go in two calls, each within PutRecords's 5 MiB, and all arrive
    assert response == {"batchItemFailures": []}
    assert [len(call) for call in proxy.calls] == [13, 1]
    assert max(proxy.call_bytes) <= 5 * 1024 * 1024
    assert sum(proxy.call_bytes) > 5 * 1024 * 1024
    assert changes.envelopes() == [
        changes.envelope(n, learner=n, completedAt=note) for n in range(1, 15)
    ]


def test_a_batch_delivered_twice_is_put_twice_with_the_same_sequence_numbers(
    changes, lambda_context
) -> None:
    # GIVEN a batch Lambda delivers again (a retry after a later record failed)
    event = {"Records": [changes.change(1, "INSERT"), changes.change(2, xp=20)]}

    # WHEN the handler forwards it twice
    handler.lambda_handler(copy.deepcopy(event), lambda_context)
    handler.lambda_handler(copy.deepcopy(event), lambda_context)

    # THEN each change is on the stream twice (at least once), identical down to its sequence
    # number and partition key, so the loader's dedupe on keys and sequence keeps one
    once = [changes.envelope(1, "INSERT"), changes.envelope(2, xp=20)]
    records = changes.records()
    assert [envelope for _, envelope in records] == once + once
    assert records[:2] == records[2:]


def test_settings_name_the_variable_that_is_wrong() -> None:
    with pytest.raises(SettingsError) as missing:
        ForwarderSettings.from_environment({})
    with pytest.raises(SettingsError) as not_json:
        ForwarderSettings.from_environment({"STREAM_ROUTES": "{nope"})
    with pytest.raises(SettingsError) as bad_route:
        ForwarderSettings.from_environment({"STREAM_ROUTES": '{"T": {"dataset": "x"}}'})

    assert str(missing.value) == "environment variable STREAM_ROUTES is required"
    assert str(not_json.value).startswith("environment variable STREAM_ROUTES is not JSON:")
    assert str(bad_route.value) == (
        "environment variable STREAM_ROUTES: table 'T' needs"
        ' {"dataset": "<platform>/<dataset>", "stream": "<kinesis stream name>"}'
    )


def test_settings_default_the_catalog_to_the_bundle_beside_functions() -> None:
    routes = '{"T": {"dataset": "languages/lesson_progress", "stream": "s"}}'
    with pytest.raises(SettingsError, match=r"^environment variable DEAD_LETTER_QUEUE_URL is"):
        ForwarderSettings.from_environment({"STREAM_ROUTES": routes})

    settings = ForwarderSettings.from_environment(
        {"STREAM_ROUTES": routes, "DEAD_LETTER_QUEUE_URL": "https://sqs/queue"}
    )

    assert settings.catalog_file == REPO_ROOT / "catalog.json"
    assert settings.routes == {"T": StreamRoute("languages/lesson_progress", "s")}
    assert settings.dead_letter_queue_url == "https://sqs/queue"


@pytest.mark.parametrize(
    ("dataset", "message"),
    [
        (
            "languages/nope",
            "environment variable STREAM_ROUTES: no dataset languages/nope in the catalog",
        ),
        (
            "languages/learners",
            "environment variable STREAM_ROUTES: languages/learners is a csv dataset,"
            " not dynamodb-stream",
        ),
    ],
)
def test_a_route_to_a_dataset_that_is_not_a_change_stream_fails_the_cold_start(
    dataset: str, message: str, tmp_path: Path
) -> None:
    catalog_file = tmp_path / "catalog.json"
    catalog_file.write_text(catalog_bundle(REPO_ROOT / "datasets"), encoding="utf-8")
    routes = json.dumps({"T": {"dataset": dataset, "stream": "s"}})
    settings = ForwarderSettings.from_environment(
        {
            "STREAM_ROUTES": routes,
            "CATALOG_FILE": str(catalog_file),
            "DEAD_LETTER_QUEUE_URL": "https://sqs/queue",
        }
    )

    with pytest.raises(SettingsError) as error:
        StreamForwarder.build(None, settings, load_catalog_bundle(settings.catalog_file))

    assert str(error.value) == message


def test_a_change_too_large_for_firehose_is_parked(changes, lambda_context) -> None:
    # DynamoDB items stop at 400 KB, so only a malformed record gets here: the guard keeps it
    # from failing the writer's whole batch further down.
    record = changes.change(1)
    record["dynamodb"]["NewImage"]["completedAt"] = {"S": "x" * (1000 * 1024)}

    response = handler.lambda_handler({"Records": [record]}, lambda_context)

    assert response == {"batchItemFailures": []}
    assert changes.envelopes() == []
    (parked,) = changes.dead_letters()
    assert "a Firehose record at most 1024000" in parked["reason"]


def test_an_unexpected_error_fails_the_invocation_instead_of_parking(
    changes, lambda_context, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a bug: turning a record into a change raises something no record can cause
    def broken(record):
        raise TypeError("a bug")

    monkeypatch.setattr(handler, "record_handler", broken)
    records = [changes.change(n) for n in range(1, 3)]

    # WHEN the batch is forwarded, THEN the invocation fails (Lambda retries and bisects it)
    with pytest.raises(TypeError, match="a bug"):
        handler.lambda_handler({"Records": records}, lambda_context)
    assert changes.dead_letters() == []
    assert changes.envelopes() == []
