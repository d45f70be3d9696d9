"""The AWS emulator of the demo: moto in this process (no port, no server, nothing left running),
with the blueprint's resources created in their own accounts.

moto serves the account an assumed role's credentials name, so every client here, and every
function, acts in one account through STS credentials of a role there. moto picks its own ids
for keys, secrets and table streams: `translate` rewrites the ids the program's mocks gave them
(in function environments) into the emulator's.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3
from moto import mock_aws

from functions.catalog import Dataset
from offline.demo.blueprint import Blueprint, DeliveryStream, SourceTable

# Variables that could point a client elsewhere than the emulator, or at real credentials.
_AWS_PREFIXES = ("AWS_",)
# Firehose's default layout, which moto always appends to the prefix it is given: a prefix
# ending in exactly this expression (the program's) then gives Firehose's own keys.
FIREHOSE_HOUR_FOLDERS = "!{timestamp:yyyy/MM/dd/HH}/"
# Who acts in an account outside the functions: a platform's application, an operator.
OPERATOR_ROLE = "reporting-demo-operator"


class EmulatorError(RuntimeError):
    """The blueprint asks for something the emulator cannot play."""


@dataclass
class Emulator:
    """moto's accounts with the blueprint's resources; clients as a role of an account."""

    blueprint: Blueprint
    region: str
    # The mocks' ids (keys, secrets, table streams) -> the emulator's.
    translations: dict[str, str] = field(default_factory=dict)
    # Table name -> its stream's ARN in the emulator.
    table_streams: dict[str, str] = field(default_factory=dict)
    _credentials: dict[str, dict[str, str]] = field(default_factory=dict, init=False)

    def credentials(self, role_arn: str) -> dict[str, str]:
        """Temporary credentials of `role_arn`, which moto serves in the role's account."""
        if role_arn not in self._credentials:
            sts = boto3.client("sts", region_name=self.region)
            found = sts.assume_role(RoleArn=role_arn, RoleSessionName="reporting-demo")
            self._credentials[role_arn] = {
                "aws_access_key_id": found["Credentials"]["AccessKeyId"],
                "aws_secret_access_key": found["Credentials"]["SecretAccessKey"],
                "aws_session_token": found["Credentials"]["SessionToken"],
            }
        return self._credentials[role_arn]

    def client(
        self, service: str, account: str, role_arn: str | None = None, **options: Any
    ) -> Any:
        """A client acting as `role_arn`, or as the demo's operator role of `account`."""
        role = role_arn or f"arn:aws:iam::{account}:role/{OPERATOR_ROLE}"
        return boto3.client(service, region_name=self.region, **self.credentials(role), **options)

    def translate(self, text: str) -> str:
        """`text` with every id the mocks gave a resource replaced by the emulator's."""
        for mocked, emulated in self.translations.items():
            text = text.replace(mocked, emulated)
        return text

    def created(self) -> str:
        """What was created, for the progress line: `3 buckets, 11 keys, ...`."""
        blueprint = self.blueprint
        counts = (
            (len(blueprint.buckets), "bucket"),
            (len(blueprint.keys), "key"),
            (len(blueprint.topics), "topic"),
            (len(blueprint.queues), "queue"),
            (len(blueprint.secrets), "secret"),
            (len(blueprint.source_tables), "table"),
            (len(blueprint.kinesis_streams), "Kinesis stream"),
            (len(blueprint.delivery_streams), "Firehose stream"),
        )
        return ", ".join(f"{n} {kind}{'' if n == 1 else 's'}" for n, kind in counts if n)


@contextmanager
def running_emulator(blueprint: Blueprint) -> Iterator[Emulator]:
    """moto in this process with the blueprint's resources; on exit moto stops, its data is
    dropped and the process's environment is as it was."""
    saved = dict(os.environ)
    for name in list(os.environ):
        if name.startswith(_AWS_PREFIXES):
            del os.environ[name]
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "reporting-demo",
            "AWS_SECRET_ACCESS_KEY": "reporting-demo",
            "AWS_DEFAULT_REGION": blueprint.region,
            # No user's profile or config file: nothing may reach real AWS.
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            # botocore routes DynamoDB Streams to `<account>.streams-ddb...` hosts, which moto
            # does not intercept; the regional endpoint it does.
            "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        }
    )
    boto3.DEFAULT_SESSION = None
    mock = mock_aws()
    mock.start()
    try:
        emulator = Emulator(blueprint, blueprint.region)
        _create(emulator)
        yield emulator
    finally:
        mock.stop()
        os.environ.clear()
        os.environ.update(saved)
        boto3.DEFAULT_SESSION = None


def _create(emulator: Emulator) -> None:
    """Keys first (the others name them), then everything else, each in its account."""
    blueprint = emulator.blueprint
    for key in blueprint.keys:
        created = emulator.client("kms", key.account).create_key(Description=key.label)
        emulator.translations[key.arn] = created["KeyMetadata"]["Arn"]
        emulator.translations[key.arn.rsplit("/", 1)[1]] = created["KeyMetadata"]["KeyId"]
    for bucket in blueprint.buckets:
        s3 = emulator.client("s3", bucket.account)
        s3.create_bucket(
            Bucket=bucket.name,
            CreateBucketConfiguration={"LocationConstraint": emulator.region},
        )
        if bucket.versioned:
            s3.put_bucket_versioning(
                Bucket=bucket.name, VersioningConfiguration={"Status": "Enabled"}
            )
        if bucket.key_arn:
            s3.put_bucket_encryption(
                Bucket=bucket.name,
                ServerSideEncryptionConfiguration={
                    "Rules": [
                        {
                            "ApplyServerSideEncryptionByDefault": {
                                "SSEAlgorithm": "aws:kms",
                                "KMSMasterKeyID": emulator.translate(bucket.key_arn),
                            },
                            "BucketKeyEnabled": True,
                        }
                    ]
                },
            )
    for topic in blueprint.topics:
        arn = emulator.client("sns", topic.account).create_topic(Name=topic.name)["TopicArn"]
        emulator.translations[topic.arn] = arn
    for queue in blueprint.queues:
        url = emulator.client("sqs", queue.account).create_queue(QueueName=queue.name)["QueueUrl"]
        emulator.translations[queue.url] = url
    for secret in blueprint.secrets:
        value = {"SecretString": secret.value} if secret.value is not None else {}
        arn = emulator.client("secretsmanager", secret.account).create_secret(
            Name=secret.name, **value
        )["ARN"]
        emulator.translations[secret.arn] = arn
    for stream in blueprint.kinesis_streams:
        capacity = (
            {"ShardCount": stream.shards}
            if stream.shards
            else {"StreamModeDetails": {"StreamMode": "ON_DEMAND"}}
        )
        emulator.client("kinesis", stream.account).create_stream(StreamName=stream.name, **capacity)
    for delivery in blueprint.delivery_streams:
        _create_delivery_stream(emulator, delivery)
    for table in blueprint.source_tables:
        _create_source_table(emulator, table)
    _verify_report_sender(emulator)


def _create_delivery_stream(emulator: Emulator, delivery: DeliveryStream) -> None:
    """Firehose to S3. moto appends Firehose's default `yyyy/MM/dd/HH/` folders to any prefix
    and evaluates no `!{...}` expression, so the program's prefix is given without its hour
    expression: the objects then land under the keys Firehose itself would write."""
    prefix = delivery.prefix.removesuffix(FIREHOSE_HOUR_FOLDERS)
    if "!{" in prefix:
        raise EmulatorError(f"{delivery.name}: moto evaluates no Firehose prefix expression")
    emulator.client("firehose", delivery.account).create_delivery_stream(
        DeliveryStreamName=delivery.name,
        DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration={
            "RoleARN": delivery.role_arn,
            "BucketARN": delivery.bucket_arn,
            "Prefix": prefix,
        },
    )


def _create_source_table(emulator: Emulator, table: SourceTable) -> None:
    """A platform's table as it exists before the stacks (the README's prerequisite): keyed as
    its dataset's keys, with a stream of new and old images."""
    keys, attributes = _key_schema(emulator.blueprint.catalog.find(table.dataset))
    created = emulator.client("dynamodb", table.account).create_table(
        TableName=table.name,
        KeySchema=keys,
        AttributeDefinitions=attributes,
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    stream_arn = created["TableDescription"]["LatestStreamArn"]
    emulator.table_streams[table.name] = stream_arn
    # The mocks answer with a stream label of their own; any of the table's streams is this one.
    for trigger in emulator.blueprint.stream_triggers:
        if trigger.source_arn.startswith(f"{table.arn}/stream/"):
            emulator.translations[trigger.source_arn] = stream_arn


def _key_schema(dataset: Dataset) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """The table's hash (and range) key: the dataset's keys, by their item attribute names."""
    columns = {column.name: column for column in dataset.columns}
    keys, attributes = [], []
    for key_type, name in zip(("HASH", "RANGE"), dataset.keys, strict=False):
        column = columns[name]
        keys.append({"AttributeName": column.source_field, "KeyType": key_type})
        kind = "N" if column.type in ("integer", "decimal") else "S"
        attributes.append({"AttributeName": column.source_field, "AttributeType": kind})
    return keys, attributes


def _verify_report_sender(emulator: Emulator) -> None:
    """The report server's sender is an SES identity verified beforehand (reporting:reports)."""
    server = emulator.blueprint.report_server
    emulator.client("sesv2", server.account).create_email_identity(
        EmailIdentity=server.environment["REPORT_SENDER"]
    )
