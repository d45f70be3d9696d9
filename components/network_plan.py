"""CIDR plans: which subnet goes where. Pure functions, tested without Pulumi."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Network

HUB_TIERS = ("data", "app")
# The hub VPC is cut into 16 equal slots; tiers take consecutive slots, one per zone, leaving
# the rest free for later tiers (a bastion's public subnet, endpoints).
_HUB_SLOT_BITS = 4


@dataclass(frozen=True)
class PlannedSubnet:
    tier: str
    availability_zone: str
    cidr: IPv4Network


def hub_subnets(vpc_cidr: IPv4Network, zones: tuple[str, ...]) -> tuple[PlannedSubnet, ...]:
    """One subnet per tier per zone, in tier order then zone order."""
    slots = list(vpc_cidr.subnets(prefixlen_diff=_HUB_SLOT_BITS))
    return tuple(
        PlannedSubnet(tier, zone, slots[tier_index * len(zones) + zone_index])
        for tier_index, tier in enumerate(HUB_TIERS)
        for zone_index, zone in enumerate(zones)
    )


def public_subnet_cidr(vpc_cidr: IPv4Network, zones: tuple[str, ...]) -> IPv4Network:
    """The first free slot after the tiers: the optional bastion's public subnet."""
    slots = list(vpc_cidr.subnets(prefixlen_diff=_HUB_SLOT_BITS))
    return slots[len(HUB_TIERS) * len(zones)]


def tier_cidrs(subnets: tuple[PlannedSubnet, ...], tier: str) -> list[str]:
    return [str(subnet.cidr) for subnet in subnets if subnet.tier == tier]


def replica_subnets(replica_cidr: IPv4Network, zones: tuple[str, ...]) -> tuple[PlannedSubnet, ...]:
    """Split the platform's replica block into one equal subnet per zone."""
    bits = (len(zones) - 1).bit_length()
    pieces = list(replica_cidr.subnets(prefixlen_diff=bits))
    return tuple(PlannedSubnet("replica", zone, pieces[index]) for index, zone in enumerate(zones))
