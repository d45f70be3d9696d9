"""Each security rule of `policy.rules`, on hand-made resources: a good one passes, a bad one
fails with a message naming the problem, and a value unknown at preview is no violation. Every
registered rule has a failing case here, so none can pass the stacks vacuously."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from components.policy_documents import (
    RUN_INSIDE_THE_VPC,
    deny_promote_policy,
    policy_document,
    secure_bucket_policy,
    service_key_policy,
)
from components.tags import base_tags
from policy.rules import RESOURCE_RULES, STACK_RULES, UNKNOWN, GraphResource
from policy.rules.tags import REQUIRED_TAGS, is_taggable
from tests.stack_helpers import parsed_config

WORLD = "0.0.0.0/0"
KEY = "arn:aws:kms:eu-west-2:111100000001:key/0b1c2d3e-0000-4000-a000-000000000001"
TAGS = {
    "Project": "reporting-platform",
    "Environment": "dev",
    "Platform": "reporting",
    "Owner": "data-platform-dev@example.org",
}
RDS = "aws:rds/instance:Instance"
EC2 = "aws:ec2/instance:Instance"
VOLUME = "aws:ebs/volume:Volume"
PERMISSION = "aws:lambda/permission:Permission"
KMS_KEY = "aws:kms/key:Key"
KINESIS = "aws:kinesis/stream:Stream"
FIREHOSE = "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream"
QUEUE = "aws:sqs/queue:Queue"
TOPIC = "aws:sns/topic:Topic"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
GROUP = "aws:ec2/securityGroup:SecurityGroup"
DEFAULT_GROUP = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
MANAGED_POLICY = "aws:iam/policy:Policy"
ROLE = "aws:iam/role:Role"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
BUCKET = "aws:s3/bucket:Bucket"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
ALIAS = "aws:kms/alias:Alias"

PRIMARY = {
    "engine": "sqlserver-se",
    "storageEncrypted": True,
    "kmsKeyId": KEY,
    "backupRetentionPeriod": 7,
    "publiclyAccessible": False,
    "tags": TAGS,
}
REPLICA = {
    "replicateSourceDb": "arn:aws:rds:eu-west-2:222200000001:db:maths-homework-primary",
    "backupRetentionPeriod": 0,
    "publiclyAccessible": False,
    "tags": TAGS,
}
ROOT_VOLUME = {"encrypted": True, "kmsKeyId": KEY, "volumeType": "gp3", "volumeSize": 8}
INSTANCE = {
    "associatePublicIpAddress": False,
    "metadataOptions": {"httpEndpoint": "enabled", "httpTokens": "required"},
    "rootBlockDevice": ROOT_VOLUME,
    "tags": {**TAGS, "Access": "session-manager"},
}
BASTION = {**INSTANCE, "associatePublicIpAddress": True, "tags": {**TAGS, "Access": "ssh-bastion"}}
DIRECT_PUT = {
    "destination": "extended_s3",
    "serverSideEncryption": {"enabled": True, "keyType": "CUSTOMER_MANAGED_CMK", "keyArn": KEY},
    "extendedS3Configuration": {"bucketArn": "arn:aws:s3:::staging", "kmsKeyArn": KEY},
}
FROM_KINESIS = {
    "destination": "extended_s3",
    "kinesisSourceConfiguration": {"kinesisStreamArn": "arn:aws:kinesis:x", "roleArn": "r"},
    "extendedS3Configuration": {"bucketArn": "arn:aws:s3:::staging", "kmsKeyArn": KEY},
}


def _with(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """`base` with `changes`; a change to None removes the setting."""
    merged = {**base, **changes}
    return {key: value for key, value in merged.items() if value is not None}


def _tcp(port: int, **sources: Any) -> dict[str, Any]:
    return {"protocol": "tcp", "fromPort": port, "toPort": port, **sources}


def _group(*ingress: dict[str, Any]) -> dict[str, Any]:
    return {"ingress": list(ingress), "egress": [], "tags": TAGS}


def _policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"policy": json.dumps(policy_document(*statements))}


def _allow(action: Any, resource: Any = "arn:aws:s3:::landing/*", **extra: Any) -> dict:
    return {"Sid": "Grant", "Effect": "Allow", "Action": action, "Resource": resource, **extra}


LANDING_ARN = "arn:aws:s3:::landing-1234"
SECURE_POLICY = {
    "bucket": "landing-1234",
    "policy": json.dumps(secure_bucket_policy(LANDING_ARN, KEY)),
}


def _secure_bucket_policy_without_tls() -> str:
    policy = secure_bucket_policy(LANDING_ARN, KEY)
    kept = [s for s in policy["Statement"] if s["Sid"] != "DenyInsecureTransport"]
    return json.dumps({**policy, "Statement": kept})


def _tls_deny_on(*resources: str) -> str:
    """The secure bucket policy with its TLS deny on `resources` instead."""
    policy = secure_bucket_policy(LANDING_ARN, KEY)
    for statement in policy["Statement"]:
        if statement["Sid"] == "DenyInsecureTransport":
            statement["Resource"] = list(resources)
    return json.dumps(policy)


@dataclass(frozen=True)
class Case:
    """A resource and what `rule` says of it: None passes, else a fragment of the message."""

    rule: str
    resource_type: str
    props: dict[str, Any]
    problem: str | None
    id: str = field(default="")


RESOURCE_CASES = [
    # RDS: encrypted with a CMK, backed up, private; replicas inherit encryption.
    Case("rds-storage-encrypted-with-cmk", RDS, PRIMARY, None, "primary"),
    Case("rds-storage-encrypted-with-cmk", RDS, REPLICA, None, "replica inherits"),
    Case("rds-storage-encrypted-with-cmk", RDS, _with(PRIMARY, kmsKeyId=UNKNOWN), None, "key?"),
    Case(
        "rds-storage-encrypted-with-cmk",
        RDS,
        _with(PRIMARY, storageEncrypted=None),
        "storageEncrypted is not true",
        "unencrypted by default",
    ),
    Case(
        "rds-storage-encrypted-with-cmk",
        RDS,
        _with(PRIMARY, storageEncrypted=False),
        "storageEncrypted is not true",
        "unencrypted",
    ),
    Case(
        "rds-storage-encrypted-with-cmk",
        RDS,
        _with(PRIMARY, kmsKeyId=None),
        "kmsKeyId is not set",
        "no key",
    ),
    Case(
        "rds-storage-encrypted-with-cmk",
        RDS,
        _with(PRIMARY, kmsKeyId="alias/aws/rds"),
        "AWS managed key",
        "aws managed key",
    ),
    Case("rds-backups-enabled", RDS, PRIMARY, None, "a week"),
    Case("rds-backups-enabled", RDS, REPLICA, None, "replica needs none"),
    Case("rds-backups-enabled", RDS, _with(PRIMARY, backupRetentionPeriod=UNKNOWN), None, "?"),
    Case(
        "rds-backups-enabled",
        RDS,
        _with(PRIMARY, backupRetentionPeriod=0),
        "backupRetentionPeriod is 0",
        "off",
    ),
    Case(
        "rds-backups-enabled",
        RDS,
        _with(PRIMARY, backupRetentionPeriod=None),
        "backupRetentionPeriod is not set",
        "unset",
    ),
    Case("rds-not-public", RDS, PRIMARY, None, "private"),
    Case("rds-not-public", RDS, _with(PRIMARY, publiclyAccessible=None), None, "default"),
    Case(
        "rds-not-public",
        RDS,
        _with(PRIMARY, publiclyAccessible=True),
        "publiclyAccessible is true",
        "public primary",
    ),
    Case(
        "rds-not-public",
        RDS,
        _with(REPLICA, publiclyAccessible=True),
        "publiclyAccessible is true",
        "public replica",
    ),
    # EC2 and EBS.
    Case("ec2-imdsv2-required", EC2, INSTANCE, None, "required"),
    Case(
        "ec2-imdsv2-required",
        EC2,
        _with(INSTANCE, metadataOptions={"httpTokens": UNKNOWN}),
        None,
        "unknown",
    ),
    Case(
        "ec2-imdsv2-required",
        EC2,
        _with(INSTANCE, metadataOptions={"httpTokens": "optional"}),
        "httpTokens is 'optional'",
        "optional",
    ),
    Case(
        "ec2-imdsv2-required",
        EC2,
        _with(INSTANCE, metadataOptions=None),
        "httpTokens is not set",
        "unset",
    ),
    Case("ebs-encrypted-with-cmk", EC2, INSTANCE, None, "instance"),
    Case("ebs-encrypted-with-cmk", VOLUME, ROOT_VOLUME, None, "volume"),
    Case(
        "ebs-encrypted-with-cmk",
        EC2,
        _with(INSTANCE, rootBlockDevice={**ROOT_VOLUME, "kmsKeyId": UNKNOWN}),
        None,
        "key unknown",
    ),
    Case(
        "ebs-encrypted-with-cmk",
        EC2,
        _with(INSTANCE, rootBlockDevice=None),
        "rootBlockDevice is not set",
        "AMI default root",
    ),
    Case(
        "ebs-encrypted-with-cmk",
        EC2,
        _with(INSTANCE, rootBlockDevice={**ROOT_VOLUME, "encrypted": False}),
        "rootBlockDevice.encrypted is not true",
        "clear root",
    ),
    Case(
        "ebs-encrypted-with-cmk",
        EC2,
        _with(INSTANCE, ebsBlockDevices=[{"deviceName": "/dev/sdf", "encrypted": True}]),
        "ebsBlockDevices[0].kmsKeyId is not set",
        "data volume without cmk",
    ),
    Case(
        "ebs-encrypted-with-cmk",
        VOLUME,
        _with(ROOT_VOLUME, encrypted=None),
        "volume.encrypted is not true",
        "clear volume",
    ),
    Case(
        "ebs-encrypted-with-cmk",
        VOLUME,
        _with(ROOT_VOLUME, kmsKeyId=None),
        "volume.kmsKeyId is not set",
        "volume without cmk",
    ),
    Case("ec2-no-public-ip", EC2, INSTANCE, None, "private"),
    Case("ec2-no-public-ip", EC2, BASTION, None, "the bastion"),
    Case(
        "ec2-no-public-ip",
        EC2,
        _with(INSTANCE, associatePublicIpAddress=True, tags=UNKNOWN),
        None,
        "tags unknown",
    ),
    Case(
        "ec2-no-public-ip",
        EC2,
        _with(INSTANCE, associatePublicIpAddress=True),
        "only the instance tagged Access: ssh-bastion",
        "public",
    ),
    Case(
        "ec2-no-public-ip",
        EC2,
        _with(INSTANCE, associatePublicIpAddress=None),
        "associatePublicIpAddress is not set",
        "subnet decides",
    ),
    Case(
        "lambda-permission-source-arn",
        PERMISSION,
        {"principal": "s3.amazonaws.com", "sourceArn": "arn:aws:s3:::landing"},
        None,
        "bound",
    ),
    Case(
        "lambda-permission-source-arn",
        PERMISSION,
        {"principal": "sns.amazonaws.com", "sourceArn": UNKNOWN},
        None,
        "unknown",
    ),
    Case(
        "lambda-permission-source-arn",
        PERMISSION,
        {"principal": "s3.amazonaws.com", "action": "lambda:InvokeFunction"},
        "sourceArn is not set",
        "any bucket",
    ),
    # Keys, streams, queues, topics, logs.
    Case("kms-key-rotation", KMS_KEY, {"enableKeyRotation": True}, None, "rotates"),
    Case("kms-key-rotation", KMS_KEY, {"customerMasterKeySpec": "RSA_2048"}, None, "asymmetric"),
    Case("kms-key-rotation", KMS_KEY, {}, "enableKeyRotation is not true", "default"),
    Case(
        "kms-key-rotation",
        KMS_KEY,
        {"enableKeyRotation": False, "customerMasterKeySpec": "SYMMETRIC_DEFAULT"},
        "enableKeyRotation is not true",
        "off",
    ),
    Case(
        "kms-key-rotation",
        KMS_KEY,
        # Not an input of aws.kms.Key: the key is symmetric (the default) whatever this says.
        {"keySpec": "RSA_2048"},
        "enableKeyRotation is not true",
        "keySpec is no input",
    ),
    Case("kinesis-stream-encrypted", KINESIS, {"encryptionType": "KMS", "kmsKeyId": KEY}, None),
    Case(
        "kinesis-stream-encrypted",
        KINESIS,
        {"encryptionType": "KMS", "kmsKeyId": UNKNOWN},
        None,
        "key unknown",
    ),
    Case(
        "kinesis-stream-encrypted",
        KINESIS,
        {"encryptionType": "NONE"},
        "encryptionType is 'NONE'",
        "none",
    ),
    Case("kinesis-stream-encrypted", KINESIS, {}, "encryptionType is not set", "default"),
    Case(
        "kinesis-stream-encrypted",
        KINESIS,
        {"encryptionType": "KMS", "kmsKeyId": "alias/aws/kinesis"},
        "AWS managed key",
        "aws managed key",
    ),
    Case("firehose-encrypted", FIREHOSE, DIRECT_PUT, None, "direct put with cmk"),
    Case("firehose-encrypted", FIREHOSE, FROM_KINESIS, None, "encrypted by its stream"),
    Case(
        "firehose-encrypted",
        FIREHOSE,
        _with(DIRECT_PUT, serverSideEncryption=None),
        "serverSideEncryption.enabled is not true",
        "clear buffer",
    ),
    Case(
        "firehose-encrypted",
        FIREHOSE,
        _with(DIRECT_PUT, serverSideEncryption={"enabled": True, "keyType": "AWS_OWNED_CMK"}),
        "keyType is 'AWS_OWNED_CMK'",
        "aws owned key",
    ),
    Case(
        "firehose-encrypted",
        FIREHOSE,
        _with(FROM_KINESIS, extendedS3Configuration={"bucketArn": "arn:aws:s3:::staging"}),
        "extendedS3Configuration.kmsKeyArn is not set",
        "objects without key",
    ),
    Case("sqs-queue-encrypted", QUEUE, {"kmsMasterKeyId": KEY}, None, "cmk"),
    Case("sqs-queue-encrypted", QUEUE, {"sqsManagedSseEnabled": True}, None, "sse-sqs"),
    Case(
        "sqs-queue-encrypted",
        QUEUE,
        {"name": "failures"},
        "neither kmsMasterKeyId nor sqsManagedSseEnabled",
        "clear",
    ),
    Case("sns-topic-encrypted", TOPIC, {"kmsMasterKeyId": KEY}, None, "cmk"),
    Case("sns-topic-encrypted", TOPIC, {"kmsMasterKeyId": UNKNOWN}, None, "unknown"),
    Case("sns-topic-encrypted", TOPIC, {"name": "alerts"}, "kmsMasterKeyId is not set", "clear"),
    Case("log-group-encrypted", LOG_GROUP, {"kmsKeyId": KEY, "retentionInDays": 30}, None),
    Case("log-group-encrypted", LOG_GROUP, {"retentionInDays": 30}, "kmsKeyId is not set"),
    Case("log-group-retention", LOG_GROUP, {"kmsKeyId": KEY, "retentionInDays": 30}, None),
    Case(
        "log-group-retention",
        LOG_GROUP,
        {"kmsKeyId": KEY},
        "retentionInDays is not set",
        "forever",
    ),
    Case(
        "log-group-retention",
        LOG_GROUP,
        {"kmsKeyId": KEY, "retentionInDays": 0},
        "retentionInDays is 0",
        "zero",
    ),
    # Security groups.
    Case(
        "security-group-no-world-ingress",
        GROUP,
        _group(_tcp(443, cidrBlocks=["10.110.0.0/20"])),
        None,
        "vpc only",
    ),
    Case("security-group-no-world-ingress", GROUP, {"ingress": UNKNOWN}, None, "unknown"),
    Case(
        "security-group-no-world-ingress",
        GROUP,
        _group(_tcp(443, cidrBlocks=["10.110.0.0/20", "0.0.0.0/0"])),
        "admits 0.0.0.0/0",
        "ipv4 world",
    ),
    Case(
        "security-group-no-world-ingress",
        DEFAULT_GROUP,
        _group(_tcp(22, ipv6CidrBlocks=["::/0"])),
        "admits ::/0",
        "ipv6 world on the default group",
    ),
    Case(
        "security-group-no-world-ingress",
        INGRESS_RULE,
        {"ipProtocol": "tcp", "fromPort": 443, "toPort": 443, "cidrIpv4": "0.0.0.0/0"},
        "admits 0.0.0.0/0",
        "standalone vpc rule",
    ),
    Case(
        "security-group-no-world-ingress",
        GROUP_RULE,
        {
            "type": "ingress",
            "protocol": "-1",
            "fromPort": 0,
            "toPort": 0,
            "cidrBlocks": ["0.0.0.0/0"],
        },
        "ingress of all traffic admits 0.0.0.0/0",
        "standalone ec2 rule, all traffic",
    ),
    Case(
        "security-group-no-world-ingress",
        GROUP_RULE,
        {"type": "egress", "protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": []},
        None,
        "egress is not ingress",
    ),
    Case(
        "security-group-database-ports-private",
        GROUP,
        _group(_tcp(5432, cidrBlocks=["10.110.2.0/24", "172.20.0.0/16", "192.168.1.0/24"])),
        None,
        "rfc 1918",
    ),
    Case(
        "security-group-database-ports-private",
        GROUP,
        _group(_tcp(1433, securityGroups=["sg-0123"])),
        None,
        "from a group",
    ),
    Case(
        "security-group-database-ports-private",
        GROUP,
        _group(_tcp(443, cidrBlocks=["203.0.113.0/24"])),
        None,
        "not a database port",
    ),
    Case(
        "security-group-database-ports-private",
        GROUP,
        _group(_tcp(5432, cidrBlocks=["10.110.2.0/24", "203.0.113.0/24"])),
        "[5432] to 203.0.113.0/24, which is not an RFC 1918 range",
        "public range",
    ),
    Case(
        "security-group-database-ports-private",
        GROUP,
        _group(
            {"protocol": "tcp", "fromPort": 1000, "toPort": 2000, "cidrBlocks": ["100.64.0.0/10"]}
        ),
        "[1433, 1521] to 100.64.0.0/10",
        "a range over two database ports",
    ),
    Case(
        "security-group-database-ports-private",
        GROUP,
        _group({"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["198.51.100.7/32"]}),
        "[1433, 3306, 5432, 1521] to 198.51.100.7/32",
        "all traffic",
    ),
    Case(
        "security-group-database-ports-private",
        GROUP,
        _group(_tcp(3306, prefixListIds=["pl-0123"])),
        "to a prefix list",
        "prefix list",
    ),
    Case(
        "security-group-database-ports-private",
        INGRESS_RULE,
        {"ipProtocol": "tcp", "fromPort": 1521, "toPort": 1521, "cidrIpv6": "fd00::/8"},
        "to fd00::/8",
        "ipv6",
    ),
    # IAM.
    Case(
        "iam-no-wildcard-actions",
        ROLE_POLICY,
        _policy(_allow(["s3:GetObject", "s3:PutObject"])),
        None,
        "scoped",
    ),
    Case(
        "iam-no-wildcard-actions",
        MANAGED_POLICY,
        _policy({"Effect": "Deny", "Action": "*", "Resource": "*"}),
        None,
        "deny of everything",
    ),
    Case("iam-no-wildcard-actions", ROLE_POLICY, {"policy": UNKNOWN}, None, "unknown"),
    Case(
        "iam-no-wildcard-actions",
        KMS_KEY,
        {"policy": json.dumps(service_key_policy("111100000001", "eu-west-2", ["s3"]))},
        None,
        "our key policy",
    ),
    Case(
        "iam-no-wildcard-actions",
        ROLE_POLICY,
        _policy(_allow("*")),
        "Allow of '*' grants every action of every service",
        "star",
    ),
    Case(
        "iam-no-wildcard-actions",
        MANAGED_POLICY,
        _policy(_allow(["s3:GetObject", "s3:*"])),
        "Allow of 's3:*' grants every action of s3",
        "service star",
    ),
    Case(
        "iam-no-wildcard-actions",
        ROLE_POLICY,
        _policy({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}),
        "NotAction allows every other action",
        "not action",
    ),
    Case(
        "iam-no-wildcard-actions",
        KMS_KEY,
        _policy(_allow("kms:*", "*", Principal={"AWS": "arn:aws:iam::111100000001:root"})),
        "key policy statement 'Grant': Allow of 'kms:*'",
        "default key policy",
    ),
    Case(
        "iam-no-wildcard-actions",
        ROLE,
        {"inlinePolicies": [{"name": "admin", **_policy(_allow("*", "*"))}]},
        "inline policy 'admin'",
        "role inline policy",
    ),
    Case(
        "iam-no-wildcard-resources",
        ROLE_POLICY,
        _policy(RUN_INSIDE_THE_VPC),
        None,
        "lambda in a vpc",
    ),
    Case(
        "iam-no-wildcard-resources",
        ROLE_POLICY,
        _policy(_allow(["ec2:DescribeInstances", "kinesis:ListStreams", "ec2:Describe*"], "*")),
        None,
        "actions without resource-level permissions",
    ),
    Case(
        "iam-no-wildcard-resources",
        KMS_KEY,
        {"policy": json.dumps(service_key_policy("111100000001", "eu-west-2", ["s3"]))},
        None,
        "a key policy's star is the key",
    ),
    Case(
        "iam-no-wildcard-resources",
        MANAGED_POLICY,
        {"policy": json.dumps(deny_promote_policy(["*"]))},
        None,
        "deny",
    ),
    Case(
        "iam-no-wildcard-resources",
        ROLE_POLICY,
        _policy(_allow(["ec2:DescribeSubnets", "s3:GetObject"], "*")),
        "Allow of ['s3:GetObject'] on Resource '*', data action(s) ['s3:GetObject']",
        "data action",
    ),
    Case(
        "iam-no-wildcard-resources",
        ROLE_POLICY,
        _policy(_allow("lambda:InvokeFunction", ["arn:aws:lambda:x", "*"])),
        "data action(s) ['lambda:InvokeFunction']",
        "star among others",
    ),
    Case(
        "iam-no-wildcard-resources",
        MANAGED_POLICY,
        _policy(_allow("iam:PassRole", "*")),
        "Allow of ['iam:PassRole'] on Resource '*': these actions can be scoped",
        "scopable, not data",
    ),
    Case(
        "iam-no-wildcard-resources",
        ROLE_POLICY,
        _policy(_allow("ec2:*", "*")),
        "Allow of ['ec2:*'] on Resource '*'",
        "describe allowed, service star not",
    ),
    Case(
        "iam-no-wildcard-resources",
        ROLE_POLICY,
        _policy({"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::x"}),
        "NotResource applies to every other resource",
        "not resource",
    ),
    # Bucket policies.
    Case("s3-bucket-policy-tls-only", BUCKET_POLICY, SECURE_POLICY, None, "secure bucket policy"),
    Case(
        "s3-bucket-policy-tls-only",
        BUCKET_POLICY,
        {**SECURE_POLICY, "bucket": UNKNOWN},
        None,
        "bucket unknown, the document names it",
    ),
    Case(
        "s3-bucket-policy-tls-only",
        BUCKET_POLICY,
        {"bucket": "landing-1234", "policy": UNKNOWN},
        None,
        "document unknown at preview",
    ),
    Case(
        "s3-bucket-policy-tls-only",
        BUCKET_POLICY,
        {"bucket": "landing-1234", "policy": _secure_bucket_policy_without_tls()},
        "no statement denies s3:* to Principal '*' when aws:SecureTransport is false",
        "plain http allowed",
    ),
    Case(
        "s3-bucket-policy-tls-only",
        BUCKET_POLICY,
        {"bucket": "landing-1234", "policy": _tls_deny_on(f"{LANDING_ARN}/*")},
        "does not cover both the bucket landing-1234 and its objects",
        "objects only",
    ),
    Case(
        "s3-bucket-policy-tls-only",
        BUCKET_POLICY,
        {"bucket": UNKNOWN, "policy": _tls_deny_on(LANDING_ARN, f"{LANDING_ARN}/incoming/*")},
        "does not cover both the bucket and its objects",
        "one prefix only",
    ),
    Case(
        "s3-bucket-policy-tls-only",
        BUCKET_POLICY,
        {
            "bucket": "landing-1234",
            "policy": _tls_deny_on("arn:aws:s3:::other", "arn:aws:s3:::other/*"),
        },
        "does not cover both the bucket landing-1234",
        "another bucket",
    ),
    # Tags.
    Case("required-tags", BUCKET, {"tags": TAGS}, None, "all four"),
    Case("required-tags", BUCKET, {"tags": UNKNOWN}, None, "unknown"),
    Case("required-tags", BUCKET, {"tags": {**TAGS, "Owner": UNKNOWN}}, None, "owner unknown"),
    Case("required-tags", ALIAS, {"name": "alias/x"}, None, "alias takes no tags"),
    Case("required-tags", "reporting:storage:SecureBucket", {}, None, "components take none"),
    Case("required-tags", BUCKET, {"tags": _with(TAGS, Owner=None)}, "tags lack Owner", "owner"),
    Case(
        "required-tags",
        ROLE,
        {"tags": {**TAGS, "Platform": ""}},
        "tags lack Platform",
        "empty platform",
    ),
    Case(
        "required-tags",
        QUEUE,
        {"name": "failures"},
        "tags lack Project, Environment, Platform, Owner",
        "no tags",
    ),
]

RESOURCE_RULE = {rule.name: rule for rule in RESOURCE_RULES}


@pytest.mark.parametrize(
    "case",
    RESOURCE_CASES,
    ids=[f"{case.rule}-{case.id or case.problem or 'passes'}" for case in RESOURCE_CASES],
)
def test_resource_rule(case: Case):
    violations = RESOURCE_RULE[case.rule].check(case.resource_type, case.props)
    if case.problem is None:
        assert violations == []
    else:
        assert violations, f"{case.rule} let a bad {case.resource_type} pass"
        assert any(case.problem in violation for violation in violations), violations


def test_every_resource_rule_has_a_failing_and_a_passing_case():
    failing = {case.rule for case in RESOURCE_CASES if case.problem}
    passing = {case.rule for case in RESOURCE_CASES if case.problem is None}
    assert failing == passing == set(RESOURCE_RULE)


@pytest.mark.parametrize("rule", RESOURCE_RULES, ids=lambda rule: rule.name)
def test_resource_rules_judge_only_their_own_types(rule):
    # A non-AWS type with settings every rule would object to on its own types.
    props = {"ingress": [_tcp(5432, cidrBlocks=["0.0.0.0/0"])], **_policy(_allow("*", "*"))}
    assert rule.check("reporting:storage:SecureBucket", props) == []


# Stack rules: graphs of a component and its children, as the components build them.
COMPONENT = "urn:pulumi:dev::reporting::reporting:storage:SecureBucket::landing"
ELSEWHERE = "urn:pulumi:dev::reporting::reporting:storage:SecureBucket::other"


def _resource(resource_type: str, name: str, props: dict, parent: str = COMPONENT):
    return GraphResource(f"{parent}${resource_type}::{name}", resource_type, name, parent, props)


def _bucket_graph(
    *, drop: str = "", parent_of: dict[str, str] | None = None, **props_of: dict
) -> list[GraphResource]:
    """A SecureBucket's bucket and controls; `drop` leaves one out, `props_of` replaces the
    props of one (by role), `parent_of` moves one under another parent."""
    roles = {
        "bucket": (BUCKET, {"tags": TAGS}),
        "encryption": (
            "aws:s3/bucketServerSideEncryptionConfiguration:"
            "BucketServerSideEncryptionConfiguration",
            {
                "bucket": "landing-1234",
                "rules": [
                    {
                        "applyServerSideEncryptionByDefault": {
                            "sseAlgorithm": "aws:kms",
                            "kmsMasterKeyId": KEY,
                        },
                        "bucketKeyEnabled": True,
                    }
                ],
            },
        ),
        "public-access": (
            "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
            {
                "blockPublicAcls": True,
                "blockPublicPolicy": True,
                "ignorePublicAcls": True,
                "restrictPublicBuckets": True,
            },
        ),
        "ownership": (
            "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
            {"rule": {"objectOwnership": "BucketOwnerEnforced"}},
        ),
        "policy": (BUCKET_POLICY, SECURE_POLICY),
    }
    return [
        _resource(
            resource_type,
            f"landing-{role}",
            props_of.get(role.replace("-", "_"), props),
            (parent_of or {}).get(role, COMPONENT),
        )
        for role, (resource_type, props) in roles.items()
        if role != drop
    ]


REPLICAS = "urn:pulumi:dev-maths::reporting::reporting:data:ReadReplicas::maths-replicas"
REPLICA_ARN = "arn:aws:rds:eu-west-2:222200000001:db:maths-replicas-homework-0a1b2c3"
GUARD_ARN = "arn:aws:iam::222200000001:policy/maths-replicas-deny-promote-0a1b2c3"
GUARD = {"policy": json.dumps(deny_promote_policy([REPLICA_ARN]))}
ATTACHED = {"role": "platform-admin", "policyArn": UNKNOWN}


def _replica_graph(
    *,
    guard: dict | None,
    guard_parent: str = REPLICAS,
    attachment: dict | None = ATTACHED,
    replica: dict = REPLICA,
) -> list[GraphResource]:
    """A replica (and a primary elsewhere, which needs no guard), with or without a guard and
    its attachment to a role (both siblings of the replica unless `guard_parent` says)."""
    graph = [
        _resource(RDS, "maths-replicas-homework", replica, REPLICAS),
        _resource(RDS, "maths-primary-elsewhere", PRIMARY, "urn:other"),
    ]
    if guard is not None:
        graph.append(_resource(MANAGED_POLICY, "maths-replicas-deny-promote", guard, guard_parent))
    if attachment is not None:
        graph.append(
            _resource(ATTACHMENT, "maths-replicas-deny-promote-admin", attachment, guard_parent)
        )
    return graph


# After `pulumi up` the stack policy sees outputs: ARNs known, attachments linked by them.
PROVISIONED_REPLICA = {**REPLICA, "arn": REPLICA_ARN}
PROVISIONED_GUARD = {**GUARD, "arn": GUARD_ARN}
PROVISIONED_ATTACHMENT = {"role": "platform-admin", "policyArn": GUARD_ARN}


ACCESS = "urn:pulumi:dev::reporting::reporting:access:SshBastion::bastion"
OFFICE = "203.0.113.0/24"


def _bastion_graph(*ingress: dict, instance: dict = BASTION, own_group=True) -> list:
    graph = [_resource(EC2, "bastion-instance", instance, ACCESS)]
    if own_group:
        graph.append(_resource(GROUP, "bastion-sg", _group(*ingress), ACCESS))
    return graph


@dataclass(frozen=True)
class StackCase:
    rule: str
    graph: list[GraphResource]
    problem: str | None
    id: str


AES, KMS = "AES256", "aws:kms"


STACK_CASES = [
    StackCase("s3-bucket-fully-protected", _bucket_graph(), None, "secure bucket"),
    StackCase(
        "s3-bucket-fully-protected",
        _bucket_graph(policy={"policy": UNKNOWN}, encryption={"rules": UNKNOWN}),
        None,
        "policy and key unknown at preview",
    ),
    StackCase(
        "s3-bucket-fully-protected",
        _bucket_graph(drop="encryption"),
        "no sibling KMS default encryption",
        "no encryption",
    ),
    StackCase(
        "s3-bucket-fully-protected",
        _bucket_graph(
            encryption={
                "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]
            }
        ),
        "no rule sets sseAlgorithm aws:kms",
        "s3 managed keys",
    ),
    StackCase(
        "s3-bucket-fully-protected",
        _bucket_graph(
            encryption={
                "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"}}]
            }
        ),
        "kmsMasterKeyId is not set",
        "aws managed kms key",
    ),
    StackCase(
        "s3-bucket-fully-protected",
        _bucket_graph(
            public_access={
                "blockPublicAcls": True,
                "blockPublicPolicy": True,
                "ignorePublicAcls": True,
            }
        ),
        "restrictPublicBuckets is not true",
        "three flags of four",
    ),
    StackCase(
        "s3-bucket-fully-protected",
        _bucket_graph(drop="public-access"),
        "no sibling public access block",
        "no public access block",
    ),
    StackCase(
        "s3-bucket-fully-protected",
        _bucket_graph(ownership={"rule": {"objectOwnership": "ObjectWriter"}}),
        "objectOwnership is 'ObjectWriter'",
        "acls on",
    ),
    StackCase(
        "s3-bucket-fully-protected",
        _bucket_graph(policy={"policy": _secure_bucket_policy_without_tls()}),
        "no statement denies s3:* to Principal '*' when aws:SecureTransport is false",
        "plain http allowed",
    ),
    StackCase(
        "s3-bucket-fully-protected",
        _bucket_graph(policy={"bucket": "landing-1234", "policy": _tls_deny_on(LANDING_ARN)}),
        "does not cover both the bucket landing-1234 and its objects",
        "tls deny on the bucket, not its objects",
    ),
    StackCase(
        "s3-bucket-fully-protected",
        _bucket_graph(drop="policy"),
        "no sibling TLS-only bucket policy",
        "no policy",
    ),
    StackCase(
        "s3-bucket-fully-protected",
        _bucket_graph(parent_of={"ownership": ELSEWHERE}),
        "no sibling ownership controls under the same component",
        "controls of another component",
    ),
    StackCase(
        "s3-bucket-fully-protected",
        [*_bucket_graph(), _resource(BUCKET, "landing-second", {"tags": TAGS})],
        "2 buckets share a component but only 1 KMS default encryption resource(s) pass",
        "two buckets, one set of controls",
    ),
    StackCase(
        "s3-bucket-fully-protected",
        _bucket_graph(bucket={"tags": TAGS, "acl": "public-read"}),
        "acl is 'public-read'",
        "public acl",
    ),
    StackCase("rds-replica-promote-guard", _replica_graph(guard=GUARD), None, "guarded"),
    StackCase(
        "rds-replica-promote-guard",
        _replica_graph(
            guard=PROVISIONED_GUARD,
            attachment=PROVISIONED_ATTACHMENT,
            replica=PROVISIONED_REPLICA,
        ),
        None,
        "guarded, as provisioned",
    ),
    StackCase(
        "rds-replica-promote-guard",
        _replica_graph(guard=GUARD, attachment=None),
        "is attached to no role by a sibling role policy attachment: it guards nothing",
        "guard attached to no role",
    ),
    StackCase(
        "rds-replica-promote-guard",
        _replica_graph(guard=GUARD, attachment={"role": "", "policyArn": UNKNOWN}),
        "is attached to no role",
        "attachment names no role",
    ),
    StackCase(
        "rds-replica-promote-guard",
        _replica_graph(
            guard=PROVISIONED_GUARD,
            attachment={"role": "platform-admin", "policyArn": "arn:aws:iam::aws:policy/Other"},
            replica=PROVISIONED_REPLICA,
        ),
        "is attached to no role",
        "the sibling attachment attaches another policy",
    ),
    StackCase(
        "rds-replica-promote-guard",
        _replica_graph(
            guard={"policy": json.dumps(deny_promote_policy(["arn:aws:rds:x:1:db:other"]))},
            replica=PROVISIONED_REPLICA,
        ),
        f"no attached deny-promote policy (maths-replicas-deny-promote) names its ARN "
        f"{REPLICA_ARN} in Resource",
        "guard of other replicas",
    ),
    StackCase(
        "rds-replica-promote-guard",
        _replica_graph(guard={"policy": UNKNOWN}),
        None,
        "guard unknown at preview",
    ),
    StackCase(
        "rds-replica-promote-guard",
        _replica_graph(guard=None),
        "no sibling IAM policy under the same component",
        "no guard",
    ),
    StackCase(
        "rds-replica-promote-guard",
        _replica_graph(guard=_policy(_allow("rds:PromoteReadReplica", "*"))),
        "no sibling IAM policy has a Deny statement naming rds:PromoteReadReplica",
        "allow is no guard",
    ),
    StackCase(
        "rds-replica-promote-guard",
        _replica_graph(guard=GUARD, guard_parent="urn:other"),
        "no sibling IAM policy under the same component",
        "guard of another component",
    ),
    StackCase(
        "ssh-bastion-confined",
        _bastion_graph(_tcp(22, cidrBlocks=[OFFICE, "198.51.100.0/28"])),
        None,
        "ssh from the office",
    ),
    StackCase(
        "ssh-bastion-confined",
        _bastion_graph(own_group=False, instance=INSTANCE),
        None,
        "not a bastion",
    ),
    StackCase(
        "ssh-bastion-confined",
        _bastion_graph(_tcp(22, cidrBlocks=["0.0.0.0/0"])),
        "admits 0.0.0.0/0: the whole internet",
        "ssh from anywhere",
    ),
    StackCase(
        "ssh-bastion-confined",
        _bastion_graph(_tcp(22, cidrBlocks=[OFFICE]), _tcp(3389, cidrBlocks=[OFFICE])),
        "tcp port 3389 admits more than TCP 22",
        "rdp too",
    ),
    StackCase(
        "ssh-bastion-confined",
        _bastion_graph({"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": [OFFICE]}),
        "ingress of all traffic admits more than TCP 22",
        "all traffic",
    ),
    StackCase(
        "ssh-bastion-confined",
        _bastion_graph(_tcp(22, securityGroups=["sg-0123"])),
        "admits securityGroups: the bastion admits named CIDR ranges only",
        "from a group",
    ),
    StackCase(
        "ssh-bastion-confined",
        _bastion_graph(own_group=False),
        "no security group of its own",
        "no group",
    ),
    StackCase(
        "ssh-bastion-confined",
        [
            *_bastion_graph(_tcp(22, cidrBlocks=[OFFICE])),
            _resource(
                INGRESS_RULE,
                "bastion-https",
                {"ipProtocol": "tcp", "fromPort": 443, "toPort": 443, "cidrIpv4": OFFICE},
                ACCESS,
            ),
        ],
        "bastion-https: ingress tcp port 443 admits more than TCP 22",
        "a standalone rule beside it",
    ),
]

STACK_RULE = {rule.name: rule for rule in STACK_RULES}


@pytest.mark.parametrize("case", STACK_CASES, ids=[f"{c.rule}-{c.id}" for c in STACK_CASES])
def test_stack_rule(case: StackCase):
    violations = STACK_RULE[case.rule].check(case.graph)
    if case.problem is None:
        assert violations == []
        return
    assert violations, f"{case.rule} let a bad graph pass"
    assert any(case.problem in violation.message for violation in violations), violations
    # Each violation names a resource of the graph, so CrossGuard can point at it.
    assert {violation.urn for violation in violations} <= {r.urn for r in case.graph}


def test_every_stack_rule_has_a_failing_and_a_passing_case():
    failing = {case.rule for case in STACK_CASES if case.problem}
    passing = {case.rule for case in STACK_CASES if case.problem is None}
    assert failing == passing == set(STACK_RULE)


def test_rule_names_are_unique_and_described():
    names = [rule.name for rule in (*RESOURCE_RULES, *STACK_RULES)]
    assert len(names) == len(set(names))
    assert all(rule.description for rule in (*RESOURCE_RULES, *STACK_RULES))


def test_the_required_tags_are_the_ones_the_program_sets():
    deployment = parsed_config("dev").deployment
    assert set(base_tags(deployment, "reporting")) == set(REQUIRED_TAGS)


@pytest.mark.parametrize(
    ("resource_type", "taggable"),
    [
        (BUCKET, True),
        (LOG_GROUP, True),
        (ALIAS, False),
        ("aws:iam/rolePolicyAttachment:RolePolicyAttachment", False),
        ("aws:lambda/permission:Permission", False),
        ("aws:lambda/function:Function", True),
        ("aws:nosuchmodule/thing:Thing", False),
        ("reporting:storage:SecureBucket", False),
        ("pulumi:providers:aws", False),
    ],
)
def test_taggable_types_are_read_off_the_provider_sdk(resource_type, taggable):
    assert is_taggable(resource_type) is taggable
