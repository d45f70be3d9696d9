"""Whether a platform's peering request is the one the hub expects. Pure, tested without Pulumi.

The hub compares three sources: its own config, what the spoke's stack reports, and what AWS
reports about the connection. A spoke stack is another team's code; AWS's view is the truth.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from stack_config import PlatformLink


@dataclass(frozen=True)
class ReportedPlatform:
    """What the spoke's stack exports about itself."""

    account_id: str
    vpc_cidr: str
    replica_cidr: str


@dataclass(frozen=True)
class PeeringRequest:
    """What AWS reports about the peering connection (the `getVpcPeeringConnection` data source)."""

    owner_id: str
    cidr_block: str
    peer_owner_id: str
    peer_vpc_id: str


def peering_problems(
    link: PlatformLink,
    reported: ReportedPlatform,
    request: PeeringRequest,
    hub_account_id: str,
    hub_vpc_id: str,
) -> list[str]:
    """Every reason not to accept; empty when the request is the expected one."""
    expected_cidr = str(link.vpc_cidr)
    problems = []
    if reported.account_id != link.account_id:
        problems.append(
            f"its stack reports account {reported.account_id}, the hub expects {link.account_id}"
        )
    if reported.vpc_cidr != expected_cidr:
        problems.append(
            f"its stack reports VPC {reported.vpc_cidr}, the hub expects {expected_cidr}"
        )
    if not ipaddress.ip_network(reported.replica_cidr).subnet_of(link.vpc_cidr):
        problems.append(
            f"its replica subnets {reported.replica_cidr} are outside its VPC {expected_cidr}"
        )
    if request.owner_id != link.account_id:
        problems.append(
            f"AWS says the request comes from account {request.owner_id}, not {link.account_id}"
        )
    if request.cidr_block != expected_cidr:
        problems.append(f"AWS says the requesting VPC is {request.cidr_block}, not {expected_cidr}")
    if (request.peer_owner_id, request.peer_vpc_id) != (hub_account_id, hub_vpc_id):
        problems.append(
            f"AWS says the request is for VPC {request.peer_vpc_id} "
            f"of account {request.peer_owner_id}, not this hub's VPC {hub_vpc_id}"
        )
    return problems
