"""An S3 bucket with every baseline control: KMS encryption, no public access, TLS only,
owner-enforced objects, versioning and lifecycle expiry."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.policy_documents import Document, secure_bucket_policy


@dataclass(frozen=True)
class ExpiringPrefix:
    """Objects under `prefix` are deleted `days` after creation."""

    prefix: str
    days: int


@dataclass(frozen=True)
class SecureBucketArgs:
    key_arn: pulumi.Input[str]
    expiring_prefixes: list[ExpiringPrefix]
    noncurrent_version_expiry_days: int
    tags: dict[str, str]
    # Statements beyond the baseline, built from the bucket's ARN (cross-account writers).
    extra_statements: Callable[[pulumi.Output[str]], pulumi.Input[list[Document]]] | None = None


class SecureBucket(pulumi.ComponentResource):
    """A private, encrypted, versioned bucket."""

    bucket_name: pulumi.Output[str]
    arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: SecureBucketArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("reporting:storage:SecureBucket", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        bucket = aws.s3.Bucket(f"{name}-bucket", tags=args.tags, opts=child)
        aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=bucket.id,
            rule={"object_ownership": "BucketOwnerEnforced"},
            opts=child,
        )
        public_access = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=bucket.id,
            rules=[
                {
                    "apply_server_side_encryption_by_default": {
                        "sse_algorithm": "aws:kms",
                        "kms_master_key_id": args.key_arn,
                    },
                    # Bucket keys cut KMS requests (and their cost) by orders of magnitude.
                    "bucket_key_enabled": True,
                }
            ],
            opts=child,
        )
        versioning = aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=bucket.id,
            versioning_configuration={"status": "Enabled"},
            opts=child,
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=bucket.id,
            rules=_lifecycle_rules(args),
            # Lifecycle rules on noncurrent versions need versioning switched on first.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[versioning]),
        )
        aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=bucket.id,
            policy=pulumi.Output.json_dumps(
                pulumi.Output.all(
                    bucket.arn,
                    args.key_arn,
                    args.extra_statements(bucket.arn) if args.extra_statements else [],
                ).apply(
                    lambda values: _with_statements(
                        secure_bucket_policy(values[0], values[1]), values[2]
                    )
                )
            ),
            # S3 rejects a policy while the public access block is still being applied.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[public_access]),
        )
        self.bucket_name = bucket.bucket
        self.arn = bucket.arn
        self.register_outputs({"bucket_name": self.bucket_name, "arn": self.arn})


def _with_statements(policy: Document, statements: list[Document]) -> Document:
    return {**policy, "Statement": [*policy["Statement"], *statements]}


def _lifecycle_rules(args: SecureBucketArgs) -> list[dict]:
    rules: list[dict] = [
        {
            "id": f"expire-{prefix.prefix.strip('/').replace('/', '-')}",
            "status": "Enabled",
            "filter": {"prefix": prefix.prefix},
            "expiration": {"days": prefix.days},
        }
        for prefix in args.expiring_prefixes
    ]
    rules.append(
        {
            "id": "housekeeping",
            "status": "Enabled",
            "filter": {},
            "noncurrent_version_expiration": {
                "noncurrent_days": args.noncurrent_version_expiry_days
            },
            "abort_incomplete_multipart_upload": {"days_after_initiation": 7},
            "expiration": {"expired_object_delete_marker": True},
        }
    )
    return rules
