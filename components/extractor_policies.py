"""Policy documents of the extractor and its schedule. Pure, tested without Pulumi."""

from __future__ import annotations

from dataclasses import dataclass

from components.policy_documents import (
    RUN_INSIDE_THE_VPC,
    Document,
    policy_document,
    write_own_logs,
)

# Where the extractor keeps each dataset's watermark, in the landing bucket (never loaded: the
# loader is notified for incoming/ only).
STATE_PREFIX = "extract-state/"


@dataclass(frozen=True)
class ExtractorGrants:
    """The resources the extractor may touch, by ARN."""

    bucket_arn: str
    # incoming/<platform>/<dataset>/ of every extracted dataset.
    incoming_prefixes: list[str]
    storage_key_arn: str
    secret_arns: list[str]
    secrets_key_arn: str
    failure_queue_arn: str
    failure_queue_key_arn: str
    log_group_arn: str


def extractor_policy(grants: ExtractorGrants) -> Document:
    """Write the extracted datasets' parts and its own state, read the replica logins and the
    hash key; nothing else."""
    bucket = grants.bucket_arn
    return policy_document(
        {
            "Sid": "WriteExtractedParts",
            "Effect": "Allow",
            "Action": "s3:PutObject",
            "Resource": sorted(f"{bucket}/{prefix}*" for prefix in grants.incoming_prefixes),
        },
        {
            "Sid": "ReadAndWriteWatermarks",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject"],
            "Resource": f"{bucket}/{STATE_PREFIX}*",
        },
        {
            # A first run finds no state: with list rights S3 says 404, not 403.
            "Sid": "TellMissingStateFromDenied",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": bucket,
        },
        {
            "Sid": "UseTheLandingKeyThroughS3",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": grants.storage_key_arn,
        },
        {
            "Sid": "ReadReplicaLoginsAndTheHashKey",
            "Effect": "Allow",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": sorted(grants.secret_arns),
        },
        {
            "Sid": "DecryptTheSecrets",
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": grants.secrets_key_arn,
        },
        {
            "Sid": "SendFailureRecords",
            "Effect": "Allow",
            "Action": "sqs:SendMessage",
            "Resource": grants.failure_queue_arn,
        },
        {
            "Sid": "EncryptFailureRecords",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": grants.failure_queue_key_arn,
        },
        write_own_logs(grants.log_group_arn),
        RUN_INSIDE_THE_VPC,
    )
