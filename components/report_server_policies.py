"""The report server's instance role policy: the reports bucket's prefixes, its key, one SES
identity, the database secret and the alert topic. Pure, tested without Pulumi."""

from __future__ import annotations

from dataclasses import dataclass

from components.policy_documents import Document, policy_document, read_database_secret

# The bucket's prefixes: reports and their delivery markers, the runner's bundles, and the
# operator's packages (the ODBC driver RPM, the wheels; docs/report-server.md).
REPORTS_PREFIX = "reports/"
RUNNER_PREFIX = "runner/"
PACKAGES_PREFIX = "packages/"
SERVER_PREFIXES = (REPORTS_PREFIX, RUNNER_PREFIX, PACKAGES_PREFIX)


@dataclass(frozen=True)
class ReportServerGrants:
    """The resources the report server may touch, by ARN, and the SES sender."""

    region: str
    account_id: str
    bucket_arn: str
    reports_key_arn: str
    sender: str
    database_secret_arn: str
    database_key_arn: str
    alert_topic_arn: str
    operations_key_arn: str


def ses_identity_arns(region: str, account_id: str, sender: str) -> list[str]:
    """The SES identities a send from `sender` is authorised against: the sender itself, and
    for an address also its domain (the identity verified may be either)."""
    identities = [sender]
    if "@" in sender:
        identities.append(sender.rsplit("@", 1)[1])
    return [f"arn:aws:ses:{region}:{account_id}:identity/{identity}" for identity in identities]


def report_server_policy(grants: ReportServerGrants) -> Document:
    """Beyond AmazonSSMManagedInstanceCore: what the runner and its installer call, each on its
    own resource (docs/report-server.md)."""
    bucket = grants.bucket_arn
    return policy_document(
        {
            "Sid": "ReadReportsRunnerAndPackages",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": [f"{bucket}/{prefix}*" for prefix in SERVER_PREFIXES],
        },
        {
            # Reports, the delivery markers (If-None-Match claims), and a claim's removal when
            # SES refused the email.
            "Sid": "WriteReportsAndDeliveryMarkers",
            "Effect": "Allow",
            "Action": ["s3:DeleteObject", "s3:PutObject"],
            "Resource": f"{bucket}/{REPORTS_PREFIX}*",
        },
        {
            # Only these prefixes. S3 then answers a read of a missing key with 403, not 404:
            # the 404 needs list rights without a prefix condition.
            "Sid": "ListTheServersPrefixes",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": bucket,
            "Condition": {"StringLike": {"s3:prefix": [f"{p}*" for p in SERVER_PREFIXES]}},
        },
        {
            # Decrypt also for the presigned links: S3 decrypts a linked report with the
            # credentials that signed the link, which are this role's.
            "Sid": "UseTheReportsKeyThroughS3",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": grants.reports_key_arn,
        },
        {
            "Sid": "SendFromTheSenderIdentity",
            "Effect": "Allow",
            "Action": "ses:SendEmail",
            "Resource": ses_identity_arns(grants.region, grants.account_id, grants.sender),
        },
        *read_database_secret(grants.database_secret_arn, grants.database_key_arn),
        {
            "Sid": "Alert",
            "Effect": "Allow",
            "Action": "sns:Publish",
            "Resource": grants.alert_topic_arn,
        },
        {
            "Sid": "UseTheOperationsKeyThroughSns",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Resource": grants.operations_key_arn,
        },
    )
