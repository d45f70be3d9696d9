"""The reporting VPC: private subnets only (no NAT, no internet gateway), an S3 gateway
endpoint, interface endpoints for the AWS APIs functions call, and a default security group with
no rules."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.network_plan import PlannedSubnet
from components.policy_documents import interface_endpoint_policy, own_account_s3_endpoint_policy
from components.security_rules import HTTPS, tcp_rule


@dataclass(frozen=True)
class HubNetworkArgs:
    account_id: str
    region: str
    vpc_cidr: str
    subnets: tuple[PlannedSubnet, ...]
    # AWS services reached through interface endpoints in the app tier (there is no NAT).
    interface_services: tuple[str, ...]
    tags: dict[str, str]
    # Objects of AWS's buckets readable through the S3 endpoint (package repositories).
    readable_aws_objects: tuple[str, ...] = ()


class HubNetwork(pulumi.ComponentResource):
    """VPC, tiered private subnets, one private route table, S3 gateway endpoint."""

    vpc_id: pulumi.Output[str]
    route_table_id: pulumi.Output[str]
    s3_endpoint_id: pulumi.Output[str]
    s3_prefix_list_id: pulumi.Output[str]
    endpoints_security_group_id: pulumi.Output[str]
    subnet_ids: dict[str, list[pulumi.Output[str]]]

    def __init__(
        self, name: str, args: HubNetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("reporting:network:HubNetwork", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=args.vpc_cidr,
            # RDS endpoints and interface endpoints resolve only with both switched on.
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags={**args.tags, "Name": f"{name}-vpc"},
            opts=child,
        )
        # Adopt the VPC's default security group and strip it, so nothing can use it by default.
        aws.ec2.DefaultSecurityGroup(
            f"{name}-default-sg",
            vpc_id=vpc.id,
            ingress=[],
            egress=[],
            tags={**args.tags, "Name": f"{name}-default-closed"},
            opts=child,
        )
        route_table = aws.ec2.RouteTable(
            f"{name}-private-rt",
            vpc_id=vpc.id,
            tags={**args.tags, "Name": f"{name}-private"},
            opts=child,
        )
        self.subnet_ids = {}
        for planned in args.subnets:
            subnet_name = f"{name}-{planned.tier}-{planned.availability_zone}"
            subnet = aws.ec2.Subnet(
                subnet_name,
                vpc_id=vpc.id,
                cidr_block=str(planned.cidr),
                availability_zone=planned.availability_zone,
                map_public_ip_on_launch=False,
                tags={**args.tags, "Name": subnet_name, "Tier": planned.tier},
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{subnet_name}-rta",
                subnet_id=subnet.id,
                route_table_id=route_table.id,
                opts=child,
            )
            self.subnet_ids.setdefault(planned.tier, []).append(subnet.id)
        s3_endpoint = aws.ec2.VpcEndpoint(
            f"{name}-s3-endpoint",
            vpc_id=vpc.id,
            service_name=f"com.amazonaws.{args.region}.s3",
            vpc_endpoint_type="Gateway",
            route_table_ids=[route_table.id],
            policy=json.dumps(
                own_account_s3_endpoint_policy(args.account_id, args.readable_aws_objects)
            ),
            tags={**args.tags, "Name": f"{name}-s3"},
            opts=child,
        )
        endpoints_group = aws.ec2.SecurityGroup(
            f"{name}-endpoints-sg",
            description="Interface endpoints: HTTPS from inside the VPC",
            vpc_id=vpc.id,
            ingress=[tcp_rule("HTTPS from the VPC", HTTPS, cidr_blocks=[args.vpc_cidr])],
            egress=[],
            tags={**args.tags, "Name": f"{name}-endpoints"},
            opts=child,
        )
        for service in args.interface_services:
            aws.ec2.VpcEndpoint(
                f"{name}-{service}-endpoint",
                vpc_id=vpc.id,
                service_name=f"com.amazonaws.{args.region}.{service}",
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                policy=json.dumps(interface_endpoint_policy(service, args.account_id)),
                subnet_ids=self.subnet_ids["app"],
                security_group_ids=[endpoints_group.id],
                tags={**args.tags, "Name": f"{name}-{service}"},
                opts=child,
            )
        self.vpc_id = vpc.id
        self.route_table_id = route_table.id
        self.s3_endpoint_id = s3_endpoint.id
        self.s3_prefix_list_id = s3_endpoint.prefix_list_id
        self.endpoints_security_group_id = endpoints_group.id
        self.register_outputs(
            {
                "vpc_id": self.vpc_id,
                "route_table_id": self.route_table_id,
                "s3_endpoint_id": self.s3_endpoint_id,
                "s3_prefix_list_id": self.s3_prefix_list_id,
                "endpoints_security_group_id": self.endpoints_security_group_id,
                "subnet_ids": self.subnet_ids,
            }
        )
