"""Accounts, VPCs, subnet tiers and peerings, read from the subnets, VPCs, peering connections,
accepters and routes of the graph."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from offline.diagram.graph import EstateGraph, Located, slug
from offline.diagram.model import Account, Peering, Subnet, Tier, Vpc

SUBNET = "aws:ec2/subnet:Subnet"
VPC = "aws:ec2/vpc:Vpc"
PEERING_CONNECTION = "aws:ec2/vpcPeeringConnection:VpcPeeringConnection"
PEERING_ACCEPTER = "aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter"
ROUTE = "aws:ec2/route:Route"


@dataclass(frozen=True)
class Network:
    accounts: tuple[Account, ...]
    peerings: tuple[Peering, ...]
    # subnet id -> (VPC key, tier key), and (account, VPC id) -> VPC key: where services go.
    subnet_tiers: dict[str, tuple[str, str]]
    vpc_keys: dict[tuple[str, str], str]

    def peering_between(self, one: str | None, other: str | None) -> Peering | None:
        return next((p for p in self.peerings if {p.spoke_vpc, p.hub_vpc} == {one, other}), None)


def read_network(graph: EstateGraph) -> Network:
    subnets: dict[tuple[str, str], list[Located]] = defaultdict(list)
    for subnet in graph.of_type(SUBNET):
        subnets[(graph.account(subnet), subnet.inputs["vpcId"])].append(subnet)
    vpc_keys = {where: slug("vpc", *where) for where in subnets}
    subnet_tiers: dict[str, tuple[str, str]] = {}
    vpcs_by_account: dict[str, list[Vpc]] = defaultdict(list)
    for (account, vpc_id), members in sorted(subnets.items()):
        vpc_key = vpc_keys[(account, vpc_id)]
        tiers = []
        by_tier: dict[tuple[str, str], list[Located]] = defaultdict(list)
        for subnet in members:
            by_tier[(subnet.tags.get("Platform", ""), subnet.tags.get("Tier", "private"))].append(
                subnet
            )
        for (owner, name), tier_subnets in sorted(by_tier.items()):
            key = slug(vpc_key, owner, name)
            tiers.append(
                Tier(
                    key,
                    name,
                    owner,
                    tuple(
                        sorted(
                            Subnet(s.inputs.get("availabilityZone", ""), s.inputs["cidrBlock"])
                            for s in tier_subnets
                        )
                    ),
                )
            )
            subnet_tiers.update({s.resource.id: (vpc_key, key) for s in tier_subnets})
        created = next(
            (
                v
                for v in graph.of_type(VPC)
                if (graph.account(v), v.resource.id) == (account, vpc_id)
            ),
            None,
        )
        cidrs = (
            (created.inputs["cidrBlock"],)
            if created
            else tuple(
                sorted(
                    {
                        run.exports["vpcCidr"]
                        for run in graph.runs
                        if run.exports.get("vpcId") == vpc_id and graph.run_account(run) == account
                    }
                )
            )
        )
        vpcs_by_account[account].append(
            Vpc(vpc_key, vpc_id, cidrs, created is not None, tuple(tiers))
        )
    return Network(
        _accounts(graph, vpcs_by_account),
        _peerings(graph, vpc_keys),
        subnet_tiers,
        vpc_keys,
    )


def _accounts(graph: EstateGraph, vpcs: dict[str, list[Vpc]]) -> tuple[Account, ...]:
    """Spokes by account id, then the hub: the picture reads from the sources to the hub."""
    runs_by_account = defaultdict(list)
    for run in graph.runs:
        runs_by_account[graph.run_account(run)].append(run)
    accounts = []
    for account_id, runs in runs_by_account.items():
        hub = any(run is graph.hub for run in runs)
        stacks = {r.urn for run in runs for r in run.resources if r.type == "pulumi:pulumi:Stack"}
        # The top components: `reporting`, or the platforms deployed in this account.
        names = sorted(
            resource.name
            for run in runs
            for resource in run.resources
            if resource.parent in stacks and not resource.custom
        )
        accounts.append(
            Account(
                slug("account", account_id),
                account_id,
                "hub" if hub else "spoke",
                tuple(names),
                tuple(sorted(run.stack for run in runs)),
                tuple(sorted(vpcs.get(account_id, []), key=lambda v: v.key)),
            )
        )
    return tuple(sorted(accounts, key=lambda a: (a.role == "hub", a.account_id)))


def _peerings(graph: EstateGraph, vpc_keys: dict[tuple[str, str], str]) -> tuple[Peering, ...]:
    peerings = []
    for connection in graph.of_type(PEERING_CONNECTION):
        connection_id = connection.resource.id
        routes = {
            route.inputs["destinationCidrBlock"]
            for route in graph.of_type(ROUTE, graph.hub)
            if route.inputs.get("vpcPeeringConnectionId") == connection_id
        }
        accepted = any(
            accepter.inputs.get("vpcPeeringConnectionId") == connection_id
            for accepter in graph.of_type(PEERING_ACCEPTER, graph.hub)
        )
        platform = connection.tags.get("Platform") or graph.root_component(connection).name
        peerings.append(
            Peering(
                slug("peering", connection_id),
                connection_id,
                platform,
                vpc_keys[(graph.account(connection), connection.inputs["vpcId"])],
                vpc_keys[(connection.inputs["peerOwnerId"], connection.inputs["peerVpcId"])],
                tuple(sorted(routes)),
                accepted,
            )
        )
    return tuple(sorted(peerings, key=lambda p: (p.platform, p.key)))
