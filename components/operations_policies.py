"""Policy documents of the operations functions: the scheduler, the alert mailer, the freshness
check and the incoming sweeper. Pure, tested without Pulumi."""

from __future__ import annotations

from dataclasses import dataclass

from components.policy_documents import (
    RUN_INSIDE_THE_VPC,
    Document,
    policy_document,
    read_database_secret,
    write_own_logs,
)
from components.tags import SCHEDULER_TAG_PREFIX

# The scheduler writes only its own informational tags (SchedulerLastAction, ...).
SCHEDULER_TAG_PATTERN = f"{SCHEDULER_TAG_PREFIX}*"


def _failure_queue(queue_arn: str, key_arn: str) -> list[Document]:
    """Park failures in the function's queue; the operations key encrypts it (and the alert
    topic, for a function that publishes)."""
    return [
        {
            "Sid": "DeadLetter",
            "Effect": "Allow",
            "Action": "sqs:SendMessage",
            "Resource": queue_arn,
        },
        {
            "Sid": "UseTheOperationsKey",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": key_arn,
        },
    ]


@dataclass(frozen=True)
class SchedulerGrants:
    account_id: str
    region: str
    # The tag that names a resource's schedule: only resources carrying it are touched.
    schedule_tag: str
    failure_queue_arn: str
    operations_key_arn: str
    log_group_arn: str


def scheduler_policy(grants: SchedulerGrants) -> Document:
    """List instances; start, stop and tag only those carrying the schedule tag, and only with
    the scheduler's own tags."""
    account, region = grants.account_id, grants.region
    instances = f"arn:aws:ec2:{region}:{account}:instance/*"
    databases = f"arn:aws:rds:{region}:{account}:db:*"
    scheduled = {"Null": {f"aws:ResourceTag/{grants.schedule_tag}": "false"}}
    own_tags = {
        **scheduled,
        "ForAllValues:StringLike": {"aws:TagKeys": [SCHEDULER_TAG_PATTERN]},
    }
    return policy_document(
        {
            # DescribeInstances has no resource-level permissions.
            "Sid": "ListInstances",
            "Effect": "Allow",
            "Action": "ec2:DescribeInstances",
            "Resource": "*",
        },
        {
            "Sid": "ListDatabases",
            "Effect": "Allow",
            "Action": ["rds:DescribeDBInstances", "rds:ListTagsForResource"],
            "Resource": databases,
        },
        {
            "Sid": "StartAndStopScheduledInstances",
            "Effect": "Allow",
            "Action": ["ec2:StartInstances", "ec2:StopInstances"],
            "Resource": instances,
            "Condition": scheduled,
        },
        {
            "Sid": "StartAndStopScheduledDatabases",
            "Effect": "Allow",
            "Action": ["rds:StartDBInstance", "rds:StopDBInstance"],
            "Resource": databases,
            "Condition": scheduled,
        },
        {
            "Sid": "TagWhatItDid",
            "Effect": "Allow",
            "Action": ["ec2:CreateTags", "rds:AddTagsToResource"],
            "Resource": [instances, databases],
            "Condition": own_tags,
        },
        {
            # Starting an instance whose EBS volumes use a customer managed key needs a grant
            # for EC2 on that key, made on the caller's behalf.
            "Sid": "LetEc2DecryptVolumesOnStart",
            "Effect": "Allow",
            "Action": "kms:CreateGrant",
            "Resource": f"arn:aws:kms:{region}:{account}:key/*",
            "Condition": {
                "Bool": {"kms:GrantIsForAWSResource": "true"},
                "StringEquals": {"kms:ViaService": f"ec2.{region}.amazonaws.com"},
            },
        },
        *_failure_queue(grants.failure_queue_arn, grants.operations_key_arn),
        write_own_logs(grants.log_group_arn),
    )


def mailer_policy(
    sender_identity_arns: list[str],
    failure_queue_arn: str,
    operations_key_arn: str,
    log_group_arn: str,
) -> Document:
    """Send email as the configured sender, nothing else."""
    return policy_document(
        {
            "Sid": "SendFromTheAlertIdentity",
            "Effect": "Allow",
            "Action": ["ses:SendEmail"],
            "Resource": sender_identity_arns,
        },
        *_failure_queue(failure_queue_arn, operations_key_arn),
        write_own_logs(log_group_arn),
    )


@dataclass(frozen=True)
class FreshnessGrants:
    database_secret_arn: str
    database_key_arn: str
    alert_topic_arn: str
    failure_queue_arn: str
    operations_key_arn: str
    log_group_arn: str


def freshness_policy(grants: FreshnessGrants) -> Document:
    """Read the database secret and publish to the alert topic, from inside the VPC."""
    return policy_document(
        *read_database_secret(grants.database_secret_arn, grants.database_key_arn),
        {
            "Sid": "Alert",
            "Effect": "Allow",
            "Action": "sns:Publish",
            "Resource": grants.alert_topic_arn,
        },
        *_failure_queue(grants.failure_queue_arn, grants.operations_key_arn),
        write_own_logs(grants.log_group_arn),
        RUN_INSIDE_THE_VPC,
    )


@dataclass(frozen=True)
class SweeperGrants:
    bucket_arn: str
    # The prefix whose objects are sent to the loader again (incoming/).
    prefix: str
    loader_function_arn: str
    failure_queue_arn: str
    operations_key_arn: str
    log_group_arn: str


def sweeper_policy(grants: SweeperGrants) -> Document:
    """List the incoming prefix's versions and invoke the loader; it reads no object itself."""
    return policy_document(
        {
            # Versions: the loader's ledger keys a load by version, so a reload is a no-op.
            "Sid": "ListIncoming",
            "Effect": "Allow",
            "Action": "s3:ListBucketVersions",
            "Resource": grants.bucket_arn,
            "Condition": {"StringLike": {"s3:prefix": [f"{grants.prefix}*"]}},
        },
        {
            "Sid": "SendToTheLoader",
            "Effect": "Allow",
            "Action": "lambda:InvokeFunction",
            "Resource": grants.loader_function_arn,
        },
        *_failure_queue(grants.failure_queue_arn, grants.operations_key_arn),
        write_own_logs(grants.log_group_arn),
    )
