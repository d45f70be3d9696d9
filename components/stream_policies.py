"""Policy documents of the change-stream pipeline (Example 2), on both sides of the account
boundary. Pure, tested without Pulumi.

The copier in the platform account writes into the hub's landing bucket, so three documents
must agree: its own role policy (platform account), the landing bucket policy and the landing
key policy (hub account). Cross-account access needs an allow on both sides; the hub's side also
pins the request to the copier's VPC endpoint.
"""

from __future__ import annotations

from dataclasses import dataclass

from components.policy_documents import (
    READ_OBJECT_ACTIONS,
    RUN_INSIDE_THE_VPC,
    Document,
    policy_document,
    write_own_logs,
)

# Write the copy (multipart parts included) and read it back to skip a repeat delivery.
_LANDING_WRITE_ACTIONS = [
    "s3:AbortMultipartUpload",
    "s3:GetObject",
    "s3:ListMultipartUploadParts",
    "s3:PutObject",
    "s3:PutObjectTagging",
]
# What Firehose needs on its destination bucket (AWS's documented set for S3 destinations).
_FIREHOSE_S3_ACTIONS = [
    "s3:AbortMultipartUpload",
    "s3:GetBucketLocation",
    "s3:GetObject",
    "s3:ListBucket",
    "s3:ListBucketMultipartUploads",
    "s3:PutObject",
]
_KINESIS_READ_ACTIONS = [
    "kinesis:DescribeStream",
    "kinesis:DescribeStreamSummary",
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:ListShards",
]
_DYNAMODB_STREAM_READ_ACTIONS = [
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
]


def landing_prefix(platform: str) -> str:
    """Where a platform's copier may write in the landing bucket."""
    return f"incoming/{platform}/"


@dataclass(frozen=True)
class LandingWriter:
    """One platform's copier as the hub sees it."""

    platform: str
    account_id: str
    role_arn: str
    endpoint_id: str


def landing_writer_statements(bucket_arn: str, writer: LandingWriter) -> list[Document]:
    """Bucket policy statements admitting one platform's copier: only its role, only through its
    VPC endpoint, only under `incoming/<platform>/`."""
    prefix = landing_prefix(writer.platform)
    sid = "".join(part.title() for part in writer.platform.split("_"))
    through_endpoint = {"StringEquals": {"aws:SourceVpce": writer.endpoint_id}}
    return [
        {
            "Sid": f"{sid}CopierWritesIncoming",
            "Effect": "Allow",
            "Principal": {"AWS": writer.role_arn},
            "Action": _LANDING_WRITE_ACTIONS,
            "Resource": f"{bucket_arn}/{prefix}*",
            "Condition": through_endpoint,
        },
        {
            # Stolen credentials of the role are useless outside the platform's VPC.
            "Sid": f"{sid}CopierOnlyThroughItsEndpoint",
            "Effect": "Deny",
            "Principal": {"AWS": writer.role_arn},
            "Action": "s3:*",
            "Resource": [bucket_arn, f"{bucket_arn}/*"],
            "Condition": {"StringNotEquals": {"aws:SourceVpce": writer.endpoint_id}},
        },
    ]


def landing_writer_key_statement(writers: list[LandingWriter], region: str) -> Document:
    """Key policy statement letting the copiers encrypt into the landing bucket, through S3 only,
    from their own accounts (multipart uploads also decrypt the data key). The bucket policy
    decides where they write: the bucket is named after the key exists, so the key cannot name
    it."""
    return {
        "Sid": "PlatformCopiersEncryptThroughS3",
        "Effect": "Allow",
        "Principal": {"AWS": sorted(writer.role_arn for writer in writers)},
        "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
        "Resource": "*",
        "Condition": {
            "StringEquals": {
                "kms:CallerAccount": sorted({writer.account_id for writer in writers}),
                "kms:ViaService": f"s3.{region}.amazonaws.com",
            }
        },
    }


def staging_endpoint_policy(
    staging_bucket_arn: str, landing_bucket_arn: str, account_ids: list[str]
) -> Document:
    """The platform VPC's S3 endpoint reaches the two buckets of the copy and nothing else.

    `aws:ResourceAccount` pins the owners too, so a bucket of the same name re-created in another
    account after a deletion is not reachable."""
    buckets = sorted([staging_bucket_arn, landing_bucket_arn])
    return policy_document(
        {
            "Sid": "OnlyTheStagingAndLandingBuckets",
            "Effect": "Allow",
            "Principal": "*",
            "Action": sorted({*READ_OBJECT_ACTIONS, *_LANDING_WRITE_ACTIONS, "s3:ListBucket"}),
            "Resource": [*buckets, *(f"{arn}/*" for arn in buckets)],
            "Condition": {"StringEquals": {"aws:ResourceAccount": sorted(account_ids)}},
        }
    )


@dataclass(frozen=True)
class CopierGrants:
    """The resources the copier may touch, by ARN."""

    staging_bucket_arn: str
    staging_key_arn: str
    landing_bucket_arn: str
    landing_key_arn: str
    platform: str
    failure_queue_arn: str
    log_group_arn: str


def copier_policy(grants: CopierGrants, source_prefixes: list[str]) -> Document:
    """Read the pipeline's files in staging, write them under the platform's landing prefix."""
    staging = grants.staging_bucket_arn
    landing = grants.landing_bucket_arn
    prefix = landing_prefix(grants.platform)
    return policy_document(
        {
            "Sid": "ReadStagedFiles",
            "Effect": "Allow",
            "Action": READ_OBJECT_ACTIONS,
            "Resource": [f"{staging}/{source}*" for source in source_prefixes],
        },
        {
            "Sid": "TellMissingStagedFilesFromDenied",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": staging,
        },
        {
            "Sid": "WriteThePlatformsLandingPrefix",
            "Effect": "Allow",
            "Action": _LANDING_WRITE_ACTIONS,
            "Resource": f"{landing}/{prefix}*",
        },
        {
            # Decrypt what Firehose staged; encrypt what Lambda sends the failure queue (with
            # this role) when a copy gives up.
            "Sid": "UseThePipelineKey",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": grants.staging_key_arn,
        },
        {
            "Sid": "EncryptWithTheLandingKey",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": grants.landing_key_arn,
        },
        _failure_queue_statement(grants.failure_queue_arn),
        write_own_logs(grants.log_group_arn),
        RUN_INSIDE_THE_VPC,
    )


@dataclass(frozen=True)
class ForwarderGrants:
    table_stream_arns: list[str]
    kinesis_stream_arns: list[str]
    key_arn: str
    failure_queue_arn: str
    log_group_arn: str
    # The customer-managed keys of tables encrypted with one: their streams are, too.
    table_key_arns: list[str]


def forwarder_policy(grants: ForwarderGrants) -> Document:
    """Read the tables' DynamoDB streams, put into their Kinesis streams."""
    table_keys = [
        {
            "Sid": "DecryptTheTableStreams",
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": sorted(set(grants.table_key_arns)),
        }
    ]
    return policy_document(
        *(table_keys if grants.table_key_arns else []),
        {
            "Sid": "ReadTheTableStreams",
            "Effect": "Allow",
            "Action": _DYNAMODB_STREAM_READ_ACTIONS,
            "Resource": sorted(grants.table_stream_arns),
        },
        {
            "Sid": "PutIntoTheKinesisStreams",
            "Effect": "Allow",
            "Action": ["kinesis:PutRecord", "kinesis:PutRecords"],
            "Resource": sorted(grants.kinesis_stream_arns),
        },
        {
            "Sid": "EncryptKinesisRecordsAndFailureRecords",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": grants.key_arn,
        },
        _failure_queue_statement(grants.failure_queue_arn),
        write_own_logs(grants.log_group_arn),
    )


@dataclass(frozen=True)
class WriterGrants:
    kinesis_stream_arns: list[str]
    delivery_stream_arns: list[str]
    key_arn: str
    failure_queue_arn: str
    log_group_arn: str


def writer_policy(grants: WriterGrants) -> Document:
    """Read the Kinesis streams, put into their Firehose delivery streams."""
    return policy_document(
        {
            "Sid": "ReadTheKinesisStreams",
            "Effect": "Allow",
            "Action": _KINESIS_READ_ACTIONS,
            "Resource": sorted(grants.kinesis_stream_arns),
        },
        {
            # Lambda's event source mapping lists the account's streams to find its own.
            "Sid": "FindTheKinesisStreams",
            "Effect": "Allow",
            "Action": "kinesis:ListStreams",
            "Resource": "*",
        },
        {
            "Sid": "PutIntoTheDeliveryStreams",
            "Effect": "Allow",
            "Action": ["firehose:PutRecord", "firehose:PutRecordBatch"],
            "Resource": sorted(grants.delivery_stream_arns),
        },
        {
            "Sid": "DecryptKinesisRecordsEncryptFailureMessages",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": grants.key_arn,
        },
        _failure_queue_statement(grants.failure_queue_arn),
        write_own_logs(grants.log_group_arn),
    )


@dataclass(frozen=True)
class DeliveryGrants:
    """What one Firehose delivery stream touches."""

    bucket_arn: str
    prefixes: list[str]
    key_arn: str
    log_group_arn: str
    # Native mode: Firehose reads the Kinesis stream itself.
    source_stream_arn: str | None


def delivery_policy(grants: DeliveryGrants) -> Document:
    """Firehose's role: write its prefixes of the staging bucket, log its errors."""
    statements = [
        {
            "Sid": "WriteStagingObjects",
            "Effect": "Allow",
            "Action": _FIREHOSE_S3_ACTIONS,
            "Resource": [
                grants.bucket_arn,
                *(f"{grants.bucket_arn}/{prefix}*" for prefix in grants.prefixes),
            ],
        },
        {
            "Sid": "UseThePipelineKey",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": grants.key_arn,
        },
        write_own_logs(grants.log_group_arn),
    ]
    if grants.source_stream_arn:
        statements.append(
            {
                "Sid": "ReadTheSourceKinesisStream",
                "Effect": "Allow",
                "Action": _KINESIS_READ_ACTIONS,
                "Resource": grants.source_stream_arn,
            }
        )
    return policy_document(*statements)


def firehose_trust_policy(account_id: str) -> Document:
    """Only Firehose, acting for this account, may assume a delivery stream's role."""
    return policy_document(
        {
            "Effect": "Allow",
            "Principal": {"Service": "firehose.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": account_id}},
        }
    )


def _failure_queue_statement(queue_arn: str) -> Document:
    # Lambda sends on-failure records (of a mapping or an asynchronous event) with the
    # function's own role.
    return {
        "Sid": "SendFailureRecords",
        "Effect": "Allow",
        "Action": "sqs:SendMessage",
        "Resource": queue_arn,
    }
