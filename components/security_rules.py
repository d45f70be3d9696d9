"""Security group rules built from plain data. Pure, tested without Pulumi."""

from __future__ import annotations


def replica_client_egress(platforms: list[tuple[str, str, list[int]]]) -> list[dict]:
    """Egress from the hub's replica clients: each platform's replica subnets, its ports only.

    `platforms` holds (name, replica CIDR, database ports) for every attached platform.
    """
    return [
        {
            "description": f"{name} replicas",
            "protocol": "tcp",
            "from_port": port,
            "to_port": port,
            "cidr_blocks": [cidr],
        }
        for name, cidr, ports in sorted(platforms)
        for port in sorted(set(ports))
    ]


def replica_ingress(hub_cidr: str, ports: list[int]) -> list[dict]:
    """Ingress to a platform's replicas: the reporting VPC only, the database ports only."""
    return [
        {
            "description": "Reporting VPC over peering",
            "protocol": "tcp",
            "from_port": port,
            "to_port": port,
            "cidr_blocks": [hub_cidr],
        }
        for port in sorted(set(ports))
    ]
