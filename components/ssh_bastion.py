"""The optional SSH bastion (the case study's PuTTY server): one small instance in a public
subnet of its own, SSH from the office ranges only, key-only, forwarding to the reporting
database and the replicas. Session Manager (components/access_host.py) is the default; this
exists for teams that still need an SSH client. Like every instance of the hub it is a managed
node of Systems Manager (its role), so an administrator can patch it without SSH."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.access_host import ROOT_VOLUME_GB
from components.managed_instance import (
    IMDS_V2_ONLY,
    al2023_ami,
    encrypted_root_volume,
    managed_instance_role,
)
from components.security_rules import HTTPS, tcp_rule
from stack_config import SshBastion as SshBastionSettings

SSH_PORT = 22
# The bastion carries this tag: the policy rules allow a public IP on it alone.
ACCESS_TAG = {"Access": "ssh-bastion"}


@dataclass(frozen=True)
class SshBastionArgs:
    settings: SshBastionSettings
    resource_prefix: str
    vpc_id: pulumi.Input[str]
    availability_zone: str
    # A free slot of the hub's plan (components/network_plan.py: the public tier).
    subnet_cidr: str
    office_cidrs: list[str]
    database_cidrs: list[str]
    database_port: int
    # Systems Manager's agent reaches AWS through the hub's interface endpoints (private DNS
    # answers for the whole VPC); dnf reaches the Amazon Linux repositories on S3.
    endpoints_security_group_id: pulumi.Input[str]
    s3_prefix_list_id: pulumi.Input[str]
    replica_clients_security_group_id: pulumi.Input[str]
    volumes_key_arn: pulumi.Input[str]
    tags: dict[str, str]
    compute_tags: dict[str, str]


class SshBastion(pulumi.ComponentResource):
    """Internet gateway, public subnet and its route table, key pair, role and profile, security
    group, instance."""

    public_ip: pulumi.Output[str]
    route_table_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: SshBastionArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("reporting:access:SshBastion", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        settings = args.settings
        gateway = aws.ec2.InternetGateway(
            f"{name}-igw", vpc_id=args.vpc_id, tags={**args.tags, "Name": f"{name}-igw"}, opts=child
        )
        subnet = aws.ec2.Subnet(
            f"{name}-subnet",
            vpc_id=args.vpc_id,
            cidr_block=args.subnet_cidr,
            availability_zone=args.availability_zone,
            # Only the bastion asks for a public address; nothing else lands here.
            map_public_ip_on_launch=False,
            tags={**args.tags, "Name": f"{name}-public", "Tier": "public"},
            opts=child,
        )
        routes = aws.ec2.RouteTable(
            f"{name}-routes",
            vpc_id=args.vpc_id,
            tags={**args.tags, "Name": f"{name}-public"},
            opts=child,
        )
        aws.ec2.Route(
            f"{name}-internet-route",
            route_table_id=routes.id,
            destination_cidr_block="0.0.0.0/0",
            gateway_id=gateway.id,
            opts=child,
        )
        aws.ec2.RouteTableAssociation(
            f"{name}-subnet-routes", subnet_id=subnet.id, route_table_id=routes.id, opts=child
        )
        key = aws.ec2.KeyPair(
            f"{name}-key",
            key_name=f"{args.resource_prefix}-bastion",
            public_key=settings.public_key,
            tags=args.tags,
            opts=child,
        )
        managed = managed_instance_role(name, args.tags, child)
        security_group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            description=(
                "SSH bastion: SSH from the office only; out to the reporting database, Systems "
                "Manager and the package repositories"
            ),
            vpc_id=args.vpc_id,
            ingress=[
                tcp_rule("SSH from the office", SSH_PORT, cidr_blocks=sorted(args.office_cidrs))
            ],
            egress=pulumi.Output.all(
                args.endpoints_security_group_id, args.s3_prefix_list_id
            ).apply(
                lambda ids: [
                    tcp_rule(
                        "Reporting database", args.database_port, cidr_blocks=args.database_cidrs
                    ),
                    tcp_rule(
                        "Systems Manager through the interface endpoints",
                        HTTPS,
                        security_groups=[ids[0]],
                    ),
                    # The public subnet has no route to the S3 gateway endpoint: S3 is reached
                    # through the internet gateway, at the addresses of this prefix list only.
                    tcp_rule("Amazon Linux repositories on S3", HTTPS, prefix_list_ids=[ids[1]]),
                ]
            ),
            tags={**args.tags, "Name": f"{name}-sg"},
            opts=child,
        )
        instance = aws.ec2.Instance(
            f"{name}-instance",
            ami=al2023_ami(settings.instance_type, self),
            instance_type=settings.instance_type,
            subnet_id=subnet.id,
            vpc_security_group_ids=[security_group.id, args.replica_clients_security_group_id],
            key_name=key.key_name,
            iam_instance_profile=managed.profile.name,
            associate_public_ip_address=True,
            metadata_options=IMDS_V2_ONLY,
            root_block_device=encrypted_root_volume(args.volumes_key_arn, ROOT_VOLUME_GB),
            tags={**args.compute_tags, **ACCESS_TAG, "Name": f"{args.resource_prefix}-bastion"},
            volume_tags=args.tags,
            # As the access host: an administrator patches it in place (`dnf upgrade` over
            # Session Manager or Run Command) and replaces it deliberately.
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["ami"]),
        )
        self.public_ip = instance.public_ip
        self.route_table_id = routes.id
        self.register_outputs({"public_ip": self.public_ip, "route_table_id": self.route_table_id})
