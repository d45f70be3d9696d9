"""How people reach the hub's data (README: access): the access host for Session Manager port
forwarding, the optional SSH bastion, and the policies on the roles and groups of people."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Network

import pulumi

from components.access_host import AccessHost, AccessHostArgs
from components.network_plan import public_subnet_cidr
from components.people_access import PeopleAccess, PeopleAccessArgs
from components.policy_documents import iam_governed_key_policy, service_key_policy
from components.service_key import ServiceKey, ServiceKeyArgs
from components.ssh_bastion import SshBastion, SshBastionArgs
from stack_config import HubConfig

# Session Manager's agent reaches these through interface endpoints (the VPC has no way out):
# its own three, CloudWatch Logs for shell session logs, KMS for session encryption.
SESSION_MANAGER_SERVICES = ("ssm", "ssmmessages", "ec2messages", "logs", "kms")


@dataclass(frozen=True)
class HubAccessArgs:
    config: HubConfig
    resource_prefix: str
    vpc_id: pulumi.Input[str]
    app_subnet_ids: list[pulumi.Input[str]]
    database_cidrs: list[str]
    database_port: int
    endpoints_security_group_id: pulumi.Input[str]
    # The S3 gateway endpoint's prefix list: the Amazon Linux repositories, for patching.
    s3_prefix_list_id: pulumi.Input[str]
    replica_clients_security_group_id: pulumi.Input[str]
    operations_key_arn: pulumi.Input[str]
    tags: dict[str, str]
    compute_tags: dict[str, str]


def bastion_subnet_cidr(config: HubConfig) -> IPv4Network:
    """The bastion's public subnet: the first free slot of the hub's plan."""
    return public_subnet_cidr(config.network.vpc_cidr, config.network.availability_zones)


def database_client_cidrs(config: HubConfig, app_cidrs: list[str]) -> list[str]:
    """Who may reach the reporting database and the replicas: the app tier, and the bastion's
    subnet when there is one."""
    if config.access.ssh_bastion is None:
        return app_cidrs
    return [*app_cidrs, str(bastion_subnet_cidr(config))]


class HubAccess(pulumi.ComponentResource):
    """Keys, access host, bastion (when configured) and people's policies."""

    # None: no bastion.
    bastion_route_table_id: pulumi.Output[str] | None
    # The EBS key of the hub's instances (the access host, the bastion, the report server).
    volumes_key_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: HubAccessArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("reporting:access:HubAccess", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        config = args.config
        account = config.deployment.account
        volumes_key = ServiceKey(
            f"{name}-volumes",
            ServiceKeyArgs(
                "EBS volumes of the access host, the bastion and the report server",
                service_key_policy(account.account_id, account.region, ["ec2"]),
                args.tags,
            ),
            opts=child,
        )
        sessions_key = ServiceKey(
            f"{name}-sessions",
            ServiceKeyArgs(
                "Session Manager session encryption",
                iam_governed_key_policy(account.account_id),
                args.tags,
            ),
            opts=child,
        )
        host = AccessHost(
            f"{name}-host",
            AccessHostArgs(
                settings=config.access.access_host,
                resource_prefix=args.resource_prefix,
                region=account.region,
                account_id=account.account_id,
                vpc_id=args.vpc_id,
                subnet_id=args.app_subnet_ids[0],
                database_cidrs=args.database_cidrs,
                database_port=args.database_port,
                endpoints_security_group_id=args.endpoints_security_group_id,
                s3_prefix_list_id=args.s3_prefix_list_id,
                replica_clients_security_group_id=args.replica_clients_security_group_id,
                volumes_key_arn=volumes_key.arn,
                sessions_key_arn=sessions_key.arn,
                operations_key_arn=args.operations_key_arn,
                tags=args.tags,
                compute_tags=args.compute_tags,
            ),
            opts=child,
        )
        bastion = config.access.ssh_bastion
        self.bastion_route_table_id = None
        if bastion:
            self.bastion_route_table_id = SshBastion(
                f"{name}-bastion",
                SshBastionArgs(
                    settings=bastion,
                    resource_prefix=args.resource_prefix,
                    vpc_id=args.vpc_id,
                    availability_zone=config.network.availability_zones[0],
                    subnet_cidr=str(bastion_subnet_cidr(config)),
                    office_cidrs=[str(cidr) for cidr in config.office_cidrs],
                    database_cidrs=args.database_cidrs,
                    database_port=args.database_port,
                    endpoints_security_group_id=args.endpoints_security_group_id,
                    s3_prefix_list_id=args.s3_prefix_list_id,
                    replica_clients_security_group_id=args.replica_clients_security_group_id,
                    volumes_key_arn=volumes_key.arn,
                    tags=args.tags,
                    compute_tags=args.compute_tags,
                ),
                opts=child,
            ).route_table_id
        PeopleAccess(
            f"{name}-people",
            PeopleAccessArgs(
                settings=config.access,
                office_cidrs=[str(cidr) for cidr in config.office_cidrs],
                resource_prefix=args.resource_prefix,
                region=account.region,
                account_id=account.account_id,
                access_host_arn=host.instance_arn,
                session_key_arn=sessions_key.arn,
                tags=args.tags,
            ),
            opts=child,
        )
        self.volumes_key_arn = volumes_key.arn
        self.register_outputs(
            {
                "access_host_arn": host.instance_arn,
                "bastion_route_table_id": self.bastion_route_table_id,
                "volumes_key_arn": self.volumes_key_arn,
            }
        )
