"""People's access policies, and the Session Manager endpoints' policies, judged the way IAM
evaluates them for the requests that matter: from the office, from elsewhere, through an
endpoint, by an AWS service, anonymously, on one's own or another's session, key or log group."""

from __future__ import annotations

import fnmatch
import re
from ipaddress import ip_address, ip_network

import pytest

from components.access_policies import (
    BUCKET_DATA_ACTIONS,
    AccessHostGrants,
    DataAccess,
    SessionGrants,
    access_host_policy,
    data_access_statement,
    deny_outside_office_policy,
    report_developer_policy,
)
from components.policy_documents import interface_endpoint_policy

OFFICE = ["203.0.113.16/28", "198.51.100.0/29"]
BUCKET = "arn:aws:s3:::landing"
HUB_ENDPOINT, COPIER_ENDPOINT = "vpce-0hub", "vpce-0copier"
ACCOUNT, OTHER_ACCOUNT = "111100000001", "999900000009"
SWEEPER = f"arn:aws:iam::{ACCOUNT}:role/reporting-dev-incoming-sweeper"
DEPLOYER = f"arn:aws:iam::{ACCOUNT}:role/reporting-deploy"
# Operators that hold when their key is absent from the request (IAM's rule for negated
# operators); every other operator fails on an absent key unless it ends in IfExists.
NEGATED_OPERATORS = {
    "ArnNotEquals",
    "ArnNotLike",
    "DateNotEquals",
    "NotIpAddress",
    "NumericNotEquals",
    "StringNotEquals",
    "StringNotEqualsIgnoreCase",
    "StringNotLike",
}


def _resolved(text: str, context: dict) -> str:
    """`text` with its policy variables (`${aws:userid}`) replaced from the request."""
    return re.sub(r"\$\{([^}]+)\}", lambda found: context[found[1]], text)


def _matches(operator: str, key: str, wanted, context: dict) -> bool:
    """One condition operator, as IAM evaluates it (only those these policies use)."""
    if_exists = operator.endswith("IfExists")
    base = operator.removesuffix("IfExists")
    if key not in context:
        if base == "Null":
            return wanted == "true"
        return if_exists or base in NEGATED_OPERATORS
    value = context[key]
    wanted = [_resolved(w, context) for w in (wanted if isinstance(wanted, list) else [wanted])]
    if base == "Null":
        return wanted == ["false"]
    if base == "NotIpAddress":
        return not any(ip_address(value) in ip_network(cidr) for cidr in wanted)
    if base == "StringEquals":
        return value in wanted
    if base == "StringNotEquals":
        return value not in wanted
    if base == "StringLike":
        return any(fnmatch.fnmatchcase(value, pattern) for pattern in wanted)
    if base == "ArnNotLike":
        return not any(fnmatch.fnmatchcase(value, pattern) for pattern in wanted)
    if base == "Bool":
        return str(value).lower() in wanted
    raise AssertionError(f"operator {operator} is not modelled")


def _conditions_hold(statement: dict, context: dict) -> bool:
    return all(
        _matches(operator, key, wanted, context)
        for operator, keys in statement.get("Condition", {}).items()
        for key, wanted in keys.items()
    )


def _denies(statement: dict, context: dict) -> bool:
    assert statement["Effect"] == "Deny"
    return _conditions_hold(statement, context)


def _allowed(policy: dict, action: str, resource: str, context: dict) -> bool:
    """Whether an Allow of `policy` grants `action` on `resource` to the request."""

    def named(patterns, value: str) -> bool:
        patterns = patterns if isinstance(patterns, list) else [patterns]
        return any(fnmatch.fnmatchcase(value, _resolved(p, context)) for p in patterns)

    return any(
        statement["Effect"] == "Allow"
        and named(statement["Action"], action)
        and named(statement["Resource"], resource)
        and _conditions_hold(statement, context)
        for statement in policy["Statement"]
    )


def test_a_negated_operator_holds_when_its_key_is_absent():
    # IAM: NotIpAddress, StringNotEquals, ArnNotLike... are true for a request without the key.
    assert _matches("NotIpAddress", "aws:SourceIp", OFFICE, {}) is True
    assert _matches("ArnNotLike", "aws:PrincipalArn", [DEPLOYER], {}) is True
    assert _matches("StringNotEquals", "aws:SourceVpce", [HUB_ENDPOINT], {}) is True
    assert _matches("Bool", "aws:ViaAWSService", "false", {}) is False
    assert _matches("StringLike", "aws:userid", "*", {}) is False


OFFICE_USER = {"aws:SourceIp": "203.0.113.20", "aws:ViaAWSService": "false"}
HOME_USER = {"aws:SourceIp": "192.0.2.44", "aws:ViaAWSService": "false"}
# A request through a VPC endpoint carries the endpoint's id and no source IP.
THROUGH_AN_ENDPOINT = {"aws:SourceVpce": HUB_ENDPOINT, "aws:ViaAWSService": "false"}
# An unsigned request: no principal at all.
ANONYMOUS_FROM_HOME = {"aws:SourceIp": "192.0.2.44", "aws:ViaAWSService": "false"}


@pytest.mark.parametrize(
    ("request_context", "denied"),
    [
        (OFFICE_USER, False),
        (HOME_USER, True),
        # Athena reading S3 for a person at home: the service acts on their behalf.
        ({**HOME_USER, "aws:ViaAWSService": "true", "aws:CalledVia": ["athena"]}, False),
        # CloudFormation creating a stack from a console session at home.
        ({**HOME_USER, "aws:CalledVia": ["cloudformation.amazonaws.com"]}, False),
        # A person's credentials used inside a VPC (no source IP): refused on purpose. People
        # work from the office; the hub's instances act with their own roles (README: access).
        (THROUGH_AN_ENDPOINT, True),
    ],
)
def test_people_are_denied_everything_outside_the_office(request_context, denied):
    (statement,) = deny_outside_office_policy(OFFICE)["Statement"]
    assert (statement["Action"], statement["Resource"]) == ("*", "*")
    assert _denies(statement, request_context) is denied


LANDING = data_access_statement(
    BUCKET, DataAccess(OFFICE, [HUB_ENDPOINT, COPIER_ENDPOINT], [SWEEPER, DEPLOYER])
)
# The reports bucket's guard (components/report_server.py): the hub's endpoint and the deployer.
REPORTS = data_access_statement(
    "arn:aws:s3:::reports", DataAccess(OFFICE, [HUB_ENDPOINT], [DEPLOYER])
)


@pytest.mark.parametrize(
    ("who", "request_context", "denied"),
    [
        ("a report developer in the office", {**OFFICE_USER, "aws:PrincipalArn": "x"}, False),
        ("a stolen key used from home", {**HOME_USER, "aws:PrincipalArn": "x"}, True),
        (
            "the loader, through the hub's S3 endpoint",
            {
                "aws:SourceVpce": HUB_ENDPOINT,
                "aws:PrincipalArn": "loader",
                "aws:ViaAWSService": "false",
            },
            False,
        ),
        (
            "a copier, through its platform's endpoint",
            {
                "aws:SourceVpce": COPIER_ENDPOINT,
                "aws:PrincipalArn": "copier",
                "aws:ViaAWSService": "false",
            },
            False,
        ),
        (
            "someone through another VPC's endpoint",
            {
                "aws:SourceVpce": "vpce-0other",
                "aws:PrincipalArn": "x",
                "aws:ViaAWSService": "false",
            },
            True,
        ),
        (
            "the incoming sweeper, from AWS's public range",
            {**HOME_USER, "aws:PrincipalArn": SWEEPER},
            False,
        ),
        ("the deployer, from CI", {**HOME_USER, "aws:PrincipalArn": DEPLOYER}, False),
    ],
)
def test_landing_data_is_reachable_only_from_where_it_should_be(who, request_context, denied):
    assert _denies(LANDING, request_context) is denied, who


@pytest.mark.parametrize("guard", [LANDING, REPORTS], ids=["landing", "reports"])
@pytest.mark.parametrize(
    "request_context",
    [
        ANONYMOUS_FROM_HOME,
        {"aws:SourceVpce": "vpce-0other", "aws:ViaAWSService": "false"},
    ],
    ids=["from the internet", "through another VPC's endpoint"],
)
def test_anonymous_data_requests_are_denied(guard, request_context):
    # No aws:PrincipalArn: ArnNotLike holds, so no named role's exception applies.
    assert "aws:PrincipalArn" not in request_context
    assert _denies(guard, request_context) is True


def test_the_landing_guard_covers_data_not_configuration():
    assert LANDING["Action"] == BUCKET_DATA_ACTIONS
    assert LANDING["Resource"] == [BUCKET, f"{BUCKET}/*"]
    assert not any(action.startswith("s3:PutBucket") for action in LANDING["Action"])


HOST = f"arn:aws:ec2:eu-west-2:{ACCOUNT}:instance/i-0abc"
SESSION_KEY = f"arn:aws:kms:eu-west-2:{ACCOUNT}:key/sessions"
DEVELOPER_POLICY = report_developer_policy(SessionGrants("eu-west-2", ACCOUNT, HOST, SESSION_KEY))


def test_report_developers_may_forward_ports_through_the_host_only():
    host, key = HOST, SESSION_KEY
    statements = {s["Sid"]: s for s in DEVELOPER_POLICY["Statement"]}
    start = statements["ForwardPortsThroughTheAccessHost"]
    assert start["Action"] == "ssm:StartSession"
    assert start["Resource"] == [
        host,
        "arn:aws:ssm:eu-west-2::document/AWS-StartPortForwardingSession",
        "arn:aws:ssm:eu-west-2::document/AWS-StartPortForwardingSessionToRemoteHost",
    ]
    # No shell: the shell document is not granted, and the check makes a session name one.
    assert not any("SSM-SessionManagerRunShell" in r for r in start["Resource"])
    assert start["Condition"] == {"BoolIfExists": {"ssm:SessionDocumentAccessCheck": "true"}}
    own = statements["ManageOwnSessions"]
    assert own["Resource"] == f"arn:aws:ssm:eu-west-2:{ACCOUNT}:session/*"
    assert own["Condition"] == {
        "StringLike": {"ssm:resourceTag/aws:ssmmessages:session-id": "${aws:userid}"}
    }
    assert statements["EncryptSessions"]["Resource"] == key


# A report developer signed in through the role: aws:userid is `<role id>:<role session name>`,
# and Session Manager names the session `<role session name>-<suffix>` and tags it with the
# starter's aws:userid.
ALICE = {"aws:userid": "AROAEXAMPLEROLEID:alice"}


def _session(owner: str) -> tuple[str, dict]:
    """A session's ARN and the tag Session Manager gives it."""
    arn = f"arn:aws:ssm:eu-west-2:{ACCOUNT}:session/{owner}-0a1b2c3d4e5f67890"
    return arn, {"ssm:resourceTag/aws:ssmmessages:session-id": f"AROAEXAMPLEROLEID:{owner}"}


@pytest.mark.parametrize("action", ["ssm:TerminateSession", "ssm:ResumeSession"])
@pytest.mark.parametrize(("owner", "allowed"), [("alice", True), ("bob", False)])
def test_report_developers_end_and_resume_their_own_sessions_only(action, owner, allowed):
    arn, tags = _session(owner)
    assert _allowed(DEVELOPER_POLICY, action, arn, {**ALICE, **tags}) is allowed


def test_the_access_host_checks_its_log_group_and_touches_nothing_else_unscoped():
    log_group = f"arn:aws:logs:eu-west-2:{ACCOUNT}:log-group:/reporting/dev/sessions"
    policy = access_host_policy(AccessHostGrants("eu-west-2", ACCOUNT, log_group, SESSION_KEY))
    context: dict = {}
    # The agent refuses a shell session unless it can see that the log group is encrypted.
    groups = f"arn:aws:logs:eu-west-2:{ACCOUNT}:log-group:*"
    assert _allowed(policy, "logs:DescribeLogGroups", groups, context)
    assert _allowed(policy, "logs:PutLogEvents", f"{log_group}:log-stream:i-0abc", context)
    assert not _allowed(
        policy, "logs:PutLogEvents", f"{groups.removesuffix('*')}other:log-stream:x", context
    )
    assert all(statement["Resource"] != "*" for statement in policy["Statement"])


KEY_HERE = f"arn:aws:kms:eu-west-2:{ACCOUNT}:key/0b1c2d3e"
KEY_ELSEWHERE = f"arn:aws:kms:eu-west-2:{OTHER_ACCOUNT}:key/0b1c2d3e"
GROUP_HERE = f"arn:aws:logs:eu-west-2:{ACCOUNT}:log-group:/reporting/dev/sessions"
GROUP_ELSEWHERE = f"arn:aws:logs:eu-west-2:{OTHER_ACCOUNT}:log-group:drop"


def _through_endpoint(resource: str) -> dict:
    """A call by the access host's role, through the endpoint, on `resource`."""
    return {"aws:PrincipalAccount": ACCOUNT, "aws:ResourceAccount": resource.split(":")[4]}


@pytest.mark.parametrize(
    ("service", "action", "resource", "allowed"),
    [
        ("kms", "kms:Decrypt", KEY_HERE, True),
        ("kms", "kms:GenerateDataKey", KEY_HERE, True),
        # Code in the VPC encrypting data under another account's key, to carry it out.
        ("kms", "kms:Encrypt", KEY_ELSEWHERE, False),
        ("kms", "kms:GenerateDataKey", KEY_ELSEWHERE, False),
        ("kms", "kms:CreateGrant", KEY_HERE, False),
        ("logs", "logs:PutLogEvents", f"{GROUP_HERE}:log-stream:s", True),
        ("logs", "logs:CreateLogStream", f"{GROUP_HERE}:log-stream:s", True),
        ("logs", "logs:DescribeLogStreams", GROUP_HERE, True),
        # Writing data into another account's log group.
        ("logs", "logs:PutLogEvents", f"{GROUP_ELSEWHERE}:log-stream:s", False),
        ("logs", "logs:DeleteLogGroup", GROUP_HERE, False),
    ],
)
def test_the_kms_and_logs_endpoints_serve_the_agent_on_this_accounts_resources_only(
    service, action, resource, allowed
):
    policy = interface_endpoint_policy(service, ACCOUNT)
    assert _allowed(policy, action, resource, _through_endpoint(resource)) is allowed


def test_the_logs_endpoint_lets_the_agent_list_log_groups_without_a_resource_account():
    # A list action names no log group; it is judged by the caller's account alone.
    policy = interface_endpoint_policy("logs", ACCOUNT)
    groups = f"arn:aws:logs:eu-west-2:{ACCOUNT}:log-group:*"
    context = {"aws:PrincipalAccount": ACCOUNT}
    assert _allowed(policy, "logs:DescribeLogGroups", groups, context)
    assert not _allowed(policy, "logs:DescribeLogGroups", groups, {"aws:PrincipalAccount": "9"})


@pytest.mark.parametrize("service", ["ssm", "ssmmessages", "ec2messages"])
def test_systems_managers_own_endpoints_admit_the_agents_protocol_by_this_account(service):
    policy = interface_endpoint_policy(service, ACCOUNT)
    assert _allowed(policy, f"{service}:AnyAction", "*", {"aws:PrincipalAccount": ACCOUNT})
    assert not _allowed(policy, f"{service}:AnyAction", "*", {"aws:PrincipalAccount": "9"})
