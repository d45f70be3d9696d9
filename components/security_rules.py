"""Security group rules built from plain data. Pure, tested without Pulumi."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

HTTPS = 443


def tcp_rule(description: str, port: int, **sources: list[str]) -> dict:
    """One inline rule for one TCP port; `sources` are `cidr_blocks`, `prefix_list_ids` or
    `security_groups`. Rules are always one port: ranges are how groups quietly open too much."""
    return {
        "description": description,
        "protocol": "tcp",
        "from_port": port,
        "to_port": port,
        **sources,
    }


def replica_client_egress(platforms: list[tuple[str, str, list[int]]]) -> list[dict]:
    """Egress from the hub's replica clients: each platform's replica subnets, its ports only.

    `platforms` holds (name, replica CIDR, database ports) for every attached platform.
    """
    return [
        tcp_rule(f"{name} replicas", port, cidr_blocks=[cidr])
        for name, cidr, ports in sorted(platforms)
        for port in sorted(set(ports))
    ]


def replica_ingress(client_cidrs: list[str], ports: list[int]) -> list[dict]:
    """Ingress to a platform's replicas: the reporting VPC's client subnets only, over peering,
    the database ports only."""
    return [
        tcp_rule("Reporting clients over peering", port, cidr_blocks=sorted(client_cidrs))
        for port in sorted(set(ports))
    ]


def app_tier_security_group(
    name: str,
    description: str,
    *,
    vpc_id: pulumi.Input[str],
    database: tuple[list[str], int],
    s3_prefix_list_id: pulumi.Input[str],
    endpoints_group_id: pulumi.Input[str],
    tags: dict[str, str],
    opts: pulumi.ResourceOptions,
) -> aws.ec2.SecurityGroup:
    """`<name>-sg`: no ingress, egress `app_tier_egress` to the database's (CIDRs, port)."""
    return aws.ec2.SecurityGroup(
        f"{name}-sg",
        description=description,
        vpc_id=vpc_id,
        ingress=[],
        egress=pulumi.Output.all(s3_prefix_list_id, endpoints_group_id).apply(
            lambda ids: app_tier_egress(database[0], database[1], ids[0], ids[1])
        ),
        tags={**tags, "Name": f"{name}-sg"},
        opts=opts,
    )


def app_tier_egress(
    database_cidrs: list[str], database_port: int, s3_prefix_list_id: str, endpoints_group_id: str
) -> list[dict]:
    """Egress from app-tier compute that works with the reporting database (the landing loader,
    the report server): the database, S3 through its gateway endpoint, and the interface
    endpoints (Secrets Manager, SNS, ...). Nothing else: there is no route out anyway."""
    return [
        tcp_rule("Reporting database", database_port, cidr_blocks=database_cidrs),
        tcp_rule("S3 through the gateway endpoint", HTTPS, prefix_list_ids=[s3_prefix_list_id]),
        tcp_rule(
            "AWS APIs through the interface endpoints", HTTPS, security_groups=[endpoints_group_id]
        ),
    ]
