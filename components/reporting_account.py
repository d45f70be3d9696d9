"""The hub: the reporting account's network, keys, landing bucket and its loader, reporting
database, alerts, and its side of the peering with every attached source platform."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.access_policies import DataAccess, data_access_statement
from components.account_provider import account_provider
from components.alert_topic import AlertTopic, AlertTopicArgs
from components.copier_checks import copier_problems
from components.dataset_catalog import catalog_assets, project_catalog
from components.extractor import Extractor, ExtractorArgs
from components.freshness_check import FreshnessCheck, FreshnessCheckArgs, freshness_windows
from components.hub_access import (
    SESSION_MANAGER_SERVICES,
    HubAccess,
    HubAccessArgs,
    database_client_cidrs,
)
from components.hub_network import HubNetwork, HubNetworkArgs
from components.incoming_sweeper import IncomingSweeper, IncomingSweeperArgs
from components.landing_loader import (
    ARCHIVE_PREFIX,
    INCOMING_PREFIX,
    LandingLoader,
    LandingLoaderArgs,
)
from components.network_plan import hub_subnets, tier_cidrs
from components.operations import AccountOperationsArgs, account_operations
from components.peering_acceptance import PeeringAcceptance, PeeringAcceptanceArgs
from components.peering_checks import PeeringRequest, ReportedPlatform, peering_problems
from components.policy_documents import (
    amazon_linux_repository_objects,
    operations_key_policy,
    service_key_policy,
)
from components.report_server import ReportServer, ReportServerArgs
from components.reporting_database import SQLSERVER_PORT, ReportingDatabase, ReportingDatabaseArgs
from components.secure_bucket import ExpiringPrefix, SecureBucket, SecureBucketArgs
from components.security_rules import replica_client_egress
from components.service_key import ServiceKey, ServiceKeyArgs
from components.stream_policies import (
    LandingWriter,
    landing_writer_key_statement,
    landing_writer_statements,
)
from components.tags import HUB_PLATFORM, base_tags, compute_tags
from components.working_hours import schedule_environment
from contract import HubOutputs, PlatformOutputs
from stack_config import HubConfig, PlatformLink
from stack_config.load import project_definitions

# Functions in the VPC call these AWS APIs; with no NAT, only through interface endpoints. The
# access host's Session Manager agent needs its own (components/hub_access.py).
INTERFACE_SERVICES = ("secretsmanager", "sns", *SESSION_MANAGER_SERVICES)
# The report server also sends email through the SES API.
REPORT_SERVER_SERVICES = ("email",)


def interface_services(config: HubConfig) -> tuple[str, ...]:
    """The interface endpoints the hub's compute needs: the SES API only with a report server."""
    return (*INTERFACE_SERVICES, *(REPORT_SERVER_SERVICES if config.reports else ()))


def readable_aws_objects(config: HubConfig) -> tuple[str, ...]:
    """AWS's objects the S3 endpoint lets through: the Amazon Linux repositories, from which
    every instance of the hub is patched (the access host is always there) and the report
    server installs its packages at first boot."""
    return (amazon_linux_repository_objects(config.deployment.account.region),)


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
        # The app tier holds the compute that reads data (the functions, the access host, the
        # report server); the database and the replicas admit only it, and the SSH bastion's
        # subnet when there is one (components/hub_access.py).
        app_cidrs = tier_cidrs(subnets, "app")
        client_cidrs = database_client_cidrs(config, app_cidrs)

        network = HubNetwork(
            f"{name}-network",
            HubNetworkArgs(
                account_id=account.account_id,
                region=account.region,
                vpc_cidr=str(config.network.vpc_cidr),
                subnets=subnets,
                interface_services=interface_services(config),
                tags=tags,
                readable_aws_objects=readable_aws_objects(config),
            ),
            opts=in_account,
        )
        writers = _landing_writers(config.attached_platforms, args.platforms)
        storage_key = ServiceKey(
            f"{name}-storage",
            ServiceKeyArgs(
                "Landing and archive objects",
                writers.apply(
                    lambda found: _storage_key_policy(account.account_id, account.region, found)
                ),
                tags,
            ),
            opts=in_account,
        )
        database_key = ServiceKey(
            f"{name}-database",
            ServiceKeyArgs(
                "Reporting database storage and its master secret",
                service_key_policy(account.account_id, account.region, ["rds", "secretsmanager"]),
                tags,
            ),
            opts=in_account,
        )
        operations_key = ServiceKey(
            f"{name}-operations",
            ServiceKeyArgs(
                "Alert topic, failure queues and function logs",
                operations_key_policy(account.account_id, account.region),
                tags,
            ),
            opts=in_account,
        )
        operations = config.operations
        alerts = AlertTopic(
            f"{name}-alerts",
            AlertTopicArgs(account.account_id, operations_key.arn, tags, operations.alerts.emails),
            opts=in_account,
        )
        prefix = f"reporting-{deployment.environment}"
        database_schedule = operations.schedule(deployment.schedule)
        landing = SecureBucket(
            f"{name}-landing",
            SecureBucketArgs(
                key_arn=storage_key.arn,
                expiring_prefixes=[
                    ExpiringPrefix(ARCHIVE_PREFIX, config.landing.archive_expiry_days)
                ],
                noncurrent_version_expiry_days=config.landing.noncurrent_version_expiry_days,
                tags=tags,
                extra_statements=lambda bucket_arn: pulumi.Output.all(
                    bucket_arn, writers, network.s3_endpoint_id
                ).apply(
                    lambda values: [
                        *(
                            statement
                            for writer in values[1]
                            for statement in landing_writer_statements(values[0], writer)
                        ),
                        data_access_statement(
                            values[0], _landing_access(config, values[1], values[2])
                        ),
                    ]
                ),
            ),
            opts=in_account,
        )
        database = ReportingDatabase(
            f"{name}-db",
            ReportingDatabaseArgs(
                settings=config.database,
                vpc_id=network.vpc_id,
                subnet_ids=network.subnet_ids["data"],
                client_cidrs=client_cidrs,
                key_arn=database_key.arn,
                tags=tags,
                compute_tags=compute_tags(deployment, HUB_PLATFORM),
                alert_topic_arn=alerts.arn,
            ),
            opts=in_account,
        )
        loader = LandingLoader(
            f"{name}-loader",
            LandingLoaderArgs(
                function_name=f"reporting-{deployment.environment}-landing-loader",
                settings=config.loader,
                account_id=account.account_id,
                bucket_name=landing.bucket_name,
                bucket_arn=landing.arn,
                storage_key_arn=storage_key.arn,
                database_address=database.address,
                database_port=SQLSERVER_PORT,
                database_secret_arn=database.master_secret_arn,
                database_key_arn=database_key.arn,
                vpc_id=network.vpc_id,
                subnet_ids=network.subnet_ids["app"],
                database_cidrs=tier_cidrs(subnets, "data"),
                s3_prefix_list_id=network.s3_prefix_list_id,
                endpoints_security_group_id=network.endpoints_security_group_id,
                alert_topic_arn=alerts.arn,
                operations_key_arn=operations_key.arn,
                code_assets=catalog_assets(),
                tags=tags,
                database_schedule=schedule_environment(database_schedule),
            ),
            opts=in_account,
        )
        account_operations(
            name,
            AccountOperationsArgs(
                operations, deployment, prefix, alerts.arn, operations_key.arn, tags
            ),
            in_account,
        )
        IncomingSweeper(
            f"{name}-sweeper",
            IncomingSweeperArgs(
                loader=config.loader,
                schedule=database_schedule,
                resource_prefix=prefix,
                account_id=account.account_id,
                bucket_name=landing.bucket_name,
                bucket_arn=landing.arn,
                prefix=INCOMING_PREFIX,
                loader_function_name=loader.function_name,
                loader_function_arn=loader.function_arn,
                alert_topic_arn=alerts.arn,
                operations_key_arn=operations_key.arn,
                tags=tags,
            ),
            opts=in_account,
        )
        windows = (
            freshness_windows(config.freshness, _loaded_datasets(config.attached_platforms))
            if config.freshness
            else {}
        )
        # Nothing to watch before the first platform is attached (runbook step 1).
        if config.freshness and windows:
            FreshnessCheck(
                f"{name}-freshness",
                FreshnessCheckArgs(
                    settings=config.freshness,
                    loader=config.loader,
                    windows=windows,
                    schedule=database_schedule,
                    resource_prefix=prefix,
                    account_id=account.account_id,
                    database_address=database.address,
                    database_port=SQLSERVER_PORT,
                    database_secret_arn=database.master_secret_arn,
                    database_key_arn=database_key.arn,
                    vpc_id=network.vpc_id,
                    subnet_ids=network.subnet_ids["app"],
                    database_cidrs=tier_cidrs(subnets, "data"),
                    endpoints_security_group_id=network.endpoints_security_group_id,
                    alert_topic_arn=alerts.arn,
                    operations_key_arn=operations_key.arn,
                    code_assets=catalog_assets(),
                    tags=tags,
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
        access = HubAccess(
            f"{name}-access",
            HubAccessArgs(
                config=config,
                resource_prefix=prefix,
                vpc_id=network.vpc_id,
                app_subnet_ids=network.subnet_ids["app"],
                database_cidrs=tier_cidrs(subnets, "data"),
                database_port=SQLSERVER_PORT,
                endpoints_security_group_id=network.endpoints_security_group_id,
                s3_prefix_list_id=network.s3_prefix_list_id,
                replica_clients_security_group_id=replica_clients.id,
                operations_key_arn=operations_key.arn,
                tags=tags,
                compute_tags=compute_tags(deployment, HUB_PLATFORM),
            ),
            opts=in_account,
        )
        if config.reports:
            ReportServer(
                f"{name}-reports",
                ReportServerArgs(
                    settings=config.reports,
                    definitions=project_definitions(),
                    resource_prefix=prefix,
                    account_id=account.account_id,
                    region=account.region,
                    vpc_id=network.vpc_id,
                    subnet_id=network.subnet_ids["app"][0],
                    database_cidrs=tier_cidrs(subnets, "data"),
                    database_port=SQLSERVER_PORT,
                    database_address=database.address,
                    database_name=config.loader.database_name,
                    database_secret_arn=database.master_secret_arn,
                    database_key_arn=database_key.arn,
                    database_schedule=schedule_environment(database_schedule),
                    s3_endpoint_id=network.s3_endpoint_id,
                    s3_prefix_list_id=network.s3_prefix_list_id,
                    endpoints_security_group_id=network.endpoints_security_group_id,
                    office_cidrs=[str(cidr) for cidr in config.office_cidrs],
                    deployer_role_arn=account.deploy_role_arn,
                    alert_topic_arn=alerts.arn,
                    operations_key_arn=operations_key.arn,
                    volumes_key_arn=access.volumes_key_arn,
                    tags=tags,
                    compute_tags=compute_tags(deployment, HUB_PLATFORM),
                ),
                opts=in_account,
            )
        if config.extractor:
            Extractor(
                f"{name}-extractor",
                ExtractorArgs(
                    settings=config.extractor,
                    environment=deployment.environment,
                    account_id=account.account_id,
                    catalog=project_catalog(),
                    platforms=args.platforms,
                    bucket_name=landing.bucket_name,
                    bucket_arn=landing.arn,
                    storage_key_arn=storage_key.arn,
                    secrets_key_arn=database_key.arn,
                    operations_key_arn=operations_key.arn,
                    alert_topic_arn=alerts.arn,
                    vpc_id=network.vpc_id,
                    subnet_ids=network.subnet_ids["app"],
                    replica_clients_security_group_id=replica_clients.id,
                    s3_prefix_list_id=network.s3_prefix_list_id,
                    endpoints_security_group_id=network.endpoints_security_group_id,
                    tags=tags,
                ),
                opts=in_account,
            )
        for link in config.attached_platforms:
            verified = _verified_peering(
                link, args.platforms[link.name], network.vpc_id, account.account_id, provider
            )
            PeeringAcceptance(
                f"{name}-peer-{link.name}",
                PeeringAcceptanceArgs(
                    platform=link.name,
                    peering_connection_id=verified["peering_connection_id"],
                    replica_cidr=verified["replica_cidr"],
                    route_table_id=network.route_table_id,
                    bastion_route_table_id=access.bastion_route_table_id,
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
            replica_client_cidrs=client_cidrs,
            landing_bucket_name=landing.bucket_name,
            landing_bucket_arn=landing.arn,
            landing_key_arn=storage_key.arn,
            reporting_database_address=database.address,
            reporting_database_secret_arn=database.master_secret_arn,
            alert_topic_arn=alerts.arn,
        )
        self.register_outputs(
            {
                "outputs": vars(self.outputs),
                "replica_clients_security_group_id": self.replica_clients_security_group_id,
            }
        )


def _landing_access(
    config: HubConfig, writers: list[LandingWriter], hub_endpoint_id: str
) -> DataAccess:
    """Landing data is read and written from the office, through the hub's S3 endpoint or a
    copier's, by the incoming sweeper (outside any VPC), or by the deployer."""
    account_id = config.deployment.account.account_id
    sweeper_role = f"reporting-{config.deployment.environment}-incoming-sweeper"
    return DataAccess(
        office_cidrs=[str(cidr) for cidr in config.office_cidrs],
        endpoint_ids=[hub_endpoint_id, *(w.endpoint_id for w in writers)],
        principal_arns=[
            # Functions' roles are named after them (components/lambda_function.py).
            f"arn:aws:iam::{account_id}:role/{sweeper_role}",
            config.deployment.account.deploy_role_arn,
        ],
    )


def _loaded_datasets(links: tuple[PlatformLink, ...]) -> list[str]:
    """`<platform>/<dataset>` of every catalog dataset of the attached platforms."""
    attached = {link.name for link in links}
    return [d.qualified_name for d in project_catalog().datasets if d.platform in attached]


def _landing_writers(
    links: tuple[PlatformLink, ...], platforms: dict[str, PlatformOutputs]
) -> pulumi.Output[list[LandingWriter]]:
    """The copiers of the attached platforms that stream changes (Example 2), each checked
    against the account the hub's config gives its platform."""
    per_platform = [
        pulumi.Output.all(
            link.name,
            link.account_id,
            platforms[link.name].copier_role_arn,
            platforms[link.name].copier_endpoint_id,
        )
        for link in links
    ]

    def checked(rows: list[list[str]]) -> list[LandingWriter]:
        writers = []
        for name, account_id, role_arn, endpoint_id in rows:
            problems = copier_problems(account_id, role_arn, endpoint_id)
            if problems:
                raise ValueError(
                    f"platform '{name}': refusing to admit its copier: " + "; ".join(problems)
                )
            if role_arn:
                writers.append(LandingWriter(name, account_id, role_arn, endpoint_id))
        return writers

    return pulumi.Output.all(*per_platform).apply(checked)


def _storage_key_policy(account_id: str, region: str, writers: list[LandingWriter]) -> dict:
    policy = service_key_policy(account_id, region, ["s3"])
    if writers:
        policy["Statement"].append(landing_writer_key_statement(writers, region))
    return policy


def _replica_client_egress(platforms: dict[str, PlatformOutputs]) -> pulumi.Output[list[dict]]:
    per_platform = [
        pulumi.Output.all(name, outputs.replica_cidr, outputs.replica_ports)
        for name, outputs in platforms.items()
    ]
    return pulumi.Output.all(*per_platform).apply(
        lambda rows: replica_client_egress([tuple(row) for row in rows])
    )


def _verified_peering(
    link: PlatformLink,
    platform: PlatformOutputs,
    hub_vpc_id: pulumi.Output[str],
    hub_account_id: str,
    provider: aws.Provider,
) -> pulumi.Output[dict[str, str]]:
    """The spoke's peering id and replica CIDR, released only if its stack and AWS agree that the
    request comes from the account and VPC the hub's config names, for this hub's VPC."""
    request = aws.ec2.get_vpc_peering_connection_output(
        id=platform.peering_connection_id, opts=pulumi.InvokeOutputOptions(provider=provider)
    )

    def verify(values: list) -> dict[str, str]:
        peering_id, account_id, vpc_cidr, replica_cidr, found, vpc_id = values
        problems = peering_problems(
            link,
            ReportedPlatform(account_id, vpc_cidr, replica_cidr),
            PeeringRequest(
                found.owner_id, found.cidr_block, found.peer_owner_id, found.peer_vpc_id
            ),
            hub_account_id,
            vpc_id,
        )
        if problems:
            raise ValueError(
                f"platform '{link.name}' ({link.stack}): refusing to accept its peering request: "
                + "; ".join(problems)
            )
        return {"peering_connection_id": peering_id, "replica_cidr": replica_cidr}

    return pulumi.Output.all(
        platform.peering_connection_id,
        platform.account_id,
        platform.vpc_cidr,
        platform.replica_cidr,
        request,
        hub_vpc_id,
    ).apply(verify)
