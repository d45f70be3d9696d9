"""Example 2 end to end, across two accounts on the emulator, into PostgreSQL and SQLite.

The platform account (444400000001) holds the DynamoDB table with its stream, the Kinesis stream,
the Firehose delivery stream and the staging bucket; the reporting account (111100000001) the
landing bucket, its key and the alert topic. Each function runs with its own account's
credentials. The emulator runs no Lambda triggers, so the test plays them as AWS does
(`offline/triggers.py`): it reads the table's stream and the Kinesis shard with GetRecords, builds
the events, runs the event source mappings' retry rules, and lists new S3 objects to build their
S3 events. Every hop is also delivered twice, as AWS may.

moto's Firehose writes one object per PutRecordBatch under `<prefix>yyyy/MM/dd/HH/` and does not
evaluate `!{timestamp:...}` prefixes, so the delivery stream here has a plain prefix.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest
from service_fixtures import CATALOG_DIR, REGION, account_client, account_credentials

from functions.catalog import catalog_bundle
from functions.cross_account_copier import handler as copier
from functions.firehose_writer import handler as writer
from functions.loader import handler as loader
from functions.stream_forwarder import handler as forwarder
from offline.triggers import (
    StreamMapping,
    kinesis_event,
    read_kinesis,
    read_table_stream,
    send_to_queue,
    table_stream_event,
)

# The pipeline starts with a DynamoDB table's stream.
pytestmark = [pytest.mark.services, pytest.mark.emulator_needs("dynamodb")]

HUB = "111100000001"
PLATFORM = "444400000001"
STAGING_PREFIX = "envelopes/lesson_progress/"
# Never declared by the dataset: must not leave the platform account.
PRIVATE_EMAIL = "learner-one@example.org"
RETRIES = 2


@dataclass
class Estate:
    """Both accounts' resources on the emulator, and who may act as whom."""

    monkeypatch: pytest.MonkeyPatch
    aws: Any
    platform: dict[str, str]
    hub: dict[str, str]
    suffix: str
    table: str = ""
    stream_arn: str = ""
    kinesis_stream: str = ""
    kinesis_arn: str = ""
    staging_bucket: str = ""
    forwarder_queue: str = ""
    landing_bucket: str = ""
    alerts_queue: str = ""

    def client(self, service: str, account: str) -> Any:
        credentials = self.platform if account == PLATFORM else self.hub
        return account_client(self.aws, service, credentials)

    def act_as(self, account: str) -> None:
        """The functions' default credentials: the account they run in."""
        credentials = self.platform if account == PLATFORM else self.hub
        self.monkeypatch.setenv("AWS_ACCESS_KEY_ID", credentials["aws_access_key_id"])
        self.monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", credentials["aws_secret_access_key"])
        self.monkeypatch.setenv("AWS_SESSION_TOKEN", credentials["aws_session_token"])
        self.monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)

    def new_objects(self, account: str, bucket: str, prefix: str) -> list[dict[str, Any]]:
        """The current versions under `prefix`: what S3 would have notified."""
        listing = self.client("s3", account).list_object_versions(Bucket=bucket, Prefix=prefix)
        return [v for v in listing.get("Versions", []) if v["IsLatest"]]


FACTORIES = (
    forwarder.settings,
    forwarder.stream_forwarder,
    forwarder.dead_letters,
    writer.firehose_writer,
    copier.cross_account_copier,
    loader.landing_loader,
)


@pytest.fixture
def estate(
    aws: Any, database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[Estate]:
    estate = Estate(
        monkeypatch,
        aws,
        account_credentials(aws, PLATFORM),
        account_credentials(aws, HUB),
        uuid.uuid4().hex[:8],
    )
    _platform_side(estate)
    _hub_side(estate)
    bundle = tmp_path / "catalog.json"
    bundle.write_text(catalog_bundle(CATALOG_DIR), encoding="utf-8")
    environment = {
        "CATALOG_FILE": str(bundle),
        "STREAM_ROUTES": json.dumps(
            {
                estate.table: {
                    "dataset": "languages/lesson_progress",
                    "stream": estate.kinesis_stream,
                }
            }
        ),
        "DEAD_LETTER_QUEUE_URL": estate.forwarder_queue,
        "DELIVERY_ROUTES": json.dumps({estate.kinesis_stream: f"lesson-progress-{estate.suffix}"}),
        "LANDING_BUCKET": estate.landing_bucket,
        "LANDING_ACCOUNT_ID": HUB,
        "LANDING_KEY_ARN": estate.client("kms", HUB).create_key()["KeyMetadata"]["Arn"],
        "PLATFORM": "languages",
        "DATABASE_URL": database_url,
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("DATABASE_SECRET_ARN", raising=False)
    for factory in FACTORIES:
        factory.cache_clear()
    yield estate
    for factory in FACTORIES:
        factory.cache_clear()


def _platform_side(estate: Estate) -> None:
    suffix = estate.suffix
    estate.table = f"languages-lesson-progress-{suffix}"
    created = estate.client("dynamodb", PLATFORM).create_table(
        TableName=estate.table,
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
    estate.stream_arn = created["TableDescription"]["LatestStreamArn"]
    estate.kinesis_stream = f"lesson-progress-{suffix}"
    kinesis = estate.client("kinesis", PLATFORM)
    kinesis.create_stream(StreamName=estate.kinesis_stream, ShardCount=1)
    estate.kinesis_arn = kinesis.describe_stream_summary(StreamName=estate.kinesis_stream)[
        "StreamDescriptionSummary"
    ]["StreamARN"]
    estate.staging_bucket = f"staging-{suffix}"
    _versioned_bucket(estate.client("s3", PLATFORM), estate.staging_bucket)
    estate.client("firehose", PLATFORM).create_delivery_stream(
        DeliveryStreamName=f"lesson-progress-{suffix}",
        DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration={
            "RoleARN": f"arn:aws:iam::{PLATFORM}:role/firehose",
            "BucketARN": f"arn:aws:s3:::{estate.staging_bucket}",
            "Prefix": STAGING_PREFIX,
        },
    )
    estate.forwarder_queue = estate.client("sqs", PLATFORM).create_queue(
        QueueName=f"forwarder-failures-{suffix}"
    )["QueueUrl"]


def _hub_side(estate: Estate) -> None:
    estate.landing_bucket = f"landing-{estate.suffix}"
    _versioned_bucket(estate.client("s3", HUB), estate.landing_bucket)
    sns, sqs = estate.client("sns", HUB), estate.client("sqs", HUB)
    topic_arn = sns.create_topic(Name=f"alerts-{estate.suffix}")["TopicArn"]
    estate.alerts_queue = sqs.create_queue(QueueName=f"alerts-{estate.suffix}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=estate.alerts_queue, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    estate.monkeypatch.setenv("ALERT_TOPIC_ARN", topic_arn)


def _versioned_bucket(s3: Any, bucket: str) -> None:
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})


def _item(learner: int, lesson: str, xp: str, streak: str, completed: str) -> dict[str, Any]:
    return {
        "learnerId": {"N": str(learner)},
        "lessonId": {"S": lesson},
        "xp": {"N": xp},
        "streakDays": {"N": streak},
        "completedAt": {"S": completed},
        "email": {"S": PRIVATE_EMAIL},
        "device": {"M": {"os": {"S": "ios"}, "version": {"N": "17.1"}}},
    }


def _change_the_table(estate: Estate) -> None:
    """Puts, updates and deletes items, as the platform's application would."""
    dynamodb = estate.client("dynamodb", PLATFORM)
    table = estate.table
    dynamodb.put_item(TableName=table, Item=_item(1, "es-01", "10", "1", "2026-11-20T09:00:00Z"))
    dynamodb.put_item(TableName=table, Item=_item(2, "fr-01", "5", "2", "2026-11-21T10:30:00Z"))
    dynamodb.put_item(TableName=table, Item=_item(3, "de-01", "7", "3", "2026-11-22T08:15:00Z"))
    dynamodb.update_item(
        TableName=table,
        Key={"learnerId": {"N": "1"}, "lessonId": {"S": "es-01"}},
        UpdateExpression="SET xp = :xp, streakDays = :streak",
        ExpressionAttributeValues={":xp": {"N": "9007199254740993"}, ":streak": {"N": "2"}},
    )
    dynamodb.delete_item(TableName=table, Key={"learnerId": {"N": "2"}, "lessonId": {"S": "fr-01"}})
    dynamodb.put_item(TableName=table, Item=_item(4, "it-01", "3", "1", "2026-11-23T12:00:00Z"))


def _expected_rows(records: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """The staging rows the changes must become: keys over the new image, declared columns."""
    rows = []
    for record in records:
        change = record["dynamodb"]
        image = {**change.get("NewImage", {}), **change["Keys"]}

        def value(name: str, kind: str, image: dict[str, Any] = image) -> Any:
            return image[name][kind] if name in image else None

        created = change["ApproximateCreationDateTime"].astimezone(dt.UTC)
        rows.append(
            (
                int(value("learnerId", "N")),
                value("lessonId", "S"),
                None if value("xp", "N") is None else int(value("xp", "N")),
                None if value("streakDays", "N") is None else int(value("streakDays", "N")),
                _timestamp(value("completedAt", "S")),
                record["eventName"],
                # Stored zero-padded to 40 digits, so that text order is numeric order.
                change["SequenceNumber"].zfill(40),
                created.replace(tzinfo=None),
            )
        )
    return sorted(rows, key=lambda row: (row[0], row[1], int(row[6])))


def _timestamp(text: str | None) -> dt.datetime | None:
    return None if text is None else dt.datetime.fromisoformat(text).replace(tzinfo=None)


def _staged_rows(query: Callable[..., list[tuple[Any, ...]]]) -> list[tuple[Any, ...]]:
    rows = query(
        "SELECT learner_id, lesson_id, xp, streak_days, completed_at, _event_name,"
        " _sequence_number, _approximate_creation_time FROM languages_lesson_progress"
    )
    normal = [
        (
            int(row[0]),
            row[1],
            None if row[2] is None else int(row[2]),
            None if row[3] is None else int(row[3]),
            _as_datetime(row[4]),
            row[5],
            row[6],
            _as_datetime(row[7]),
        )
        for row in rows
    ]
    return sorted(normal, key=lambda row: (row[0], row[1], int(row[6])))


def _as_datetime(value: Any) -> dt.datetime | None:
    """SQLite keeps timestamps as ISO text, PostgreSQL returns datetimes."""
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(value)


def _queue_bodies(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(message["Body"]) for message in messages]


def test_changes_reach_the_staging_table_once_across_accounts(
    estate: Estate, query, s3_event, lambda_context
) -> None:
    # GIVEN the platform's application changing items, and one change that reaches the
    # forwarder without its new image, as from a stream misconfigured to KEYS_ONLY (poison)
    _change_the_table(estate)
    records = read_table_stream(estate.client("dynamodbstreams", PLATFORM), estate.stream_arn)
    assert [r["eventName"] for r in records] == [
        "INSERT", "INSERT", "INSERT", "MODIFY", "REMOVE", "INSERT",
    ]  # fmt: skip
    poison = copy.deepcopy(records[5])
    del poison["dynamodb"]["NewImage"]
    delivered = [*records[:5], poison]

    # WHEN the pipeline runs hop by hop in the platform account, each batch delivered twice
    estate.act_as(PLATFORM)
    forwarding = StreamMapping(
        handler=lambda event: forwarder.lambda_handler(event, lambda_context),
        event_of=lambda batch: table_stream_event(estate.stream_arn, batch),
        sequence_of=lambda record: record["dynamodb"]["SequenceNumber"],
        source_arn=estate.stream_arn,
        maximum_retry_attempts=RETRIES,
        on_failure=send_to_queue(estate.client("sqs", PLATFORM), estate.forwarder_queue),
    )
    forwarding.deliver(delivered)
    forwarding.deliver(delivered)
    on_kinesis = read_kinesis(estate.client("kinesis", PLATFORM), estate.kinesis_stream)
    writing = StreamMapping(
        handler=lambda event: writer.lambda_handler(event, lambda_context),
        event_of=lambda batch: kinesis_event(
            estate.kinesis_arn, batch, f"arn:aws:iam::{PLATFORM}:role/firehose-writer"
        ),
        sequence_of=lambda shard_record: shard_record[1]["SequenceNumber"],
        source_arn=estate.kinesis_arn,
        maximum_retry_attempts=RETRIES,
        on_failure=pytest.fail,
    )
    writing.deliver(on_kinesis)
    staged = estate.new_objects(PLATFORM, estate.staging_bucket, STAGING_PREFIX)
    copies = []
    for version in [*staged, staged[0]]:
        event = s3_event(
            estate.staging_bucket, version["Key"], version["VersionId"], version["ETag"], 1
        )
        copies += copier.lambda_handler(event, lambda_context)["results"]

    # ... and the loader runs in the reporting account, each S3 event delivered twice
    estate.act_as(HUB)
    incoming = estate.new_objects(HUB, estate.landing_bucket, "incoming/")
    landed_text = b"".join(
        estate.client("s3", HUB)
        .get_object(Bucket=estate.landing_bucket, Key=v["Key"], VersionId=v["VersionId"])["Body"]
        .read()
        for v in incoming
    )
    loads = []
    for version in [*incoming, *incoming]:
        event = s3_event(
            estate.landing_bucket, version["Key"], version["VersionId"], version["ETag"], 1
        )
        loads += loader.lambda_handler(event, lambda_context)["results"]

    # THEN each change is staged exactly once, with declared columns only, except the poison
    # one, which waits in the forwarder's dead-letter queue: nothing is dropped silently
    assert _staged_rows(query) == _expected_rows(records[:5])
    # (Parked once per delivery of its batch: at least once, like everything else.)
    parked = _queue_bodies(estate.client("sqs", PLATFORM), estate.forwarder_queue)
    assert [p["record"]["dynamodb"]["SequenceNumber"] for p in parked] == [
        poison["dynamodb"]["SequenceNumber"]
    ] * 2
    assert all("the table's stream must include new images" in p["reason"] for p in parked)
    # No batch was given up on: the mappings' own destination received nothing else.
    # Every hop ran twice; duplicates stopped at the copier and in the staging table.
    assert len(on_kinesis) == 10
    assert [result["status"] for result in copies] == [
        *(["copied"] * len(staged)),
        "already_copied",
    ]
    assert len(incoming) == len(staged)
    assert all(v["Key"].startswith("incoming/languages/lesson_progress/") for v in incoming)
    assert PRIVATE_EMAIL.encode() not in landed_text
    assert b"device" not in landed_text
    # The second delivery finds each file archived already.
    assert [result["status"] for result in loads] == ["loaded"] * len(incoming) + ["gone"] * len(
        incoming
    )
    assert _queue_bodies(estate.client("sqs", HUB), estate.alerts_queue) == []
    # AND the merge after each load keeps the reporting table current: learner 1 as modified,
    # learner 2 deleted (a tombstone), learner 3 as inserted; the poisoned learner 4 absent
    current = query(
        "SELECT learner_id, lesson_id, xp, streak_days, _deleted"
        " FROM languages_lesson_progress_current ORDER BY learner_id"
    )
    assert [(int(a), b, c, d, bool(e)) for a, b, c, d, e in current] == [
        (1, "es-01", 9007199254740993, 2, False),
        (2, "fr-01", None, None, True),
        (3, "de-01", 7, 3, False),
    ]


def test_exact_numbers_survive_every_hop(estate: Estate, query, s3_event, lambda_context) -> None:
    # A 2^53 + 1 integer is where a float would round: it must reach the table as written.
    _change_the_table(estate)
    records = read_table_stream(estate.client("dynamodbstreams", PLATFORM), estate.stream_arn)
    estate.act_as(PLATFORM)
    forwarder.lambda_handler(table_stream_event(estate.stream_arn, records), lambda_context)
    writer.lambda_handler(
        kinesis_event(
            estate.kinesis_arn,
            read_kinesis(estate.client("kinesis", PLATFORM), estate.kinesis_stream),
            f"arn:aws:iam::{PLATFORM}:role/firehose-writer",
        ),
        lambda_context,
    )
    for version in estate.new_objects(PLATFORM, estate.staging_bucket, STAGING_PREFIX):
        copier.lambda_handler(
            s3_event(
                estate.staging_bucket, version["Key"], version["VersionId"], version["ETag"], 1
            ),
            lambda_context,
        )
    estate.act_as(HUB)
    for version in estate.new_objects(HUB, estate.landing_bucket, "incoming/"):
        loader.lambda_handler(
            s3_event(
                estate.landing_bucket, version["Key"], version["VersionId"], version["ETag"], 1
            ),
            lambda_context,
        )

    xp = query("SELECT xp FROM languages_lesson_progress WHERE _event_name = ?", "MODIFY")
    assert [Decimal(str(value)) for (value,) in xp] == [Decimal("9007199254740993")]
