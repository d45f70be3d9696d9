"""The security rules of the reporting platform, as plain functions both runners share: the
CrossGuard policy pack (`policy/__main__.py`, at `pulumi preview --policy-pack policy`) and
pytest on the mocked graph of every stack file (`tests/unit/test_policy_stacks.py`).

A resource rule takes a resource's type and properties (engine input names, camelCase) and
returns its violations, [] when it passes or does not apply. A stack rule takes the whole graph
and returns violations naming the resource. `values.UNKNOWN` marks what a preview cannot know
yet: a rule reports nothing it cannot tell, but does report a required setting that is absent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from policy.rules import compute, databases, encryption, iam, network, storage, tags
from policy.rules.graph import GraphResource, StackViolation
from policy.rules.values import UNKNOWN

ResourceCheck = Callable[[str, Mapping[str, Any]], list[str]]
StackCheck = Callable[[Sequence[GraphResource]], list[StackViolation]]


@dataclass(frozen=True)
class ResourceRule:
    name: str
    description: str
    check: ResourceCheck


@dataclass(frozen=True)
class StackRule:
    name: str
    description: str
    check: StackCheck


RESOURCE_RULES: tuple[ResourceRule, ...] = (
    ResourceRule(
        "rds-storage-encrypted-with-cmk",
        "RDS primaries encrypt storage with a customer managed key (replicas inherit it).",
        databases.rds_storage_encrypted_with_cmk,
    ),
    ResourceRule(
        "rds-backups-enabled",
        "RDS primaries keep automated backups for at least a day.",
        databases.rds_backups_enabled,
    ),
    ResourceRule(
        "rds-not-public",
        "No RDS instance is publicly accessible.",
        databases.rds_not_public,
    ),
    ResourceRule(
        "ec2-imdsv2-required",
        "EC2 instances require IMDSv2 session tokens.",
        compute.ec2_imdsv2_required,
    ),
    ResourceRule(
        "ebs-encrypted-with-cmk",
        "Instance root and EBS block devices, and EBS volumes, are encrypted with a CMK.",
        compute.ec2_volumes_encrypted_with_cmk,
    ),
    ResourceRule(
        "ec2-no-public-ip",
        "EC2 instances get no public address, except the one tagged Access: ssh-bastion.",
        compute.ec2_no_public_ip,
    ),
    ResourceRule(
        "lambda-permission-source-arn",
        "Lambda permissions name the invoking resource (sourceArn).",
        compute.lambda_permission_has_source_arn,
    ),
    ResourceRule(
        "kms-key-rotation",
        "Symmetric KMS keys rotate yearly.",
        encryption.kms_key_rotation_enabled,
    ),
    ResourceRule(
        "kinesis-stream-encrypted",
        "Kinesis streams encrypt records with a customer managed key.",
        encryption.kinesis_stream_encrypted,
    ),
    ResourceRule(
        "firehose-encrypted",
        "Firehose buffers are encrypted (by the Kinesis source or a CMK) and S3 output uses a "
        "KMS key.",
        encryption.firehose_encrypted,
    ),
    ResourceRule(
        "sqs-queue-encrypted",
        "SQS queues are encrypted (a CMK, or SQS-managed SSE).",
        encryption.sqs_queue_encrypted,
    ),
    ResourceRule(
        "sns-topic-encrypted",
        "SNS topics are encrypted with a customer managed key.",
        encryption.sns_topic_encrypted,
    ),
    ResourceRule(
        "log-group-encrypted",
        "CloudWatch log groups are encrypted with a customer managed key.",
        encryption.log_group_encrypted,
    ),
    ResourceRule(
        "log-group-retention",
        "CloudWatch log groups expire their logs.",
        encryption.log_group_retention_set,
    ),
    ResourceRule(
        "security-group-no-world-ingress",
        "No security group admits 0.0.0.0/0 or ::/0.",
        network.security_group_no_world_ingress,
    ),
    ResourceRule(
        "security-group-database-ports-private",
        "Database ports are open only to RFC 1918 ranges or security groups.",
        network.security_group_database_ports_private,
    ),
    ResourceRule(
        "iam-no-wildcard-actions",
        'No IAM or key policy allows "*", "<service>:*" or NotAction.',
        iam.iam_no_wildcard_actions,
    ),
    ResourceRule(
        "iam-no-wildcard-resources",
        'IAM policies grant Resource "*" only for the few actions tolerated there, never data.',
        iam.iam_no_wildcard_resources,
    ),
    ResourceRule(
        "s3-bucket-policy-tls-only",
        "Bucket policies deny plain HTTP on the bucket and every object in it.",
        storage.bucket_policy_tls_only,
    ),
    ResourceRule(
        "required-tags",
        "Every taggable resource carries Project, Environment, Platform and Owner.",
        tags.required_tags,
    ),
)

STACK_RULES: tuple[StackRule, ...] = (
    StackRule(
        "s3-bucket-fully-protected",
        "Every bucket has KMS encryption with a CMK, a full public access block, "
        "BucketOwnerEnforced and a TLS-only policy beside it.",
        storage.buckets_fully_protected,
    ),
    StackRule(
        "rds-replica-promote-guard",
        "Every read replica has a sibling IAM policy denying rds:PromoteReadReplica on it, "
        "attached to a role.",
        databases.replicas_have_promote_guard,
    ),
    StackRule(
        "ssh-bastion-confined",
        "The SSH bastion's own security group admits TCP 22 from named ranges only.",
        network.ssh_bastion_confined,
    ),
)

__all__ = [
    "RESOURCE_RULES",
    "STACK_RULES",
    "UNKNOWN",
    "GraphResource",
    "ResourceRule",
    "StackRule",
    "StackViolation",
]
