"""The cross-account copier end to end on the emulator, across two accounts: a staging bucket
in the source account, a versioned landing bucket and its KMS key in the hub account, and the
handler running with the source account's credentials.

moto does not enforce ExpectedBucketOwner (nor bucket policies or KMS grants), so the owner
check is asserted on the parameters of every request the copier's client sends the landing
bucket, recorded by a botocore event hook.
"""

from __future__ import annotations

import gzip
import json
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import botocore.exceptions
import pytest
from service_fixtures import account_client, account_credentials

from functions.catalog import CatalogError, catalog_bundle
from functions.cross_account_copier import copier, handler
from functions.cross_account_copier.routing import StagingFileError
from functions.streams.environment import SettingsError

pytestmark = pytest.mark.services

HUB_ACCOUNT = "111100000001"
SOURCE_ACCOUNT = "444400000001"
OTHER_ACCOUNT = "222200000099"
CATALOG_DIR = Path(__file__).resolve().parents[2] / "datasets"
ENVELOPES = "envelopes/lesson_progress/2026/11/26/15/stream-1-2026-11-26-15-00-00-abc.gz"
RECORDS = "records/lesson_progress/2026/11/26/15/native-1-2026-11-26-15-00-00-def.gz"
INCOMING = "incoming/languages/lesson_progress/2026/11/26/15/"
# The parameters the landing bucket must see on every write.
ENCRYPTION = ("ExpectedBucketOwner", "ServerSideEncryption", "SSEKMSKeyId", "BucketKeyEnabled")


@dataclass
class TwoAccounts:
    """The staging bucket (source account) and the landing bucket and key (hub account)."""

    staging: Any
    landing: Any
    staging_bucket: str
    landing_bucket: str
    key_arn: str
    # (operation, parameters) of each request the copier sent the landing bucket.
    landing_requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def stage(self, key: str, body: bytes, **headers: str) -> tuple[str, str]:
        """Uploads to the staging bucket as Firehose would; returns version id and ETag."""
        response = self.staging.put_object(
            Bucket=self.staging_bucket, Key=key, Body=body, **headers
        )
        return response["VersionId"], response["ETag"]

    def landing_keys(self) -> list[str]:
        response = self.landing.list_objects_v2(Bucket=self.landing_bucket)
        return sorted(item["Key"] for item in response.get("Contents", []))

    def landing_versions(self) -> list[str]:
        response = self.landing.list_object_versions(Bucket=self.landing_bucket)
        return [version["Key"] for version in response.get("Versions", [])]

    def read(self, key: str) -> bytes:
        return self.landing.get_object(Bucket=self.landing_bucket, Key=key)["Body"].read()

    def head(self, key: str) -> dict[str, Any]:
        return self.landing.head_object(Bucket=self.landing_bucket, Key=key)

    def landing_writes(self) -> list[tuple[str, dict[str, Any]]]:
        """The recorded requests that create an object."""
        return [
            (operation, parameters)
            for operation, parameters in self.landing_requests
            if operation in ("PutObject", "CopyObject", "CreateMultipartUpload")
        ]


@pytest.fixture
def accounts(aws: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[TwoAccounts]:
    """Both accounts' buckets, and the handler's environment: the source account's
    credentials and settings naming the hub's landing bucket and key."""
    suffix = uuid.uuid4().hex[:10]
    hub = account_credentials(aws, HUB_ACCOUNT)
    source = account_credentials(aws, SOURCE_ACCOUNT)
    landing = account_client(aws, "s3", hub)
    staging = account_client(aws, "s3", source)
    two = TwoAccounts(
        staging=staging,
        landing=landing,
        staging_bucket=f"staging-{suffix}",
        landing_bucket=f"landing-{suffix}",
        key_arn=account_client(aws, "kms", hub).create_key()["KeyMetadata"]["Arn"],
    )
    location = {"LocationConstraint": os.environ["AWS_DEFAULT_REGION"]}
    for client, bucket in ((staging, two.staging_bucket), (landing, two.landing_bucket)):
        client.create_bucket(Bucket=bucket, CreateBucketConfiguration=location)
        client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    bundle = tmp_path / "catalog.json"
    bundle.write_text(catalog_bundle(CATALOG_DIR), encoding="utf-8")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", source["aws_access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", source["aws_secret_access_key"])
    monkeypatch.setenv("AWS_SESSION_TOKEN", source["aws_session_token"])
    monkeypatch.setenv("LANDING_BUCKET", two.landing_bucket)
    monkeypatch.setenv("LANDING_ACCOUNT_ID", HUB_ACCOUNT)
    monkeypatch.setenv("LANDING_KEY_ARN", two.key_arn)
    monkeypatch.setenv("PLATFORM", "languages")
    monkeypatch.setenv("CATALOG_FILE", str(bundle))
    handler.cross_account_copier.cache_clear()
    yield two
    handler.cross_account_copier.cache_clear()


@pytest.fixture
def invoke(
    accounts: TwoAccounts, s3_event: Callable[..., dict[str, Any]], lambda_context: Any
) -> Callable[..., dict[str, Any]]:
    """Runs the handler on the event of a staged object; records its landing requests."""

    def run(key: str, version_id: str, etag: str, size: int = 1) -> dict[str, Any]:
        event = s3_event(accounts.staging_bucket, key, version_id, etag, size)
        s3 = handler.cross_account_copier().s3

        def record(params: dict[str, Any], model: Any, **_: Any) -> None:
            if params.get("Bucket") == accounts.landing_bucket:
                accounts.landing_requests.append((model.name, dict(params)))

        # Last, so the parameters are recorded as the copier's own hook leaves them.
        s3.meta.events.register_last("before-parameter-build.s3", record)
        try:
            return handler.lambda_handler(event, lambda_context)["results"][0]
        finally:
            s3.meta.events.unregister("before-parameter-build.s3", record)

    return run


def native_record(
    event_name: str, keys: dict[str, Any], image: dict[str, Any] | None, created_ms: int
) -> dict[str, Any]:
    """A record as DynamoDB's Kinesis Data Streams destination writes it."""
    change: dict[str, Any] = {
        "ApproximateCreationDateTime": created_ms,
        "ApproximateCreationDateTimePrecision": "MILLISECOND",
        "Keys": keys,
        "SizeBytes": 120,
    }
    if image is not None:
        change["NewImage"] = image
    return {
        "awsRegion": "eu-west-2",
        "eventID": str(uuid.uuid4()),
        "eventName": event_name,
        "userIdentity": None,
        "recordFormat": "application/json",
        "tableName": "LessonProgress",
        "dynamodb": change,
        "eventSource": "aws:dynamodb",
    }


def jsonl_gzip(documents: list[dict[str, Any]]) -> bytes:
    return gzip.compress(b"".join(json.dumps(doc).encode() + b"\n" for doc in documents))


def encryption(accounts: TwoAccounts) -> dict[str, Any]:
    """The ENCRYPTION parameters every landing write must carry."""
    return {
        "ExpectedBucketOwner": HUB_ACCOUNT,
        "ServerSideEncryption": "aws:kms",
        "SSEKMSKeyId": accounts.key_arn,
        "BucketKeyEnabled": True,
    }


def origin(accounts: TwoAccounts, key: str, version_id: str) -> dict[str, str]:
    return {
        "source-bucket": accounts.staging_bucket,
        "source-key": key,
        "source-version": version_id,
    }


def test_envelope_file_is_copied_byte_identical_encrypted_with_the_hub_key(
    accounts, invoke
) -> None:
    # GIVEN a gzip file of change envelopes written by Firehose to the staging bucket, and the
    # handler running as the source account
    assert boto3.client("sts").get_caller_identity()["Account"] == SOURCE_ACCOUNT
    body = gzip.compress(b'{"table":"LessonProgress","eventName":"REMOVE"}\n')
    version_id, etag = accounts.stage(ENVELOPES, body, ContentType="application/octet-stream")

    # WHEN the handler runs on its event
    result = invoke(ENVELOPES, version_id, etag, len(body))

    # THEN the same bytes land under incoming/<platform>/<dataset>/, SSE-KMS with the hub's key
    landing_key = INCOMING + "stream-1-2026-11-26-15-00-00-abc.gz"
    assert result == {
        "status": "copied",
        "source": f"s3://{accounts.staging_bucket}/{ENVELOPES}",
        "version": version_id,
        "destination": f"s3://{accounts.landing_bucket}/{landing_key}",
    }
    assert accounts.landing_keys() == [landing_key]
    assert accounts.read(landing_key) == body
    head = accounts.head(landing_key)
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"] == accounts.key_arn
    assert head["BucketKeyEnabled"] is True
    assert head["Metadata"] == origin(accounts, ENVELOPES, version_id)
    assert head["ContentType"] == "application/octet-stream"
    assert "ContentEncoding" not in head
    # AND the copy was server side, with the owner check on every landing request
    assert [operation for operation, _ in accounts.landing_requests] == [
        "HeadObject",
        "CopyObject",
    ]
    assert all(
        parameters["ExpectedBucketOwner"] == HUB_ACCOUNT
        for _, parameters in accounts.landing_requests
    )
    copy_request = accounts.landing_requests[1][1]
    # (botocore has already written the copy source as its header)
    assert copy_request["CopySource"] == (
        f"{accounts.staging_bucket}/{ENVELOPES}?versionId={version_id}"
    )
    assert copy_request["MetadataDirective"] == "REPLACE"
    assert {name: copy_request[name] for name in ENCRYPTION} == encryption(accounts)


def test_the_same_event_twice_copies_once(accounts, invoke) -> None:
    # GIVEN an envelope file already copied once
    body = gzip.compress(b"{}\n")
    version_id, etag = accounts.stage(ENVELOPES, body)
    first = invoke(ENVELOPES, version_id, etag, len(body))

    # WHEN S3 delivers the same event again
    second = invoke(ENVELOPES, version_id, etag, len(body))

    # THEN the second finds the copy and writes nothing: one version in the landing bucket
    assert first["status"] == "copied"
    assert second == {**first, "status": "already_copied"}
    operations = [operation for operation, _ in accounts.landing_requests]
    assert operations == ["HeadObject", "CopyObject", "HeadObject"]
    assert accounts.landing_versions() == [INCOMING + "stream-1-2026-11-26-15-00-00-abc.gz"]


def test_a_missing_copy_answered_with_403_is_copied(accounts, invoke) -> None:
    # GIVEN the landing bucket answering the copier's HEAD of a missing key with 403, as S3
    # does for a caller that may not list the bucket (the copier may not; moto answers 404)
    def forbidden(params: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name == "HeadObject" and params.get("Bucket") == accounts.landing_bucket:
            raise botocore.exceptions.ClientError(
                {"Error": {"Code": "403", "Message": "Forbidden"}}, "HeadObject"
            )

    s3 = handler.cross_account_copier().s3
    s3.meta.events.register("before-parameter-build.s3.HeadObject", forbidden)
    body = gzip.compress(b"{}\n")
    try:
        # WHEN the event arrives
        result = invoke(ENVELOPES, *accounts.stage(ENVELOPES, body), len(body))
    finally:
        s3.meta.events.unregister("before-parameter-build.s3.HeadObject", forbidden)

    # THEN the file is copied (were access really denied, the copy itself would fail)
    assert result["status"] == "copied"
    assert accounts.read(INCOMING + "stream-1-2026-11-26-15-00-00-abc.gz") == body


def test_a_new_version_of_the_staging_key_is_copied_again(accounts, invoke) -> None:
    # GIVEN a staging key copied, then overwritten
    invoke(ENVELOPES, *accounts.stage(ENVELOPES, gzip.compress(b"{}\n")))
    body = gzip.compress(b'{"second":1}\n')
    version_id, etag = accounts.stage(ENVELOPES, body)

    # WHEN the handler runs on the new version's event
    result = invoke(ENVELOPES, version_id, etag)

    # THEN it is copied over the first: a second landing version
    assert result["status"] == "copied"
    landing_key = INCOMING + "stream-1-2026-11-26-15-00-00-abc.gz"
    assert accounts.landing_versions() == [landing_key, landing_key]
    assert accounts.read(landing_key) == body


def test_native_records_are_converted_to_envelopes_of_declared_attributes(accounts, invoke) -> None:
    # GIVEN DynamoDB Kinesis-destination records, with attributes the dataset does not declare
    keys = {"learnerId": {"N": "7"}, "lessonId": {"S": "fr-101"}}
    image = {
        **keys,
        "xp": {"N": "120"},
        "streakDays": {"N": "3"},
        "completedAt": {"S": "2026-11-26T15:00:00Z"},
        "email": {"S": "learner@example.com"},
        "notes": {"L": [{"S": "private"}]},
    }
    body = jsonl_gzip(
        [
            native_record("INSERT", keys, image, 1795705200123),
            native_record("MODIFY", keys, {**image, "xp": {"N": "130.5"}}, 1795705201000),
            native_record("REMOVE", keys, None, 1795705202999),
        ]
    )
    version_id, etag = accounts.stage(RECORDS, body)

    # WHEN the handler runs on its event
    result = invoke(RECORDS, version_id, etag, len(body))

    # THEN one envelope per record lands, with only the declared attributes
    landing_key = INCOMING + "native-1-2026-11-26-15-00-00-def.gz"
    assert result == {
        "status": "converted",
        "source": f"s3://{accounts.staging_bucket}/{RECORDS}",
        "version": version_id,
        "destination": f"s3://{accounts.landing_bucket}/{landing_key}",
        "envelopes": 3,
    }
    lines = gzip.decompress(accounts.read(landing_key)).decode().splitlines()
    declared = {"learnerId": 7, "lessonId": "fr-101", "streakDays": 3}
    completed = {"completedAt": "2026-11-26T15:00:00Z"}
    assert [json.loads(line) for line in lines] == [
        {
            "table": "LessonProgress",
            "eventName": "INSERT",
            "keys": {"learnerId": 7, "lessonId": "fr-101"},
            "newImage": {**declared, "xp": 120, **completed},
            "approximateCreationTime": "2026-11-26T15:00:00.123000Z",
            "sequenceNumber": "1795705200123000",
        },
        {
            "table": "LessonProgress",
            "eventName": "MODIFY",
            "keys": {"learnerId": 7, "lessonId": "fr-101"},
            "newImage": {**declared, "xp": 130.5, **completed},
            "approximateCreationTime": "2026-11-26T15:00:01.000000Z",
            "sequenceNumber": "1795705201000000",
        },
        {
            "table": "LessonProgress",
            "eventName": "REMOVE",
            "keys": {"learnerId": 7, "lessonId": "fr-101"},
            "newImage": None,
            "approximateCreationTime": "2026-11-26T15:00:02.999000Z",
            "sequenceNumber": "1795705202999000",
        },
    ]
    head = accounts.head(landing_key)
    assert head["Metadata"] == origin(accounts, RECORDS, version_id)
    assert head["ContentType"] == "application/x-ndjson"
    assert head["ContentEncoding"] == "gzip"
    assert head["SSEKMSKeyId"] == accounts.key_arn
    assert accounts.landing_writes() == [("PutObject", accounts.landing_writes()[0][1])]
    put = accounts.landing_writes()[0][1]
    assert {name: put[name] for name in ENCRYPTION} == encryption(accounts)


@pytest.mark.parametrize(
    ("bad_line", "error"),
    [
        (b'{"eventName": "INSERT", ', "not valid JSON (Expecting property name enclosed"),
        (b'["a list"]', "not a JSON object"),
        (
            json.dumps({"eventName": "UPSERT", "tableName": "T", "dynamodb": {}}).encode(),
            "eventName 'UPSERT' is not INSERT, MODIFY or REMOVE",
        ),
    ],
)
def test_a_native_file_with_a_bad_line_fails_naming_key_and_line_and_writes_nothing(
    accounts, invoke, bad_line, error
) -> None:
    # GIVEN a records file whose third line is bad
    good = json.dumps(
        native_record("REMOVE", {"learnerId": {"N": "1"}, "lessonId": {"S": "a"}}, None, 1)
    ).encode()
    body = gzip.compress(good + b"\n\n" + bad_line + b"\n" + good + b"\n")
    version_id, etag = accounts.stage(RECORDS, body)

    # WHEN the handler runs, THEN it raises naming the source key and the line
    with pytest.raises(StagingFileError) as raised:
        invoke(RECORDS, version_id, etag, len(body))

    assert str(raised.value).startswith(
        f"s3://{accounts.staging_bucket}/{RECORDS}, line 3: {error}"
    )
    # AND nothing reached the landing bucket
    assert accounts.landing_versions() == []
    assert accounts.landing_writes() == []


def test_a_records_file_that_is_not_gzip_fails_naming_it(accounts, invoke) -> None:
    version_id, etag = accounts.stage(RECORDS, b'{"plain": "json"}\n')

    with pytest.raises(StagingFileError) as raised:
        invoke(RECORDS, version_id, etag)

    assert str(raised.value) == (
        f"s3://{accounts.staging_bucket}/{RECORDS}, line 1: "
        "corrupt gzip data (Not a gzipped file (b'{\"'))"
    )
    assert accounts.landing_versions() == []


@pytest.mark.parametrize(
    "key",
    [
        "errors/processing-failed/2026/11/26/15/failed-1.gz",
        "lesson_progress/2026/11/26/stray.gz",
        "envelopes/lesson_progress/",
    ],
)
def test_keys_outside_the_pipeline_prefixes_are_skipped(accounts, invoke, key) -> None:
    # GIVEN a file Firehose wrote under errors/ (or another key the pipeline does not write)
    version_id, etag = accounts.stage(key, b"failed records")

    # WHEN the handler runs on its event
    result = invoke(key, version_id, etag)

    # THEN it is skipped: not one request to the landing bucket
    assert result == {"status": "skipped", "source": f"s3://{accounts.staging_bucket}/{key}"}
    assert accounts.landing_requests == []
    assert accounts.landing_versions() == []


def test_an_unknown_dataset_fails_naming_it(accounts, invoke) -> None:
    key = "envelopes/lesson_plans/2026/11/26/f.gz"
    version_id, etag = accounts.stage(key, gzip.compress(b"{}\n"))

    with pytest.raises(StagingFileError) as raised:
        invoke(key, version_id, etag)

    assert str(raised.value) == f"{key}: no dataset languages/lesson_plans in the catalog"
    assert accounts.landing_versions() == []


def test_a_dataset_that_is_not_a_change_stream_fails_naming_it(accounts, invoke) -> None:
    key = "envelopes/learners/2026/11/26/f.gz"
    version_id, etag = accounts.stage(key, gzip.compress(b"{}\n"))

    with pytest.raises(StagingFileError) as raised:
        invoke(key, version_id, etag)

    assert str(raised.value) == f"{key}: dataset languages/learners is csv, not dynamodb-stream"


def test_url_encoded_event_keys_are_decoded(accounts, invoke) -> None:
    # GIVEN a key with a space, a plus sign and a non-ASCII letter (the event encodes all three)
    key = "envelopes/lesson_progress/2026 11/a+b é.gz"
    body = gzip.compress(b"{}\n")
    version_id, etag = accounts.stage(key, body)

    # WHEN the handler runs on its event
    result = invoke(key, version_id, etag, len(body))

    # THEN the decoded key lands; the metadata keeps it percent-encoded (S3 metadata is ASCII)
    assert result["status"] == "copied"
    assert accounts.landing_keys() == ["incoming/languages/lesson_progress/2026 11/a+b é.gz"]
    metadata = accounts.head(accounts.landing_keys()[0])["Metadata"]
    assert metadata["source-key"] == "envelopes/lesson_progress/2026%2011/a%2Bb%20%C3%A9.gz"


def test_the_configured_landing_account_goes_with_every_landing_request(
    accounts, invoke, monkeypatch
) -> None:
    # GIVEN a LANDING_ACCOUNT_ID that does not own the landing bucket (and a key "in" it)
    monkeypatch.setenv("LANDING_ACCOUNT_ID", OTHER_ACCOUNT)
    wrong_key = accounts.key_arn.replace(HUB_ACCOUNT, OTHER_ACCOUNT)
    monkeypatch.setenv("LANDING_KEY_ARN", wrong_key)
    envelopes = accounts.stage(ENVELOPES, gzip.compress(b"{}\n"))
    records = accounts.stage(RECORDS, gzip.compress(b""))

    # WHEN the handler copies one file and converts another
    invoke(ENVELOPES, *envelopes)
    invoke(RECORDS, *records)

    # THEN every landing request asked S3 to check that account owns the bucket: S3 answers
    # 403 to each (moto does not check, so the copies succeed here)
    operations = [operation for operation, _ in accounts.landing_requests]
    assert operations == ["HeadObject", "CopyObject", "HeadObject", "PutObject"]
    assert [parameters["ExpectedBucketOwner"] for _, parameters in accounts.landing_requests] == [
        OTHER_ACCOUNT
    ] * 4
    assert [parameters["SSEKMSKeyId"] for _, parameters in accounts.landing_writes()] == [
        wrong_key
    ] * 2


def test_a_large_records_file_streams_through_disk_and_a_multipart_upload(
    accounts, invoke, monkeypatch
) -> None:
    # GIVEN a records file whose envelopes outgrow the spool's memory and the upload's part
    monkeypatch.setattr(copier, "SPOOL_MEMORY_BYTES", 256 * 1024)
    monkeypatch.setattr(copier, "UPLOAD_PART_BYTES", 1024 * 1024)
    spools = spy_on_spooled_files(monkeypatch)
    documents = [
        native_record(
            "INSERT",
            {"learnerId": {"N": str(number)}, "lessonId": {"S": uuid.uuid4().hex}},
            {
                "learnerId": {"N": str(number)},
                "lessonId": {"S": uuid.uuid4().hex},
                "completedAt": {"S": uuid.uuid4().hex},
                "padding": {"S": "x" * 500},
            },
            1795705200000 + number,
        )
        for number in range(30_000)
    ]
    body = jsonl_gzip(documents)
    version_id, etag = accounts.stage(RECORDS, body)

    # WHEN the handler runs on its event
    result = invoke(RECORDS, version_id, etag, len(body))

    # THEN the spool went to disk, the upload was multipart, and every record landed in order
    assert result["status"] == "converted"
    assert result["envelopes"] == 30_000
    assert [spool.rolled_over for spool in spools] == [True]
    assert [operation for operation, _ in accounts.landing_writes()] == ["CreateMultipartUpload"]
    create = accounts.landing_writes()[0][1]
    assert {name: create[name] for name in ENCRYPTION} == encryption(accounts)
    assert {operation for operation, _ in accounts.landing_requests} == {
        "HeadObject",
        "CreateMultipartUpload",
        "UploadPart",
        "CompleteMultipartUpload",
    }
    assert all(
        parameters["ExpectedBucketOwner"] == HUB_ACCOUNT
        for _, parameters in accounts.landing_requests
    )
    landed = accounts.read(INCOMING + "native-1-2026-11-26-15-00-00-def.gz")
    assert len(landed) > 1024 * 1024
    envelopes = [json.loads(line) for line in gzip.decompress(landed).splitlines()]
    assert [envelope["sequenceNumber"] for envelope in envelopes] == [
        str((1795705200000 + number) * 1000) for number in range(30_000)
    ]
    assert all("padding" not in envelope["newImage"] for envelope in envelopes)


def spy_on_spooled_files(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The SpooledTemporaryFiles the copier makes, each knowing whether it rolled over."""
    made: list[Any] = []

    class RecordedSpool(copier.SpooledTemporaryFile):
        rolled_over = False

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            made.append(self)

        def rollover(self) -> None:
            if not self._rolled:
                self.rolled_over = True
            super().rollover()

    monkeypatch.setattr(copier, "SpooledTemporaryFile", RecordedSpool)
    return made


@pytest.mark.emulator_needs("cross-account-part-copy")
def test_an_envelope_file_above_the_copy_limit_is_copied_in_parts(
    accounts, invoke, monkeypatch
) -> None:
    # GIVEN an envelope file above the (lowered) CopyObject limit: two 5 MiB parts
    monkeypatch.setattr(copier, "COPY_OBJECT_LIMIT", 1024 * 1024)
    monkeypatch.setattr(copier, "COPY_PART_BYTES", 5 * 1024 * 1024)
    body = gzip.compress(os.urandom(6 * 1024 * 1024))
    version_id, etag = accounts.stage(ENVELOPES, body)

    # WHEN the handler runs on its event
    result = invoke(ENVELOPES, version_id, etag, len(body))

    # THEN the copy is multipart, server side, and lands the same bytes with the same metadata
    assert result["status"] == "copied"
    landing_key = INCOMING + "stream-1-2026-11-26-15-00-00-abc.gz"
    assert accounts.read(landing_key) == body
    head = accounts.head(landing_key)
    assert head["Metadata"] == origin(accounts, ENVELOPES, version_id)
    assert head["SSEKMSKeyId"] == accounts.key_arn
    operations = [operation for operation, _ in accounts.landing_requests]
    assert operations == [
        "HeadObject",
        "CreateMultipartUpload",
        "UploadPartCopy",
        "UploadPartCopy",
        "CompleteMultipartUpload",
    ]
    assert all(
        parameters["ExpectedBucketOwner"] == HUB_ACCOUNT
        for _, parameters in accounts.landing_requests
    )
    parts = [params for operation, params in accounts.landing_requests[2:4]]
    assert [part["CopySource"] for part in parts] == [
        f"{accounts.staging_bucket}/{ENVELOPES}?versionId={version_id}"
    ] * 2


def test_an_event_without_a_version_id_fails(accounts, invoke) -> None:
    # GIVEN an event of an unversioned staging bucket
    _, etag = accounts.stage(ENVELOPES, gzip.compress(b"{}\n"))

    with pytest.raises(StagingFileError) as raised:
        invoke(ENVELOPES, None, etag)

    assert str(raised.value) == (
        f"s3://{accounts.staging_bucket}/{ENVELOPES}: no version id; "
        "the staging bucket is not versioned"
    )


def test_a_platform_without_datasets_fails_at_the_first_invocation(
    accounts, invoke, monkeypatch
) -> None:
    monkeypatch.setenv("PLATFORM", "geography")

    with pytest.raises(SettingsError) as raised:
        invoke(ENVELOPES, *accounts.stage(ENVELOPES, b""))

    assert str(raised.value).startswith(
        "environment variable PLATFORM: 'geography' has no datasets in "
    )


def test_a_missing_catalog_bundle_fails_naming_it(accounts, invoke, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("CATALOG_FILE", str(tmp_path / "absent.json"))

    with pytest.raises(CatalogError, match=r"absent\.json: cannot read the catalog bundle"):
        invoke(ENVELOPES, *accounts.stage(ENVELOPES, b""))
