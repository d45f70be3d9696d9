"""The hub's side of one platform's peering: accept the request, route to the replica subnets."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class PeeringAcceptanceArgs:
    platform: str
    peering_connection_id: pulumi.Input[str]
    replica_cidr: pulumi.Input[str]
    route_table_id: pulumi.Input[str]
    tags: dict[str, str]
    # The SSH bastion's public route table, when there is one: the bastion reaches the replicas
    # over the peering too.
    bastion_route_table_id: pulumi.Input[str] | None = None


class PeeringAcceptance(pulumi.ComponentResource):
    """Accepts the spoke's request and adds a route to the platform's replica subnets only, never
    to the rest of its VPC. The accepter's DNS option lets the spoke resolve the hub's public
    DNS names to private addresses, so its traffic to the hub stays on the peering."""

    peering_connection_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: PeeringAcceptanceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("reporting:network:PeeringAcceptance", name, None, opts)
        accepter = aws.ec2.VpcPeeringConnectionAccepter(
            f"{name}-accepter",
            vpc_peering_connection_id=args.peering_connection_id,
            auto_accept=True,
            accepter={"allow_remote_vpc_dns_resolution": True},
            tags={**args.tags, "Name": f"reporting-to-{args.platform}"},
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.ec2.Route(
            f"{name}-route",
            route_table_id=args.route_table_id,
            destination_cidr_block=args.replica_cidr,
            # The accepter's id is the connection's; using it orders the route after acceptance.
            vpc_peering_connection_id=accepter.id,
            opts=pulumi.ResourceOptions(parent=self),
        )
        if args.bastion_route_table_id is not None:
            aws.ec2.Route(
                f"{name}-bastion-route",
                route_table_id=args.bastion_route_table_id,
                destination_cidr_block=args.replica_cidr,
                vpc_peering_connection_id=accepter.id,
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.peering_connection_id = accepter.id
        self.register_outputs({"peering_connection_id": self.peering_connection_id})
