"""The operations functions' policies: exactly what each function calls, on what it owns."""

from __future__ import annotations

from components.alert_mailer import ses_identity_arns
from components.operations_policies import (
    FreshnessGrants,
    SchedulerGrants,
    SweeperGrants,
    freshness_policy,
    mailer_policy,
    scheduler_policy,
    sweeper_policy,
)

ACCOUNT, REGION = "111100000001", "eu-west-2"
QUEUE = f"arn:aws:sqs:{REGION}:{ACCOUNT}:failures"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/ops"
LOGS = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/f"


def _actions(document: dict) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for statement in document["Statement"]:
        assert statement["Effect"] == "Allow"
        actions = statement["Action"]
        found[statement["Sid"]] = {actions} if isinstance(actions, str) else set(actions)
    return found


def test_the_scheduler_may_only_touch_tagged_instances_of_its_own_account():
    policy = scheduler_policy(SchedulerGrants(ACCOUNT, REGION, "Schedule", QUEUE, KEY, LOGS))
    statements = {s["Sid"]: s for s in policy["Statement"]}
    every_action = set().union(*_actions(policy).values())
    assert every_action == {
        "ec2:DescribeInstances",
        "rds:DescribeDBInstances",
        "rds:ListTagsForResource",
        "ec2:StartInstances",
        "ec2:StopInstances",
        "rds:StartDBInstance",
        "rds:StopDBInstance",
        "ec2:CreateTags",
        "rds:AddTagsToResource",
        "kms:CreateGrant",
        "sqs:SendMessage",
        "kms:Decrypt",
        "kms:GenerateDataKey",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    }
    # Only the one describe call without resource-level permissions has "*".
    assert [sid for sid, s in statements.items() if s["Resource"] == "*"] == ["ListInstances"]
    assert statements["StartAndStopScheduledDatabases"]["Resource"] == (
        f"arn:aws:rds:{REGION}:{ACCOUNT}:db:*"
    )
    grant = statements["LetEc2DecryptVolumesOnStart"]["Condition"]
    assert grant["Bool"] == {"kms:GrantIsForAWSResource": "true"}
    assert grant["StringEquals"] == {"kms:ViaService": f"ec2.{REGION}.amazonaws.com"}


def test_the_mailer_sends_as_the_sender_or_its_domain_only():
    identities = ses_identity_arns(REGION, ACCOUNT, "alerts@example.org")
    assert identities == [
        f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/alerts@example.org",
        f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/example.org",
    ]
    assert ses_identity_arns(REGION, ACCOUNT, "example.org") == [
        f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/example.org"
    ]
    policy = mailer_policy(identities, QUEUE, KEY, LOGS)
    (send,) = [s for s in policy["Statement"] if s["Sid"] == "SendFromTheAlertIdentity"]
    assert (send["Action"], send["Resource"]) == (["ses:SendEmail"], identities)


def test_the_freshness_check_reads_the_secret_and_publishes_alerts_only():
    secret = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:db"
    topic = f"arn:aws:sns:{REGION}:{ACCOUNT}:alerts"
    policy = freshness_policy(FreshnessGrants(secret, KEY, topic, QUEUE, KEY, LOGS))
    resources = {s["Sid"]: s["Resource"] for s in policy["Statement"]}
    assert resources["ReadTheDatabaseSecret"] == secret
    assert resources["Alert"] == topic
    assert not any(action.startswith("s3:") for a in _actions(policy).values() for action in a)


def test_the_sweeper_lists_incoming_and_invokes_the_loader_only():
    bucket = "arn:aws:s3:::landing"
    loader = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:loader"
    policy = sweeper_policy(SweeperGrants(bucket, "incoming/", loader, QUEUE, KEY, LOGS))
    statements = {s["Sid"]: s for s in policy["Statement"]}
    assert statements["ListIncoming"]["Condition"] == {"StringLike": {"s3:prefix": ["incoming/*"]}}
    assert statements["SendToTheLoader"]["Resource"] == loader
    # It reads, moves and deletes nothing itself: the loader does.
    assert not {"s3:GetObject", "s3:DeleteObject", "s3:PutObject"} & set().union(
        *_actions(policy).values()
    )
