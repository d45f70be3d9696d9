"""The hub: the reporting account's network, keys, landing bucket, reporting database, and its
side of the peering with every attached source platform."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.account_provider import account_provider
from components.hub_network import HubNetwork, HubNetworkArgs
from components.network_plan import hub_subnets, tier_cidrs
from components.peering_acceptance import PeeringAcceptance, PeeringAcceptanceArgs
from components.reporting_database import ReportingDatabase, ReportingDatabaseArgs
from components.secure_bucket import ExpiringPrefix, SecureBucket, SecureBucketArgs
from components.security_rules import replica_client_egress
from components.service_key import ServiceKey, ServiceKeyArgs
from components.tags import HUB_PLATFORM, base_tags, compute_tags
from contract import HubOutputs, PlatformOutputs
from stack_config import HubConfig, PlatformLink

ARCHIVE_PREFIX = "archive/"


@dataclass(frozen=True)
class ReportingAccountArgs:
    config: HubConfig
    # The outputs of every attached platform's stack, by platform name.
    platforms: dict[str, PlatformOutputs]


class ReportingAccount(pulumi.ComponentResource):
    """Everything the hub stack creates, all through the reporting account's provider."""

    outputs: HubOutputs
    replica_clients_security_group_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: ReportingAccountArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("reporting:hub:ReportingAccount", name, None, opts)
        config = args.config
        deployment = config.deployment
        account = deployment.account
        provider = account_provider(f"{name}-aws", deployment, self)
        in_account = pulumi.ResourceOptions(parent=self, providers=[provider])
        tags = base_tags(deployment, HUB_PLATFORM)
        subnets = hub_subnets(config.network.vpc_cidr, config.network.availability_zones)

        network = HubNetwork(
            f"{name}-network",
            HubNetworkArgs(
                account.account_id, account.region, str(config.network.vpc_cidr), subnets, tags
            ),
            opts=in_account,
        )
        storage_key = ServiceKey(
            f"{name}-storage",
            ServiceKeyArgs(
                account.account_id, account.region, "Landing and archive objects", ["s3"], tags
            ),
            opts=in_account,
        )
        database_key = ServiceKey(
            f"{name}-database",
            ServiceKeyArgs(
                account.account_id,
                account.region,
                "Reporting database storage and its master secret",
                ["rds", "secretsmanager"],
                tags,
            ),
            opts=in_account,
        )
        landing = SecureBucket(
            f"{name}-landing",
            SecureBucketArgs(
                key_arn=storage_key.arn,
                expiring_prefixes=[
                    ExpiringPrefix(ARCHIVE_PREFIX, config.landing.archive_expiry_days)
                ],
                noncurrent_version_expiry_days=config.landing.noncurrent_version_expiry_days,
                tags=tags,
            ),
            opts=in_account,
        )
        database = ReportingDatabase(
            f"{name}-db",
            ReportingDatabaseArgs(
                settings=config.database,
                vpc_id=network.vpc_id,
                subnet_ids=network.subnet_ids["data"],
                client_cidrs=tier_cidrs(subnets, "app"),
                key_arn=database_key.arn,
                tags=tags,
                compute_tags=compute_tags(deployment, HUB_PLATFORM),
            ),
            opts=in_account,
        )
        replica_clients = aws.ec2.SecurityGroup(
            f"{name}-replica-clients-sg",
            description="Hub compute that reads the source replicas over peering",
            vpc_id=network.vpc_id,
            ingress=[],
            egress=_replica_client_egress(args.platforms),
            tags={**tags, "Name": f"{name}-replica-clients"},
            opts=pulumi.ResourceOptions(parent=self, provider=provider),
        )
        for link in config.attached_platforms:
            platform = args.platforms[link.name]
            PeeringAcceptance(
                f"{name}-peer-{link.name}",
                PeeringAcceptanceArgs(
                    platform=link.name,
                    peering_connection_id=_verified_peering_id(link, platform),
                    replica_cidr=platform.replica_cidr,
                    route_table_id=network.route_table_id,
                    tags={**tags, "PeerPlatform": link.name},
                ),
                opts=in_account,
            )

        self.replica_clients_security_group_id = replica_clients.id
        self.outputs = HubOutputs(
            account_id=account.account_id,
            region=account.region,
            vpc_id=network.vpc_id,
            vpc_cidr=str(config.network.vpc_cidr),
            landing_bucket_name=landing.bucket_name,
            landing_bucket_arn=landing.arn,
            landing_key_arn=storage_key.arn,
            reporting_database_address=database.address,
            reporting_database_secret_arn=database.master_secret_arn,
        )
        self.register_outputs(
            {
                "outputs": vars(self.outputs),
                "replica_clients_security_group_id": self.replica_clients_security_group_id,
            }
        )


def _replica_client_egress(platforms: dict[str, PlatformOutputs]) -> pulumi.Output[list[dict]]:
    per_platform = [
        pulumi.Output.all(name, outputs.replica_cidr, outputs.replica_ports)
        for name, outputs in platforms.items()
    ]
    return pulumi.Output.all(*per_platform).apply(
        lambda rows: replica_client_egress([tuple(row) for row in rows])
    )


def _verified_peering_id(link: PlatformLink, platform: PlatformOutputs) -> pulumi.Output[str]:
    """The spoke's peering id, released only if the spoke is the account and VPC the hub expects."""

    def verify(values: list) -> str:
        peering_id, account_id, vpc_cidr = values
        if account_id != link.account_id or vpc_cidr != str(link.vpc_cidr):
            raise ValueError(
                f"platform '{link.name}': its stack {link.stack} reports account {account_id} and "
                f"VPC {vpc_cidr}, but the hub config says account {link.account_id} and VPC "
                f"{link.vpc_cidr}; refusing to accept its peering request"
            )
        return peering_id

    return pulumi.Output.all(
        platform.peering_connection_id, platform.account_id, platform.vpc_cidr
    ).apply(verify)
