"""Keys rotate; streams, queues, topics and log groups are encrypted with a customer managed
key; logs expire."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policy.rules.databases import customer_managed_key_problem
from policy.rules.values import is_set, is_unknown, lookup, shown

KMS_KEY = "aws:kms/key:Key"
KINESIS_STREAM = "aws:kinesis/stream:Stream"
FIREHOSE = "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream"
SQS_QUEUE = "aws:sqs/queue:Queue"
SNS_TOPIC = "aws:sns/topic:Topic"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
# AWS rotates symmetric encryption keys only; asymmetric and HMAC keys cannot rotate. An
# aws.kms.Key names its spec in `customerMasterKeySpec` (SYMMETRIC_DEFAULT when left out).
ROTATABLE_KEY_SPEC = "SYMMETRIC_DEFAULT"
# Firehose destinations that write S3 objects, and where each keeps its S3 settings.
_S3_DESTINATIONS = {"extended_s3": "extendedS3Configuration", "s3": "s3Configuration"}


def kms_key_rotation_enabled(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """A symmetric CMK has `enableKeyRotation` true: a key in use for years is a key whose
    material has had years to leak."""
    if resource_type != KMS_KEY:
        return []
    spec = props.get("customerMasterKeySpec")
    if is_unknown(spec) or (spec is not None and spec != ROTATABLE_KEY_SPEC):
        return []
    rotation = props.get("enableKeyRotation")
    if is_unknown(rotation) or rotation is True:
        return []
    return ["enableKeyRotation is not true: the key material would never rotate"]


def kinesis_stream_encrypted(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """`encryptionType` "KMS" with a customer managed key: records rest encrypted."""
    if resource_type != KINESIS_STREAM:
        return []
    kind = props.get("encryptionType")
    if not is_unknown(kind) and kind != "KMS":
        return [f"encryptionType is {shown(kind)}: the stream's records would rest in clear"]
    return customer_managed_key_problem("kmsKeyId", props.get("kmsKeyId"))


def firehose_encrypted(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """What Firehose buffers is encrypted: by its Kinesis source stream (the stream rule judges
    that stream), or for Direct PUT by `serverSideEncryption` with a customer managed key; and
    the S3 objects it writes carry a KMS key (`kmsKeyArn` of the S3 configuration)."""
    if resource_type != FIREHOSE:
        return []
    problems = []
    if not is_set(props.get("kinesisSourceConfiguration")):
        encryption = props.get("serverSideEncryption")
        enabled = lookup(encryption, "enabled")
        key_type = lookup(encryption, "keyType")
        if not is_unknown(enabled) and enabled is not True:
            problems.append(
                "serverSideEncryption.enabled is not true: a Direct PUT stream would buffer "
                "records in clear"
            )
        elif not is_unknown(key_type) and key_type != "CUSTOMER_MANAGED_CMK":
            problems.append(
                f"serverSideEncryption.keyType is {key_type!r}: the buffer must use a "
                "customer managed key (CUSTOMER_MANAGED_CMK)"
            )
        elif not is_unknown(key_type):
            problems += customer_managed_key_problem(
                "serverSideEncryption.keyArn", lookup(encryption, "keyArn")
            )
    destination = props.get("destination")
    if destination in _S3_DESTINATIONS:
        setting = _S3_DESTINATIONS[destination]
        problems += customer_managed_key_problem(
            f"{setting}.kmsKeyArn", lookup(props, setting, "kmsKeyArn")
        )
    return problems


def sqs_queue_encrypted(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """`kmsMasterKeyId` (a CMK), or at least `sqsManagedSseEnabled`."""
    if resource_type != SQS_QUEUE:
        return []
    if is_set(props.get("kmsMasterKeyId")):
        return customer_managed_key_problem("kmsMasterKeyId", props.get("kmsMasterKeyId"))
    managed = props.get("sqsManagedSseEnabled")
    if is_unknown(managed) or managed is True:
        return []
    return ["neither kmsMasterKeyId nor sqsManagedSseEnabled is set: messages would rest in clear"]


def sns_topic_encrypted(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """`kmsMasterKeyId` names a CMK: alert texts carry table and file names."""
    if resource_type != SNS_TOPIC:
        return []
    return customer_managed_key_problem("kmsMasterKeyId", props.get("kmsMasterKeyId"))


def log_group_encrypted(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """`kmsKeyId` names a CMK: logs carry identifiers and error texts."""
    if resource_type != LOG_GROUP:
        return []
    return customer_managed_key_problem("kmsKeyId", props.get("kmsKeyId"))


def log_group_retention_set(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """`retentionInDays` is set: by default CloudWatch keeps logs (and bills them) forever."""
    if resource_type != LOG_GROUP:
        return []
    days = props.get("retentionInDays")
    if is_unknown(days) or (isinstance(days, int | float) and days > 0):
        return []
    return [f"retentionInDays is {shown(days)}: the logs would be kept forever"]
