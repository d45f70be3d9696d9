"""IAM, key, bucket and endpoint policy documents as plain dicts. Pure, tested without Pulumi."""

from __future__ import annotations

from typing import Any

Document = dict[str, Any]

_KEY_ADMIN_ACTIONS = [
    "kms:CancelKeyDeletion",
    "kms:Create*",
    "kms:Delete*",
    "kms:Describe*",
    "kms:Disable*",
    "kms:Enable*",
    "kms:Get*",
    "kms:List*",
    "kms:Put*",
    "kms:Revoke*",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:Update*",
]
_KEY_USE_ACTIONS = [
    "kms:CreateGrant",
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey*",
    "kms:ReEncrypt*",
]
# What the loader, extractor and copier do with objects; no bucket administration.
_ENDPOINT_S3_ACTIONS = [
    "s3:AbortMultipartUpload",
    "s3:DeleteObject",
    "s3:GetBucketLocation",
    "s3:GetObject",
    "s3:GetObjectVersion",
    "s3:ListBucket",
    "s3:ListBucketVersions",
    "s3:ListMultipartUploadParts",
    "s3:PutObject",
]


def _document(*statements: Document) -> Document:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def service_key_policy(account_id: str, region: str, services: list[str]) -> Document:
    """A CMK the account administers through IAM, usable only through the named AWS services.

    The account root principal delegates administration to IAM (so the key cannot be orphaned);
    data use requires `kms:ViaService`, so no principal can decrypt outside those services.
    """
    root = f"arn:aws:iam::{account_id}:root"
    return _document(
        {
            "Sid": "AccountAdministersKeyThroughIam",
            "Effect": "Allow",
            "Principal": {"AWS": root},
            "Action": _KEY_ADMIN_ACTIONS,
            "Resource": "*",
        },
        {
            "Sid": "UseOnlyThroughNamedServices",
            "Effect": "Allow",
            "Principal": {"AWS": root},
            "Action": _KEY_USE_ACTIONS,
            "Resource": "*",
            "Condition": {
                "StringEquals": {
                    "kms:CallerAccount": account_id,
                    "kms:ViaService": sorted(
                        f"{service}.{region}.amazonaws.com" for service in services
                    ),
                }
            },
        },
    )


def secure_bucket_policy(bucket_arn: str, key_arn: str) -> Document:
    """Refuse plain HTTP, TLS older than 1.2, and uploads encrypted with any other key."""
    everything = [bucket_arn, f"{bucket_arn}/*"]
    return _document(
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": everything,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
        {
            "Sid": "DenyOutdatedTls",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": everything,
            "Condition": {"NumericLessThan": {"s3:TlsVersion": "1.2"}},
        },
        {
            "Sid": "DenyOtherEncryptionKeys",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:PutObject",
            "Resource": f"{bucket_arn}/*",
            "Condition": {
                "StringNotEqualsIfExists": {
                    "s3:x-amz-server-side-encryption-aws-kms-key-id": key_arn
                }
            },
        },
    )


def own_account_s3_endpoint_policy(account_id: str) -> Document:
    """Through the VPC's S3 endpoint, reach only buckets of this account (no exfiltration path)."""
    return _document(
        {
            "Sid": "OnlyThisAccountsBuckets",
            "Effect": "Allow",
            "Principal": "*",
            "Action": _ENDPOINT_S3_ACTIONS,
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:ResourceAccount": account_id}},
        }
    )


def deny_promote_policy(replica_arns: list[str]) -> Document:
    """The case study's guard: the reporting replicas can never be promoted to primaries."""
    return _document(
        {
            "Sid": "ReportingReplicasAreNeverPromoted",
            "Effect": "Deny",
            "Action": ["rds:PromoteReadReplica"],
            "Resource": sorted(replica_arns),
        }
    )
