"""Read replicas of a platform's production databases: encrypted, private, TLS only, reachable
from the reporting VPC alone, and guarded against promotion."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.alarms import Metric, metric_alarm
from components.policy_documents import deny_promote_policy
from components.rds_settings import replica_parameters
from components.security_rules import replica_ingress
from stack_config import ReplicaSource

# Extracts read past a watermark with an overlap of minutes: a replica further behind than this
# delays the reporting data noticeably.
REPLICA_LAG_ALARM_SECONDS = 600


@dataclass(frozen=True)
class ReadReplicasArgs:
    platform: str
    account_id: str
    region: str
    databases: tuple[ReplicaSource, ...]
    vpc_id: str
    subnet_ids: list[pulumi.Input[str]]
    client_cidrs: pulumi.Input[list[str]]
    guarded_role_names: tuple[str, ...]
    deletion_protection: bool
    tags: dict[str, str]
    compute_tags: dict[str, str]
    alert_topic_arn: pulumi.Input[str]


class ReadReplicas(pulumi.ComponentResource):
    """Security group, subnet group, parameter groups, one replica per source, promote guard."""

    endpoints: pulumi.Output[list[dict]]
    ports: list[int]
    promote_guard_policy_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: ReadReplicasArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("reporting:data:ReadReplicas", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.ports = sorted({database.port for database in args.databases})
        security_group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            description=f"{args.platform} reporting replicas: DB ports from the reporting VPC only",
            vpc_id=args.vpc_id,
            ingress=pulumi.Output.from_input(args.client_cidrs).apply(
                lambda cidrs: replica_ingress(cidrs, self.ports)
            ),
            # Replication runs on AWS's side; the replicas start no connections of their own.
            egress=[],
            tags={**args.tags, "Name": f"{name}-sg"},
            opts=child,
        )
        subnet_group = aws.rds.SubnetGroup(
            f"{name}-subnets",
            description=f"{args.platform} reporting replicas: dedicated replica subnets",
            subnet_ids=args.subnet_ids,
            tags=args.tags,
            opts=child,
        )
        replicas = [
            self._replica(name, database, args, security_group.id, subnet_group.name)
            for database in args.databases
        ]
        for database, replica in zip(args.databases, replicas, strict=True):
            metric_alarm(
                f"{name}-{database.name}-lag",
                description=f"{args.platform} {database.name} replica more than "
                f"{REPLICA_LAG_ALARM_SECONDS // 60} minutes behind its source for 15 minutes",
                metric=Metric(
                    "AWS/RDS",
                    "ReplicaLag",
                    "Maximum",
                    {"DBInstanceIdentifier": replica.identifier},
                ),
                topic_arn=args.alert_topic_arn,
                tags=args.tags,
                opts=child,
                threshold=REPLICA_LAG_ALARM_SECONDS,
                periods=3,
            )
        guard = aws.iam.Policy(
            f"{name}-deny-promote",
            description=f"Denies promoting the {args.platform} reporting replicas",
            policy=pulumi.Output.json_dumps(
                pulumi.Output.all(*[replica.arn for replica in replicas]).apply(deny_promote_policy)
            ),
            tags=args.tags,
            opts=child,
        )
        for role_name in args.guarded_role_names:
            aws.iam.RolePolicyAttachment(
                f"{name}-deny-promote-{role_name}", role=role_name, policy_arn=guard.arn, opts=child
            )
        self.endpoints = pulumi.Output.all(
            *[
                pulumi.Output.all(database.name, database.engine, replica.address, replica.port)
                for database, replica in zip(args.databases, replicas, strict=True)
            ]
        ).apply(
            lambda rows: [{"name": n, "engine": e, "address": a, "port": p} for n, e, a, p in rows]
        )
        self.promote_guard_policy_arn = guard.arn
        self.register_outputs(
            {
                "endpoints": self.endpoints,
                "ports": self.ports,
                "promote_guard_policy_arn": self.promote_guard_policy_arn,
            }
        )

    def _replica(
        self,
        name: str,
        database: ReplicaSource,
        args: ReadReplicasArgs,
        security_group_id: pulumi.Output[str],
        subnet_group_name: pulumi.Output[str],
    ) -> aws.rds.Instance:
        """One replica and its own parameter group: TLS forced, source must-match settings kept."""
        child = pulumi.ResourceOptions(parent=self)
        replica_name = f"{name}-{database.name}"
        parameters = aws.rds.ParameterGroup(
            f"{replica_name}-params",
            description=f"{args.platform} {database.name} replica: TLS only",
            family=database.parameter_group_family,
            parameters=replica_parameters(database),
            tags=args.tags,
            opts=child,
        )
        # Storage encryption is inherited from the source: a same-region replica cannot differ.
        return aws.rds.Instance(
            replica_name,
            replicate_source_db=database.source_arn(args.region, args.account_id),
            instance_class=database.instance_class,
            db_subnet_group_name=subnet_group_name,
            vpc_security_group_ids=[security_group_id],
            parameter_group_name=parameters.name,
            port=database.port,
            publicly_accessible=False,
            multi_az=False,
            # Replicas re-sync from their source; backups and final snapshots would only cost.
            backup_retention_period=0,
            skip_final_snapshot=True,
            deletion_protection=args.deletion_protection,
            auto_minor_version_upgrade=True,
            copy_tags_to_snapshot=True,
            tags={
                **args.compute_tags,
                "Name": replica_name,
                "ReplicaOf": database.source_identifier,
            },
            opts=child,
        )
