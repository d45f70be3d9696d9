"""The report server's instance role policy, the S3 endpoint's package-repository exception and
the SES endpoint: least privilege, each grant on its own resource. Pure, no Pulumi."""

from __future__ import annotations

import fnmatch

from components.policy_documents import (
    INTERFACE_ENDPOINT_ACTIONS,
    amazon_linux_repository_objects,
    own_account_endpoint_policy,
    own_account_s3_endpoint_policy,
)
from components.report_server_policies import (
    ReportServerGrants,
    report_server_policy,
    ses_identity_arns,
)
from policy.rules.iam import iam_no_wildcard_actions, iam_no_wildcard_resources

ACCOUNT = "111100000001"
BUCKET = "arn:aws:s3:::reporting-reports-output-bucket-1a2b3c4d"
GRANTS = ReportServerGrants(
    region="eu-west-2",
    account_id=ACCOUNT,
    bucket_arn=BUCKET,
    reports_key_arn=f"arn:aws:kms:eu-west-2:{ACCOUNT}:key/reports",
    sender="reports@example.org",
    database_secret_arn=f"arn:aws:secretsmanager:eu-west-2:{ACCOUNT}:secret:rds!db-1",
    database_key_arn=f"arn:aws:kms:eu-west-2:{ACCOUNT}:key/database",
    alert_topic_arn=f"arn:aws:sns:eu-west-2:{ACCOUNT}:reporting-alerts",
    operations_key_arn=f"arn:aws:kms:eu-west-2:{ACCOUNT}:key/operations",
)
POLICY = report_server_policy(GRANTS)


def _allowed(action: str, resource: str) -> bool:
    """Whether an Allow statement covers `action` on `resource` (conditions aside)."""
    for statement in POLICY["Statement"]:
        actions = (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
        resources = (
            statement["Resource"]
            if isinstance(statement["Resource"], list)
            else [statement["Resource"]]
        )
        if any(fnmatch.fnmatchcase(action, a) for a in actions) and any(
            fnmatch.fnmatchcase(resource, r) for r in resources
        ):
            return True
    return False


def test_the_policy_passes_the_packs_iam_rules():
    props = {"policy": POLICY}
    assert iam_no_wildcard_actions("aws:iam/rolePolicy:RolePolicy", props) == []
    assert iam_no_wildcard_resources("aws:iam/rolePolicy:RolePolicy", props) == []
    assert all("*" not in str(s["Resource"]).replace("/*", "") for s in POLICY["Statement"])


def test_reports_are_written_and_removed_only_under_reports():
    assert _allowed("s3:PutObject", f"{BUCKET}/reports/maths-weekly/2026-11-30/x.xlsx")
    assert _allowed("s3:DeleteObject", f"{BUCKET}/reports/maths-weekly/claims/2026-11-30")
    for prefix in ("runner", "packages"):
        assert not _allowed("s3:PutObject", f"{BUCKET}/{prefix}/anything")
        assert not _allowed("s3:DeleteObject", f"{BUCKET}/{prefix}/anything")
        assert _allowed("s3:GetObject", f"{BUCKET}/{prefix}/anything")
    assert not _allowed("s3:GetObject", "arn:aws:s3:::reporting-landing-bucket/incoming/x")


def test_listing_is_held_to_the_servers_prefixes():
    (listing,) = [s for s in POLICY["Statement"] if s["Action"] == "s3:ListBucket"]
    assert listing["Resource"] == BUCKET
    assert listing["Condition"] == {
        "StringLike": {"s3:prefix": ["reports/*", "runner/*", "packages/*"]}
    }


def test_keys_secret_and_topic_are_each_granted_on_their_own_arn():
    assert _allowed("kms:GenerateDataKey", GRANTS.reports_key_arn)
    assert _allowed("kms:Decrypt", GRANTS.reports_key_arn)
    assert _allowed("secretsmanager:GetSecretValue", GRANTS.database_secret_arn)
    assert _allowed("kms:Decrypt", GRANTS.database_key_arn)
    assert not _allowed("kms:GenerateDataKey", GRANTS.database_key_arn)
    assert _allowed("sns:Publish", GRANTS.alert_topic_arn)
    assert _allowed("kms:GenerateDataKey", GRANTS.operations_key_arn)
    assert not _allowed("secretsmanager:GetSecretValue", f"{GRANTS.database_secret_arn}-other")


def test_email_is_sent_only_from_the_sender_identity():
    identities = ses_identity_arns("eu-west-2", ACCOUNT, "reports@example.org")
    assert identities == [
        f"arn:aws:ses:eu-west-2:{ACCOUNT}:identity/reports@example.org",
        f"arn:aws:ses:eu-west-2:{ACCOUNT}:identity/example.org",
    ]
    assert ses_identity_arns("eu-west-2", ACCOUNT, "reports.example.org") == [
        f"arn:aws:ses:eu-west-2:{ACCOUNT}:identity/reports.example.org"
    ]
    assert _allowed("ses:SendEmail", identities[0])
    assert not _allowed("ses:SendEmail", f"arn:aws:ses:eu-west-2:{ACCOUNT}:identity/other.org")


def test_the_s3_endpoint_reads_aws_repositories_only_when_asked():
    plain = own_account_s3_endpoint_policy(ACCOUNT)
    assert [s["Sid"] for s in plain["Statement"]] == ["OnlyThisAccountsBuckets"]
    repositories = amazon_linux_repository_objects("eu-west-2")
    assert repositories == "arn:aws:s3:::al2023-repos-eu-west-2-de612dc2/*"
    with_repositories = own_account_s3_endpoint_policy(ACCOUNT, (repositories,))
    (extra,) = [s for s in with_repositories["Statement"] if s["Sid"] != "OnlyThisAccountsBuckets"]
    assert (extra["Action"], extra["Resource"]) == ("s3:GetObject", [repositories])


def test_the_ses_endpoint_serves_only_sending_on_this_accounts_identities():
    assert INTERFACE_ENDPOINT_ACTIONS["email"] == ["ses:SendEmail"]
    (statement,) = own_account_endpoint_policy("email", ACCOUNT)["Statement"]
    assert statement["Action"] == ["ses:SendEmail"]
    assert statement["Condition"] == {"StringEquals": {"aws:ResourceAccount": ACCOUNT}}
