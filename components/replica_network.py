"""A platform's replica subnets: a dedicated private subnet per zone inside its existing VPC,
with its own route table whose only way out is the peering connection to the reporting VPC."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.network_plan import replica_subnets
from contract import HubOutputs
from stack_config import SourcePlatformSettings


@dataclass(frozen=True)
class ReplicaNetworkArgs:
    settings: SourcePlatformSettings
    hub: HubOutputs
    tags: dict[str, str]


class ReplicaNetwork(pulumi.ComponentResource):
    """Replica subnets, their route table, and the spoke's side of the peering."""

    subnet_ids: list[pulumi.Output[str]]
    route_table_id: pulumi.Output[str]
    peering_connection_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: ReplicaNetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("reporting:network:ReplicaNetwork", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        settings = args.settings
        route_table = aws.ec2.RouteTable(
            f"{name}-rt",
            vpc_id=settings.vpc_id,
            tags={**args.tags, "Name": f"{name}-replicas"},
            opts=child,
        )
        self.subnet_ids = []
        for planned in replica_subnets(settings.replica_cidr, settings.availability_zones):
            subnet_name = f"{name}-{planned.availability_zone}"
            subnet = aws.ec2.Subnet(
                subnet_name,
                vpc_id=settings.vpc_id,
                cidr_block=str(planned.cidr),
                availability_zone=planned.availability_zone,
                map_public_ip_on_launch=False,
                tags={**args.tags, "Name": subnet_name, "Tier": "replica"},
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{subnet_name}-rta", subnet_id=subnet.id, route_table_id=route_table.id, opts=child
            )
            self.subnet_ids.append(subnet.id)
        # This side requests; the hub's stack accepts once the platform is attached there.
        peering = aws.ec2.VpcPeeringConnection(
            f"{name}-peering",
            vpc_id=settings.vpc_id,
            peer_vpc_id=args.hub.vpc_id,
            peer_owner_id=args.hub.account_id,
            peer_region=args.hub.region,
            auto_accept=False,
            tags={**args.tags, "Name": f"{settings.name}-to-reporting"},
            opts=child,
        )
        # AWS keeps this route as a blackhole until the hub accepts; it then goes active.
        aws.ec2.Route(
            f"{name}-to-hub",
            route_table_id=route_table.id,
            destination_cidr_block=args.hub.vpc_cidr,
            vpc_peering_connection_id=peering.id,
            opts=child,
        )
        if settings.peering_accepted:
            # Lets the hub resolve this VPC's public DNS names to private addresses. AWS accepts
            # options only on an active connection: after the hub has accepted (runbook step 5).
            aws.ec2.PeeringConnectionOptions(
                f"{name}-peering-options",
                vpc_peering_connection_id=peering.id,
                requester={"allow_remote_vpc_dns_resolution": True},
                opts=child,
            )
        self.route_table_id = route_table.id
        self.peering_connection_id = peering.id
        self.register_outputs(
            {
                "subnet_ids": self.subnet_ids,
                "route_table_id": self.route_table_id,
                "peering_connection_id": self.peering_connection_id,
            }
        )
