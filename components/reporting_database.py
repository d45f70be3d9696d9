"""The reporting database: RDS SQL Server in the data subnets, encrypted with the database
CMK, TLS forced, master password generated and held by RDS in Secrets Manager."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.alarms import Metric, metric_alarm
from components.rds_settings import tls_only_parameters
from components.security_rules import tcp_rule
from stack_config import ReportingDatabase as DatabaseSettings

SQLSERVER_PORT = 1433
CPU_ALARM_PERCENT = 80
MASTER_USERNAME = "reporting_admin"


@dataclass(frozen=True)
class ReportingDatabaseArgs:
    settings: DatabaseSettings
    vpc_id: pulumi.Input[str]
    subnet_ids: list[pulumi.Input[str]]
    client_cidrs: list[str]
    key_arn: pulumi.Input[str]
    tags: dict[str, str]
    compute_tags: dict[str, str]
    alert_topic_arn: pulumi.Input[str]


class ReportingDatabase(pulumi.ComponentResource):
    """Security group, subnet group, TLS-only parameter group and the SQL Server instance."""

    address: pulumi.Output[str]
    port: pulumi.Output[int]
    master_secret_arn: pulumi.Output[str]
    security_group_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: ReportingDatabaseArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("reporting:data:ReportingDatabase", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        settings = args.settings
        security_group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            description="Reporting database: SQL Server from the app tier only",
            vpc_id=args.vpc_id,
            ingress=[
                tcp_rule(
                    "SQL Server from the app tier", SQLSERVER_PORT, cidr_blocks=args.client_cidrs
                )
            ],
            # The database starts no connections of its own.
            egress=[],
            tags={**args.tags, "Name": f"{name}-sg"},
            opts=child,
        )
        subnet_group = aws.rds.SubnetGroup(
            f"{name}-subnets",
            description="Reporting database: private data subnets",
            subnet_ids=args.subnet_ids,
            tags=args.tags,
            opts=child,
        )
        parameter_group = aws.rds.ParameterGroup(
            f"{name}-params",
            description="Reporting database: TLS only",
            family=settings.parameter_group_family,
            parameters=tls_only_parameters(settings.engine),
            tags=args.tags,
            opts=child,
        )
        instance = aws.rds.Instance(
            f"{name}-instance",
            engine=settings.engine,
            engine_version=settings.engine_version,
            license_model="license-included",
            instance_class=settings.instance_class,
            allocated_storage=settings.allocated_storage_gb,
            max_allocated_storage=settings.max_allocated_storage_gb,
            storage_type="gp3",
            storage_encrypted=True,
            kms_key_id=args.key_arn,
            username=MASTER_USERNAME,
            manage_master_user_password=True,
            master_user_secret_kms_key_id=args.key_arn,
            db_subnet_group_name=subnet_group.name,
            vpc_security_group_ids=[security_group.id],
            parameter_group_name=parameter_group.name,
            publicly_accessible=False,
            multi_az=settings.multi_az,
            port=SQLSERVER_PORT,
            backup_retention_period=settings.backup_retention_days,
            backup_window=settings.backup_window,
            maintenance_window=settings.maintenance_window,
            copy_tags_to_snapshot=True,
            deletion_protection=settings.deletion_protection,
            skip_final_snapshot=False,
            final_snapshot_identifier=f"{name}-final",
            auto_minor_version_upgrade=True,
            tags=args.compute_tags,
            opts=child,
        )
        dimensions = {"DBInstanceIdentifier": instance.identifier}
        metric_alarm(
            f"{name}-cpu",
            description="Reporting database CPU above 80% for 15 minutes: queries or loads "
            "outgrow the instance class",
            metric=Metric("AWS/RDS", "CPUUtilization", "Average", dimensions),
            topic_arn=args.alert_topic_arn,
            tags=args.tags,
            opts=child,
            threshold=CPU_ALARM_PERCENT,
            periods=3,
        )
        metric_alarm(
            f"{name}-free-storage",
            description="Reporting database free storage below 5% of its allocated storage "
            "for 15 minutes: storage autoscaling (at 10%) is at its maximum or waiting out its "
            "six-hour cool-down",
            metric=Metric("AWS/RDS", "FreeStorageSpace", "Minimum", dimensions),
            topic_arn=args.alert_topic_arn,
            tags=args.tags,
            opts=child,
            threshold=free_storage_threshold_bytes(settings.allocated_storage_gb),
            below=True,
            periods=3,
        )
        self.address = instance.address
        self.port = instance.port
        self.master_secret_arn = instance.master_user_secrets.apply(
            lambda secrets: secrets[0].secret_arn
        )
        self.security_group_id = security_group.id
        self.register_outputs(
            {
                "address": self.address,
                "port": self.port,
                "master_secret_arn": self.master_secret_arn,
                "security_group_id": self.security_group_id,
            }
        )


def free_storage_threshold_bytes(allocated_gb: int) -> int:
    """5% of the allocated storage, in bytes (FreeStorageSpace's unit)."""
    return allocated_gb * 1024**3 // 20
