"""A spoke: one source platform's replica subnets, read replicas, promote guard, its side of the
peering with the reporting account, its alert topic and, when configured, its change streams
(Example 2) and out-of-hours scheduler, all in the platform's own account."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.account_provider import account_provider
from components.alert_topic import AlertTopic, AlertTopicArgs
from components.change_stream_pipeline import ChangeStreamPipeline, ChangeStreamPipelineArgs
from components.operations import AccountOperationsArgs, account_operations
from components.policy_documents import operations_key_policy
from components.read_replicas import ReadReplicas, ReadReplicasArgs
from components.replica_network import ReplicaNetwork, ReplicaNetworkArgs
from components.service_key import ServiceKey, ServiceKeyArgs
from components.tags import base_tags, compute_tags
from contract import HubOutputs, PlatformOutputs
from stack_config import SpokeConfig


@dataclass(frozen=True)
class SourcePlatformArgs:
    config: SpokeConfig
    hub: HubOutputs


class SourcePlatform(pulumi.ComponentResource):
    """Everything a spoke stack creates, all through the platform account's provider."""

    outputs: PlatformOutputs

    def __init__(
        self, name: str, args: SourcePlatformArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("reporting:spoke:SourcePlatform", name, None, opts)
        deployment = args.config.deployment
        settings = args.config.platform
        provider = account_provider(f"{name}-aws", deployment, self)
        in_account = pulumi.ResourceOptions(parent=self, providers=[provider])
        tags = base_tags(deployment, settings.name)

        account = deployment.account
        operations_key = ServiceKey(
            f"{name}-operations",
            ServiceKeyArgs(
                "Alert topic, failure queues and function logs",
                operations_key_policy(account.account_id, account.region),
                tags,
            ),
            opts=in_account,
        )
        alerts = AlertTopic(
            f"{name}-alerts",
            AlertTopicArgs(
                account.account_id,
                operations_key.arn,
                tags,
                args.config.operations.alerts.emails,
            ),
            opts=in_account,
        )
        account_operations(
            name,
            AccountOperationsArgs(
                args.config.operations,
                deployment,
                f"reporting-{deployment.environment}-{settings.name}",
                alerts.arn,
                operations_key.arn,
                tags,
            ),
            in_account,
        )
        network = ReplicaNetwork(
            f"{name}-replica-net", ReplicaNetworkArgs(settings, args.hub, tags), opts=in_account
        )
        replicas = ReadReplicas(
            f"{name}-replicas",
            ReadReplicasArgs(
                platform=settings.name,
                account_id=deployment.account.account_id,
                region=deployment.account.region,
                databases=settings.databases,
                vpc_id=settings.vpc_id,
                subnet_ids=network.subnet_ids,
                client_cidrs=args.hub.replica_client_cidrs,
                guarded_role_names=settings.guarded_role_names,
                deletion_protection=deployment.environment == "prod",
                tags=tags,
                compute_tags=compute_tags(deployment, settings.name),
                alert_topic_arn=alerts.arn,
            ),
            opts=in_account,
        )
        streams = args.config.change_streams
        pipeline = (
            ChangeStreamPipeline(
                f"{name}-streams",
                ChangeStreamPipelineArgs(
                    platform=settings.name,
                    environment=deployment.environment,
                    account_id=deployment.account.account_id,
                    region=deployment.account.region,
                    settings=streams,
                    hub=args.hub,
                    vpc_id=settings.vpc_id,
                    # The copier shares the replica subnets: their route table is private, and
                    # the S3 endpoint added to it serves only the two buckets of the copy.
                    subnet_ids=network.subnet_ids,
                    route_table_id=network.route_table_id,
                    provider=provider,
                    tags=tags,
                    alert_topic_arn=alerts.arn,
                ),
                opts=in_account,
            )
            if streams
            else None
        )
        self.outputs = PlatformOutputs(
            platform=settings.name,
            account_id=deployment.account.account_id,
            vpc_id=settings.vpc_id,
            vpc_cidr=str(settings.vpc_cidr),
            replica_cidr=str(settings.replica_cidr),
            replica_ports=replicas.ports,
            replica_endpoints=replicas.endpoints,
            peering_connection_id=network.peering_connection_id,
            promote_guard_policy_arn=replicas.promote_guard_policy_arn,
            copier_role_arn=pipeline.copier_role_arn if pipeline else "",
            copier_endpoint_id=pipeline.copier_endpoint_id if pipeline else "",
        )
        self.register_outputs({"outputs": vars(self.outputs)})
