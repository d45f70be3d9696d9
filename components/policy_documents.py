"""IAM, key, bucket and endpoint policy documents as plain dicts. Pure, tested without Pulumi."""

from __future__ import annotations

from dataclasses import dataclass
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
# What the functions do with objects through the VPC's S3 endpoint; no bucket administration.
# The buckets are versioned: reading (or deleting) an event's object means its version.
READ_OBJECT_ACTIONS = [
    "s3:GetObject",
    "s3:GetObjectTagging",
    "s3:GetObjectVersion",
    "s3:GetObjectVersionTagging",
]
_LOADER_DELETE_ACTIONS = ["s3:DeleteObject", "s3:DeleteObjectVersion"]
_LOADER_WRITE_ACTIONS = ["s3:PutObject", "s3:PutObjectTagging"]
ENDPOINT_S3_ACTIONS = sorted(
    {
        *READ_OBJECT_ACTIONS,
        *_LOADER_DELETE_ACTIONS,
        *_LOADER_WRITE_ACTIONS,
        "s3:AbortMultipartUpload",
        "s3:GetBucketLocation",
        "s3:ListBucket",
        "s3:ListBucketVersions",
        "s3:ListMultipartUploadParts",
    }
)
# What functions call through the interface endpoints, per service.
INTERFACE_ENDPOINT_ACTIONS = {
    "secretsmanager": ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"],
    "sns": ["sns:Publish"],
    # The SES API (v1 and v2 share the `email` endpoint): the report server sends reports.
    "email": ["ses:SendEmail"],
}
# What Session Manager's agent calls through the KMS and CloudWatch Logs endpoints, on a key or
# a log group: decrypt session data, write shell session logs. Nothing else in the VPC calls
# either service directly (S3, SNS and SQS call KMS themselves).
SESSION_AGENT_ENDPOINT_ACTIONS = {
    "kms": ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"],
    "logs": ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
}
# Before a shell session the agent checks that the session log group is encrypted. A list
# action: it names no one log group, so it is judged by the caller's account alone.
SESSION_AGENT_LIST_ACTIONS = {"logs": ["logs:DescribeLogGroups"]}
# Systems Manager's own services: the agent's protocol (registration, commands, session
# channels) is many actions on resources that are not an account's (`ssmmessages`,
# `ec2messages` have none), so these endpoints admit the service's actions by this account's
# principals. They carry no data of their own to another account's resource.
SYSTEMS_MANAGER_SERVICES = ("ssm", "ssmmessages", "ec2messages")


def amazon_linux_repository_objects(region: str) -> str:
    """The objects of the region's Amazon Linux 2023 package repositories: an S3 bucket of
    AWS's, which dnf reaches through an S3 gateway endpoint when there is no other way out."""
    return f"arn:aws:s3:::al2023-repos-{region}-de612dc2/*"


def policy_document(*statements: Document) -> Document:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def service_key_policy(account_id: str, region: str, services: list[str]) -> Document:
    """A CMK the account administers through IAM, usable only through the named AWS services.

    The account root principal delegates administration to IAM (so the key cannot be orphaned);
    data use requires `kms:ViaService`, so no principal can decrypt outside those services.
    """
    root = f"arn:aws:iam::{account_id}:root"
    return policy_document(
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
    """Refuse plain HTTP, TLS older than 1.2, and uploads encrypted any other way or with any
    other key (writers that name a key must name it by ARN; most name none and get the default)."""
    everything = [bucket_arn, f"{bucket_arn}/*"]
    return policy_document(
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
            "Sid": "DenyOtherEncryption",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:PutObject",
            "Resource": f"{bucket_arn}/*",
            "Condition": {
                "StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption": "aws:kms"}
            },
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


def own_account_s3_endpoint_policy(
    account_id: str, readable_objects: tuple[str, ...] = ()
) -> Document:
    """Through the VPC's S3 endpoint, reach only buckets of this account (no exfiltration path),
    and read (never write) `readable_objects` of AWS's own buckets, such as the Amazon Linux
    package repositories."""
    statements: list[Document] = [
        {
            "Sid": "OnlyThisAccountsBuckets",
            "Effect": "Allow",
            "Principal": "*",
            "Action": ENDPOINT_S3_ACTIONS,
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:ResourceAccount": account_id}},
        }
    ]
    if readable_objects:
        statements.append(
            {
                "Sid": "ReadAwsPackageRepositories",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": sorted(readable_objects),
            }
        )
    return policy_document(*statements)


def iam_governed_key_policy(account_id: str) -> Document:
    """A CMK whose every use IAM decides (no `kms:ViaService`): for clients that call KMS
    themselves, as Session Manager's client and agent do to encrypt a session."""
    root = f"arn:aws:iam::{account_id}:root"
    return policy_document(
        {
            "Sid": "AccountAdministersKeyThroughIam",
            "Effect": "Allow",
            "Principal": {"AWS": root},
            "Action": _KEY_ADMIN_ACTIONS,
            "Resource": "*",
        },
        {
            "Sid": "UseAsIamAllows",
            "Effect": "Allow",
            "Principal": {"AWS": root},
            "Action": _KEY_USE_ACTIONS,
            "Resource": "*",
            "Condition": {"StringEquals": {"kms:CallerAccount": account_id}},
        },
    )


def own_principals_endpoint_policy(service: str, account_id: str) -> Document:
    """An interface endpoint of Systems Manager's own services (`SYSTEMS_MANAGER_SERVICES`): any
    action of the service, by this account's principals only."""
    if service not in SYSTEMS_MANAGER_SERVICES:
        raise ValueError(
            f"{service}: only Systems Manager's endpoints admit every action of their service"
        )
    return policy_document(
        {
            "Sid": "OnlyThisAccountsPrincipals",
            "Effect": "Allow",
            "Principal": "*",
            "Action": f"{service}:*",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:PrincipalAccount": account_id}},
        }
    )


def session_agent_endpoint_policy(service: str, account_id: str) -> Document:
    """The KMS or CloudWatch Logs endpoint: the agent's calls, by this account's principals, on
    this account's keys and log groups only; code in the VPC cannot use another account's key
    or log group to carry data out."""
    statements: list[Document] = [
        {
            "Sid": "OnlyThisAccountsPrincipalsAndResources",
            "Effect": "Allow",
            "Principal": "*",
            "Action": SESSION_AGENT_ENDPOINT_ACTIONS[service],
            "Resource": "*",
            "Condition": {
                "StringEquals": {
                    "aws:PrincipalAccount": account_id,
                    "aws:ResourceAccount": account_id,
                }
            },
        }
    ]
    if service in SESSION_AGENT_LIST_ACTIONS:
        statements.append(
            {
                "Sid": "ListThisAccountsResources",
                "Effect": "Allow",
                "Principal": "*",
                "Action": SESSION_AGENT_LIST_ACTIONS[service],
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:PrincipalAccount": account_id}},
            }
        )
    return policy_document(*statements)


def interface_endpoint_policy(service: str, account_id: str) -> Document:
    """The policy of the hub's interface endpoint for `service`: the named calls of functions
    and the report server, Session Manager's agent on KMS and Logs, or Systems Manager's own."""
    if service in INTERFACE_ENDPOINT_ACTIONS:
        return own_account_endpoint_policy(service, account_id)
    if service in SESSION_AGENT_ENDPOINT_ACTIONS:
        return session_agent_endpoint_policy(service, account_id)
    return own_principals_endpoint_policy(service, account_id)


def own_account_endpoint_policy(service: str, account_id: str) -> Document:
    """An interface endpoint serving only the calls functions make, on this account's resources."""
    return policy_document(
        {
            "Sid": "OnlyThisAccountsResources",
            "Effect": "Allow",
            "Principal": "*",
            "Action": INTERFACE_ENDPOINT_ACTIONS[service],
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:ResourceAccount": account_id}},
        }
    )


def tls_only_queue_policy(queue_arn: str) -> Document:
    """Refuse any request to the queue over plain HTTP."""
    return policy_document(
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "sqs:*",
            "Resource": queue_arn,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    )


def deny_promote_policy(replica_arns: list[str]) -> Document:
    """The case study's guard: the reporting replicas can never be promoted to primaries."""
    return policy_document(
        {
            "Sid": "ReportingReplicasAreNeverPromoted",
            "Effect": "Deny",
            "Action": ["rds:PromoteReadReplica"],
            "Resource": sorted(replica_arns),
        }
    )


def operations_key_policy(
    account_id: str, region: str, services: tuple[str, ...] = ("sns", "sqs")
) -> Document:
    """The key of the alert topic, the dead-letter queues and the log groups (and of whatever
    else `services` names).

    The services use it on callers' behalf (`kms:ViaService`); CloudWatch Logs and CloudWatch
    alarms (publishing to the encrypted topic) act as service principals, each held to this
    account's resources.
    """
    base = service_key_policy(account_id, region, list(services))
    log_groups = f"arn:aws:logs:{region}:{account_id}:log-group:*"
    base["Statement"].extend(
        [
            {
                "Sid": "CloudWatchLogsEncryptsThisAccountsLogGroups",
                "Effect": "Allow",
                "Principal": {"Service": f"logs.{region}.amazonaws.com"},
                "Action": [
                    "kms:Decrypt*",
                    "kms:Describe*",
                    "kms:Encrypt*",
                    "kms:GenerateDataKey*",
                    "kms:ReEncrypt*",
                ],
                "Resource": "*",
                "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": log_groups}},
            },
            {
                "Sid": "CloudWatchAlarmsPublishToTheEncryptedTopic",
                "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
            },
        ]
    )
    return base


def alert_topic_policy(topic_arn: str, account_id: str) -> Document:
    """This account's principals (through IAM) and its CloudWatch alarms may publish, over TLS."""
    return policy_document(
        {
            "Sid": "AccountPrincipalsThroughIam",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
            "Action": ["sns:GetTopicAttributes", "sns:Publish", "sns:Subscribe"],
            "Resource": topic_arn,
        },
        {
            "Sid": "CloudWatchAlarmsOfThisAccount",
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": topic_arn,
            "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
        },
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "sns:*",
            "Resource": topic_arn,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
    )


def service_trust_policy(service: str, account_id: str) -> Document:
    """Only the AWS service `service` (e.g. lambda), acting for this account, may assume the
    role."""
    return policy_document(
        {
            "Effect": "Allow",
            "Principal": {"Service": f"{service}.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
        }
    )


def lambda_trust_policy(account_id: str) -> Document:
    """Only the Lambda service, acting for this account, may assume a function's role."""
    return service_trust_policy("lambda", account_id)


# What Lambda needs to attach a function to the VPC (AWSLambdaVPCAccessExecutionRole's actions).
# Lambda creates and removes the interfaces itself in subnets it picks, so the statement stays
# on "*" (the policy rules tolerate these actions there), as AWS's managed policy does.
RUN_INSIDE_THE_VPC: Document = {
    "Sid": "RunInsideTheVpc",
    "Effect": "Allow",
    "Action": [
        "ec2:AssignPrivateIpAddresses",
        "ec2:CreateNetworkInterface",
        "ec2:DeleteNetworkInterface",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSubnets",
        "ec2:UnassignPrivateIpAddresses",
    ],
    "Resource": "*",
}


@dataclass(frozen=True)
class LoaderGrants:
    """The resources the landing loader may touch, by ARN."""

    bucket_arn: str
    storage_key_arn: str
    database_secret_arn: str
    database_key_arn: str
    alert_topic_arn: str
    operations_key_arn: str
    failure_queue_arn: str
    log_group_arn: str


def loader_policy(grants: LoaderGrants, incoming: str, archive: str, quarantine: str) -> Document:
    """Read and delete under `incoming`, write under `archive` and `quarantine`, nothing else."""
    bucket = grants.bucket_arn
    return policy_document(
        {
            "Sid": "ReadAndRemoveIncomingFiles",
            "Effect": "Allow",
            "Action": sorted(READ_OBJECT_ACTIONS + _LOADER_DELETE_ACTIONS),
            "Resource": f"{bucket}/{incoming}*",
        },
        {
            # Without list rights S3 answers a read of a missing key or version with 403, not
            # 404: the loader could not tell "already moved by an earlier delivery" from denied.
            "Sid": "TellMissingObjectsFromDenied",
            "Effect": "Allow",
            "Action": ["s3:ListBucket", "s3:ListBucketVersions"],
            "Resource": bucket,
        },
        {
            "Sid": "WriteArchiveAndQuarantine",
            "Effect": "Allow",
            "Action": _LOADER_WRITE_ACTIONS,
            "Resource": [f"{bucket}/{archive}*", f"{bucket}/{quarantine}*"],
        },
        {
            "Sid": "UseTheLandingKeyThroughS3",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": grants.storage_key_arn,
        },
        *read_database_secret(grants.database_secret_arn, grants.database_key_arn),
        {
            "Sid": "AlertAndDeadLetter",
            "Effect": "Allow",
            "Action": ["sns:Publish", "sqs:SendMessage"],
            "Resource": [grants.alert_topic_arn, grants.failure_queue_arn],
        },
        {
            "Sid": "UseTheOperationsKeyThroughSnsAndSqs",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": grants.operations_key_arn,
        },
        write_own_logs(grants.log_group_arn),
        RUN_INSIDE_THE_VPC,
    )


def read_database_secret(secret_arn: str, key_arn: str) -> list[Document]:
    """Read the reporting database's RDS-managed secret, and decrypt it with its key."""
    return [
        {
            "Sid": "ReadTheDatabaseSecret",
            "Effect": "Allow",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": secret_arn,
        },
        {
            "Sid": "DecryptTheDatabaseSecret",
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": key_arn,
        },
    ]


def write_own_logs(log_group_arn: str) -> Document:
    """A function writes its own log group's streams, nothing else of CloudWatch Logs."""
    return {
        "Sid": "WriteOwnLogs",
        "Effect": "Allow",
        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": f"{log_group_arn}:*",
    }
