"""People's access policies, judged the way IAM evaluates their conditions for the requests
that matter: from the office, from elsewhere, through an endpoint, by an AWS service."""

from __future__ import annotations

import fnmatch
from ipaddress import ip_address, ip_network

import pytest

from components.access_policies import (
    BUCKET_DATA_ACTIONS,
    DataAccess,
    SessionGrants,
    data_access_statement,
    deny_outside_office_policy,
    report_developer_policy,
)

OFFICE = ["203.0.113.16/28", "198.51.100.0/29"]
BUCKET = "arn:aws:s3:::landing"
HUB_ENDPOINT, COPIER_ENDPOINT = "vpce-0hub", "vpce-0copier"
SWEEPER = "arn:aws:iam::111100000001:role/reporting-dev-incoming-sweeper"
DEPLOYER = "arn:aws:iam::111100000001:role/reporting-deploy"


def _matches(operator: str, key: str, wanted, context: dict) -> bool:
    """One condition operator, as IAM evaluates it (only those these policies use)."""
    if_exists = operator.endswith("IfExists")
    base = operator.removesuffix("IfExists")
    if key not in context:
        return if_exists or (base == "Null" and wanted == "true")
    value = context[key]
    wanted = wanted if isinstance(wanted, list) else [wanted]
    if base == "Null":
        return wanted == ["false"]
    if base == "NotIpAddress":
        return not any(ip_address(value) in ip_network(cidr) for cidr in wanted)
    if base == "StringNotEquals":
        return value not in wanted
    if base == "ArnNotLike":
        return not any(fnmatch.fnmatchcase(value, pattern) for pattern in wanted)
    if base == "Bool":
        return str(value).lower() in wanted
    raise AssertionError(f"operator {operator} is not modelled")


def _denies(statement: dict, context: dict) -> bool:
    assert statement["Effect"] == "Deny"
    return all(
        _matches(operator, key, wanted, context)
        for operator, keys in statement["Condition"].items()
        for key, wanted in keys.items()
    )


OFFICE_USER = {"aws:SourceIp": "203.0.113.20", "aws:ViaAWSService": "false"}
HOME_USER = {"aws:SourceIp": "192.0.2.44", "aws:ViaAWSService": "false"}


@pytest.mark.parametrize(
    ("request_context", "denied"),
    [
        (OFFICE_USER, False),
        (HOME_USER, True),
        # Athena reading S3 for a person at home: the service acts on their behalf.
        ({**HOME_USER, "aws:ViaAWSService": "true", "aws:CalledVia": ["athena"]}, False),
        # CloudFormation creating a stack from a console session at home.
        ({**HOME_USER, "aws:CalledVia": ["cloudformation.amazonaws.com"]}, False),
    ],
)
def test_people_are_denied_everything_outside_the_office(request_context, denied):
    (statement,) = deny_outside_office_policy(OFFICE)["Statement"]
    assert (statement["Action"], statement["Resource"]) == ("*", "*")
    assert _denies(statement, request_context) is denied


LANDING = data_access_statement(
    BUCKET, DataAccess(OFFICE, [HUB_ENDPOINT, COPIER_ENDPOINT], [SWEEPER, DEPLOYER])
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


def test_the_landing_guard_covers_data_not_configuration():
    assert LANDING["Action"] == BUCKET_DATA_ACTIONS
    assert LANDING["Resource"] == [BUCKET, f"{BUCKET}/*"]
    assert not any(action.startswith("s3:PutBucket") for action in LANDING["Action"])


def test_report_developers_may_forward_ports_through_the_host_only():
    host = "arn:aws:ec2:eu-west-2:111100000001:instance/i-0abc"
    key = "arn:aws:kms:eu-west-2:111100000001:key/sessions"
    statements = {
        s["Sid"]: s
        for s in report_developer_policy(SessionGrants("eu-west-2", "111100000001", host, key))[
            "Statement"
        ]
    }
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
    assert statements["ManageOwnSessions"]["Resource"].endswith(":session/${aws:userid}-*")
    assert statements["EncryptSessions"]["Resource"] == key
