"""The hub's checks on a platform's peering request: one test per reason to refuse."""

from __future__ import annotations

from ipaddress import IPv4Network

import pytest

from components.peering_checks import PeeringRequest, ReportedPlatform, peering_problems
from stack_config import PlatformLink

LINK = PlatformLink(
    "maths", "222200000002", IPv4Network("10.11.0.0/16"), "org/reporting/prod-maths", True
)
REPORTED = ReportedPlatform("222200000002", "10.11.0.0/16", "10.11.250.0/27")
REQUEST = PeeringRequest("222200000002", "10.11.0.0/16", "111100000002", "vpc-hub")


def problems(reported=REPORTED, request=REQUEST):
    return peering_problems(LINK, reported, request, "111100000002", "vpc-hub")


def test_the_expected_request_has_no_problem():
    assert problems() == []


@pytest.mark.parametrize(
    ("reported", "request_", "words"),
    [
        (
            ReportedPlatform("999900000002", "10.11.0.0/16", "10.11.250.0/27"),
            REQUEST,
            "stack reports account 999900000002",
        ),
        (
            ReportedPlatform("222200000002", "10.12.0.0/16", "10.11.250.0/27"),
            REQUEST,
            "stack reports VPC 10.12.0.0/16",
        ),
        (
            ReportedPlatform("222200000002", "10.11.0.0/16", "10.100.0.0/20"),
            REQUEST,
            "outside its VPC",
        ),
        (
            REPORTED,
            PeeringRequest("999900000002", "10.11.0.0/16", "111100000002", "vpc-hub"),
            "comes from account 999900000002",
        ),
        (
            REPORTED,
            PeeringRequest("222200000002", "10.99.0.0/16", "111100000002", "vpc-hub"),
            "requesting VPC is 10.99.0.0/16",
        ),
        (
            REPORTED,
            PeeringRequest("222200000002", "10.11.0.0/16", "111100000002", "vpc-other"),
            "VPC vpc-other",
        ),
        (
            REPORTED,
            PeeringRequest("222200000002", "10.11.0.0/16", "333300000002", "vpc-hub"),
            "of account 333300000002",
        ),
    ],
)
def test_each_mismatch_is_a_named_reason_to_refuse(reported, request_, words):
    (problem,) = problems(reported, request_)
    assert words in problem
