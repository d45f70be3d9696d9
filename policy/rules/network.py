"""Security groups: nothing admitted from the whole internet, database ports from private
ranges or other security groups only; the SSH bastion's group admits SSH and nothing else."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from policy.rules.compute import EC2_INSTANCE, is_ssh_bastion
from policy.rules.graph import GraphResource, StackViolation, by_parent, of_types
from policy.rules.values import UNKNOWN, Unknown, as_list, is_set, is_unknown, port

SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
DEFAULT_SECURITY_GROUP = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
GROUP_TYPES = (SECURITY_GROUP, DEFAULT_SECURITY_GROUP)
STANDALONE_RULE_TYPES = (INGRESS_RULE, GROUP_RULE)
# SQL Server, MySQL/MariaDB, PostgreSQL, Oracle.
DATABASE_PORTS = (1433, 3306, 5432, 1521)
SSH_PORT = 22
RFC1918 = tuple(
    ipaddress.ip_network(block) for block in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
)
_ALL_PROTOCOLS = ("-1", "all")
_TCP = ("tcp", "6")


@dataclass(frozen=True)
class Ingress:
    """One ingress rule, whichever resource shape it came in: its CIDRs (v4 and v6, unknown
    ones left out) and its other sources (security groups, self, prefix lists)."""

    protocol: Any
    from_port: Any
    to_port: Any
    cidrs: tuple[str, ...]
    other_sources: tuple[str, ...]

    def admits(self, number: int) -> bool | None:
        """Whether the rule admits TCP `number`; None if its protocol or ports are unknown."""
        protocol = str(self.protocol).lower() if isinstance(self.protocol, str | int) else None
        if protocol in _ALL_PROTOCOLS:
            return True
        if protocol is None:
            return None
        if protocol not in _TCP:
            return False
        low, high = port(self.from_port), port(self.to_port)
        if low is None or high is None:
            return None
        return low <= number <= high


def _known(values: Any) -> tuple[str, ...]:
    return () if is_unknown(values) else tuple(v for v in as_list(values) if isinstance(v, str))


def _sources(rule: Mapping[str, Any], keys: Sequence[str]) -> tuple[str, ...]:
    """The non-CIDR sources a rule names (`self: false` names none)."""
    return tuple(key for key in keys if is_set(rule.get(key)) and rule.get(key) is not False)


def ingress_of(resource_type: str, props: Mapping[str, Any]) -> list[Ingress] | Unknown:
    """The ingress rules a resource defines ([] for other types); UNKNOWN if not known yet."""
    if resource_type in GROUP_TYPES:
        rules = props.get("ingress")
        if is_unknown(rules):
            return UNKNOWN
        return [
            Ingress(
                rule.get("protocol"),
                rule.get("fromPort"),
                rule.get("toPort"),
                _known(rule.get("cidrBlocks")) + _known(rule.get("ipv6CidrBlocks")),
                _sources(rule, ("securityGroups", "self", "prefixListIds")),
            )
            for rule in as_list(rules)
            if isinstance(rule, Mapping)
        ]
    if resource_type == INGRESS_RULE:
        return [
            Ingress(
                props.get("ipProtocol"),
                props.get("fromPort"),
                props.get("toPort"),
                _known(props.get("cidrIpv4")) + _known(props.get("cidrIpv6")),
                _sources(props, ("referencedSecurityGroupId", "prefixListId")),
            )
        ]
    if resource_type == GROUP_RULE:
        kind = props.get("type")
        if is_unknown(kind):
            return UNKNOWN
        if kind != "ingress":
            return []
        return [
            Ingress(
                props.get("protocol"),
                props.get("fromPort"),
                props.get("toPort"),
                _known(props.get("cidrBlocks")) + _known(props.get("ipv6CidrBlocks")),
                _sources(props, ("sourceSecurityGroupId", "self", "prefixListIds")),
            )
        ]
    return []


def _network(cidr: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return None


def is_world(cidr: str) -> bool:
    """0.0.0.0/0 or ::/0, however spelled."""
    network = _network(cidr)
    return network is not None and network.prefixlen == 0


def is_rfc1918(cidr: str) -> bool:
    network = _network(cidr)
    return isinstance(network, ipaddress.IPv4Network) and any(
        network.subnet_of(block) for block in RFC1918
    )


def _describe(ingress: Ingress) -> str:
    if str(ingress.protocol).lower() in _ALL_PROTOCOLS:
        return "of all traffic"
    low, high = port(ingress.from_port), port(ingress.to_port)
    ports = f"port {low}" if low == high else f"ports {low}-{high}"
    return f"{ingress.protocol} {ports}"


def security_group_no_world_ingress(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """No ingress from 0.0.0.0/0 or ::/0, on any port: inline rules of a security group (or the
    VPC's default group) and standalone ingress rules."""
    rules = ingress_of(resource_type, props)
    if is_unknown(rules):
        return []
    return [
        f"ingress {_describe(ingress)} admits {cidr}: the whole internet"
        for ingress in rules
        for cidr in ingress.cidrs
        if is_world(cidr)
    ]


def security_group_database_ports_private(
    resource_type: str, props: Mapping[str, Any]
) -> list[str]:
    """An ingress rule that reaches a database port (1433, 3306, 5432, 1521) admits only
    RFC 1918 CIDRs (the peer's or the reporting VPC's) or security groups, never a prefix list
    or a public or IPv6 range."""
    rules = ingress_of(resource_type, props)
    if is_unknown(rules):
        return []
    problems = []
    for ingress in rules:
        ports = [number for number in DATABASE_PORTS if ingress.admits(number)]
        if not ports:
            continue
        problems += [
            f"ingress {_describe(ingress)} opens database port(s) {ports} to {cidr}, "
            "which is not an RFC 1918 range"
            for cidr in ingress.cidrs
            if not is_rfc1918(cidr)
        ]
        if "prefixListIds" in ingress.other_sources or "prefixListId" in ingress.other_sources:
            problems.append(
                f"ingress {_describe(ingress)} opens database port(s) {ports} to a prefix list"
            )
    return problems


def _ssh_only(ingress: Ingress) -> bool | None:
    """Whether the rule is exactly TCP 22; None if its protocol or ports are unknown."""
    if any(is_unknown(v) for v in (ingress.protocol, ingress.from_port, ingress.to_port)):
        return None
    return (
        str(ingress.protocol).lower() in _TCP
        and port(ingress.from_port) == SSH_PORT
        and port(ingress.to_port) == SSH_PORT
    )


def _bastion_ingress_problems(ingress: Ingress) -> list[str]:
    problems = []
    if _ssh_only(ingress) is False:
        problems.append(f"ingress {_describe(ingress)} admits more than TCP 22")
    if ingress.other_sources:
        problems.append(
            f"ingress {_describe(ingress)} admits {', '.join(ingress.other_sources)}: "
            "the bastion admits named CIDR ranges only"
        )
    problems += [
        f"ingress {_describe(ingress)} admits {cidr}: the whole internet"
        for cidr in ingress.cidrs
        if is_world(cidr)
    ]
    return problems


def ssh_bastion_confined(resources: Sequence[GraphResource]) -> list[StackViolation]:
    """The instance tagged `Access: ssh-bastion` (the one allowed a public address) has a
    security group of its own (a sibling under its component) whose every ingress rule is
    TCP 22 from CIDR ranges that are not the whole internet."""
    violations = []
    for siblings in by_parent(resources).values():
        bastions = [r for r in of_types(siblings, (EC2_INSTANCE,)) if is_ssh_bastion(r.props)]
        if not bastions:
            continue
        groups = of_types(siblings, (SECURITY_GROUP, *STANDALONE_RULE_TYPES))
        problems = []
        if not of_types(groups, (SECURITY_GROUP,)):
            problems.append("no security group of its own under the same component")
        for group in groups:
            rules = ingress_of(group.type, group.props)
            if is_unknown(rules):
                continue
            problems += [
                f"{group.name}: {problem}"
                for ingress in rules
                for problem in _bastion_ingress_problems(ingress)
            ]
        violations += [
            StackViolation(bastion.urn, f"SSH bastion {bastion.name}: {problem}")
            for bastion in bastions
            for problem in problems
        ]
    return violations
