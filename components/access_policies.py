"""Policy documents for people's access: the report developers' Session Manager rights, the
access host's own role, the office-only guard, and the where-from rule of the buckets that hold
data (landing, reports). Pure, tested without Pulumi."""

from __future__ import annotations

from dataclasses import dataclass

from components.policy_documents import Document, policy_document

# Session Manager documents that forward a local port: to the host itself, or through it to a
# database endpoint (the reporting database, a replica across the peering).
PORT_FORWARDING_DOCUMENTS = (
    "AWS-StartPortForwardingSession",
    "AWS-StartPortForwardingSessionToRemoteHost",
)
# The tag Session Manager puts on each session: the aws:userid of the caller who started it.
OWN_SESSION_TAG = "ssm:resourceTag/aws:ssmmessages:session-id"
# What a data bucket refuses from anywhere but the office, the VPC endpoints and the named
# roles: reading, writing and listing data. Configuration (the deployer's) is not data.
BUCKET_DATA_ACTIONS = [
    "s3:DeleteObject*",
    "s3:GetObject*",
    "s3:ListBucket*",
    "s3:PutObject*",
    "s3:RestoreObject",
]


def deny_outside_office_policy(office_cidrs: list[str]) -> Document:
    """Deny every action a person makes from outside the office ranges; AWS services acting on
    their behalf (a console upload through CloudFormation, Athena reading S3) still work.

    A call through a VPC endpoint carries no `aws:SourceIp`, and `NotIpAddress` holds when the
    key is absent: people's credentials are refused inside any VPC too, on purpose. People work
    from the office; the hub's instances act with their own roles, which carry no such guard."""
    return policy_document(
        {
            "Sid": "DenyOutsideTheOffice",
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*",
            "Condition": {
                "NotIpAddress": {"aws:SourceIp": sorted(office_cidrs)},
                "Bool": {"aws:ViaAWSService": "false"},
                "Null": {"aws:CalledVia": "true"},
            },
        }
    )


@dataclass(frozen=True)
class SessionGrants:
    region: str
    account_id: str
    access_host_arn: str
    session_key_arn: str


def report_developer_policy(grants: SessionGrants) -> Document:
    """Forward ports through the access host, end one's own sessions; no shell."""
    documents = [
        f"arn:aws:ssm:{grants.region}::document/{name}" for name in PORT_FORWARDING_DOCUMENTS
    ]
    return policy_document(
        {
            "Sid": "ForwardPortsThroughTheAccessHost",
            "Effect": "Allow",
            "Action": "ssm:StartSession",
            "Resource": [grants.access_host_arn, *documents],
            # Refuse a session that names no document (that would be a shell).
            "Condition": {"BoolIfExists": {"ssm:SessionDocumentAccessCheck": "true"}},
        },
        {
            "Sid": "ManageOwnSessions",
            "Effect": "Allow",
            "Action": ["ssm:ResumeSession", "ssm:TerminateSession"],
            "Resource": f"arn:aws:ssm:{grants.region}:{grants.account_id}:session/*",
            # A role's session id is `<role session name>-<suffix>`, which no policy variable
            # names (`session/${aws:username}-*` works for IAM users only); Session Manager
            # tags each session with the aws:userid (`AROA...:<role session name>`) of the
            # caller who started it, AWS's documented way to match one's own sessions.
            "Condition": {"StringLike": {OWN_SESSION_TAG: "${aws:userid}"}},
        },
        {
            "Sid": "EncryptSessions",
            "Effect": "Allow",
            "Action": "kms:GenerateDataKey",
            "Resource": grants.session_key_arn,
        },
    )


@dataclass(frozen=True)
class AccessHostGrants:
    region: str
    account_id: str
    session_log_group_arn: str
    session_key_arn: str


def access_host_policy(grants: AccessHostGrants) -> Document:
    """Beyond AmazonSSMManagedInstanceCore: write session logs, decrypt session data."""
    log_group = grants.session_log_group_arn
    return policy_document(
        {
            "Sid": "WriteSessionLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
            "Resource": [log_group, f"{log_group}:*"],
        },
        {
            # With cloudWatchEncryptionEnabled the agent checks that the session log group is
            # encrypted before it opens a shell, and refuses the session if it cannot tell. A
            # list action: it names the account's log groups, not one.
            "Sid": "CheckTheSessionLogGroupIsEncrypted",
            "Effect": "Allow",
            "Action": "logs:DescribeLogGroups",
            "Resource": f"arn:aws:logs:{grants.region}:{grants.account_id}:log-group:*",
        },
        {
            "Sid": "DecryptSessions",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": grants.session_key_arn,
        },
    )


@dataclass(frozen=True)
class DataAccess:
    """Where a bucket's data may be read and written from."""

    office_cidrs: list[str]
    # The hub's S3 gateway endpoint (and, for landing, each streaming platform's copier's).
    endpoint_ids: list[str]
    # Roles that reach S3 from outside any VPC (the incoming sweeper) and the deployer.
    principal_arns: list[str]


def data_access_statement(bucket_arn: str, access: DataAccess) -> Document:
    """Deny data actions unless they come from the office, through one of the VPC endpoints, by
    one of the named roles, or from an AWS service acting on a caller's behalf."""
    return {
        "Sid": "DenyDataFromElsewhere",
        "Effect": "Deny",
        "Principal": "*",
        "Action": BUCKET_DATA_ACTIONS,
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {
            # *IfExists: a request through an endpoint has no source IP, one from the internet
            # no endpoint; each is then judged by the other keys.
            "NotIpAddressIfExists": {"aws:SourceIp": sorted(access.office_cidrs)},
            "StringNotEqualsIfExists": {"aws:SourceVpce": sorted(access.endpoint_ids)},
            "ArnNotLike": {"aws:PrincipalArn": sorted(access.principal_arns)},
            "Bool": {"aws:ViaAWSService": "false"},
        },
    }
