"""Parse one stack's config (un-namespaced keys, objects already decoded) into typed dataclasses.

All validation happens here, before any resource exists: a bad value stops the program with an
error naming its key.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from stack_config import checks
from stack_config.access import access
from stack_config.errors import ConfigError
from stack_config.model import (
    AwsAccount,
    ChangeStreams,
    Deployment,
    ExtractorSettings,
    HubConfig,
    HubNetwork,
    LandingBucket,
    LoaderSettings,
    PlatformLink,
    ReplicaSource,
    ReportingDatabase,
    SourcePlatformSettings,
    SpokeConfig,
    StackConfig,
    StreamedTable,
    StreamFunctions,
)
from stack_config.operations import check_backup_window, freshness, operations
from stack_config.reports import reports
from stack_config.retention import log_retention
from stack_config.section import Section

ROLES = ("hub", "spoke")
DEFAULT_PORTS = {"mysql": 3306, "mariadb": 3306, "postgres": 5432, "sqlserver-ee": 1433}
# RDS needs at least two AZs for a subnet group; three is the most eu-west-2 offers.
_AZ_COUNT = (2, 3)
_SMALLEST_SUBNET_PREFIX = 28  # AWS's smallest subnet


def parse_stack_config(stack: str, raw: Mapping[str, Any]) -> StackConfig:
    """Validate `raw` (the stack's `reporting:*` keys) for the stack named `stack`."""
    top = Section(raw, ())
    role = top.text("role", check=checks.choice(*ROLES))
    deployment = _deployment(top, stack)
    config: StackConfig = _hub(top, deployment) if role == "hub" else _spoke(top, deployment)
    top.finish()
    return config


def _deployment(top: Section, stack: str) -> Deployment:
    account = top.section("account")
    parsed = AwsAccount(
        account_id=account.text("id", check=checks.account_id),
        deploy_role_arn=account.text("deployRoleArn", check=checks.role_arn),
        region=account.text("region", check=checks.region),
    )
    if checks.role_arn_account(parsed.deploy_role_arn) != parsed.account_id:
        raise account.error("deployRoleArn", f"must be a role in account {parsed.account_id}")
    account.finish()
    return Deployment(
        stack=stack,
        environment=top.text("environment", check=checks.choice(*checks.ENVIRONMENTS)),
        owner=top.text("owner"),
        schedule=top.text("schedule", default="office-hours", check=checks.schedule_name),
        account=parsed,
    )


def _hub(top: Section, deployment: Deployment) -> HubConfig:
    if deployment.stack != deployment.environment:
        raise top.error(
            "environment",
            f"hub stacks are named after their environment: stack '{deployment.stack}' "
            f"cannot be environment '{deployment.environment}'",
        )
    network = _hub_network(top.section("network"), deployment.account.region)
    platforms = tuple(
        _platform_link(item, deployment, network.vpc_cidr)
        for item in top.sections("platforms", default=[], min_items=0)
    )
    _reject_duplicates(top, "platforms", "name", [p.name for p in platforms])
    _reject_overlaps(top, "platforms", [(p.name, p.vpc_cidr) for p in platforms], "vpcCidr")
    database = _reporting_database(top.section("reportingDatabase"))
    operations_config = operations(top, deployment, hub=True)
    check_backup_window(database.backup_window, operations_config.schedule(deployment.schedule))
    return HubConfig(
        deployment=deployment,
        network=network,
        office_cidrs=top.texts("officeCidrs", check=checks.office_network),
        landing=_landing(top.section("landing")),
        database=database,
        loader=_loader(top.section("loader")),
        platforms=platforms,
        operations=operations_config,
        access=access(top.section("access", default={})),
        extractor=_extractor(top.section("extractor", default={})),
        freshness=freshness(top.section("freshness", default={})),
        reports=reports(top.section("reports", default={})),
    )


def _hub_network(section: Section, region: str) -> HubNetwork:
    network = HubNetwork(
        vpc_cidr=section.text("vpcCidr", check=checks.private_network),
        availability_zones=_availability_zones(section, region),
    )
    section.finish()
    return network


def _availability_zones(section: Section, region: str) -> tuple[str, ...]:
    zones = section.texts("availabilityZones", min_items=_AZ_COUNT[0])
    if len(zones) > _AZ_COUNT[1] or len(set(zones)) != len(zones):
        raise section.error(
            "availabilityZones", f"must list {_AZ_COUNT[0]}-{_AZ_COUNT[1]} distinct zones"
        )
    for index, zone in enumerate(zones):
        if not (zone.startswith(region) and len(zone) == len(region) + 1 and zone[-1].isalpha()):
            raise ConfigError(
                (*section.path, "availabilityZones", index),
                f"must be a zone of {region}; got '{zone}'",
            )
    return zones


def _platform_link(
    item: Section, deployment: Deployment, hub_cidr: ipaddress.IPv4Network
) -> PlatformLink:
    link = PlatformLink(
        name=item.text("name", check=checks.platform_name),
        account_id=item.text("accountId", check=checks.account_id),
        vpc_cidr=item.text("vpcCidr", check=checks.private_network),
        stack=item.text("stack", check=checks.stack_reference),
        attached=item.flag("attached", default=False),
    )
    item.finish()
    if link.account_id == deployment.account.account_id:
        raise item.error(
            "accountId", "must not be the reporting account: each platform lives in its own account"
        )
    if link.vpc_cidr.overlaps(hub_cidr):
        raise item.error(
            "vpcCidr",
            f"{link.vpc_cidr} overlaps the reporting VPC {hub_cidr}; peered VPCs must not overlap",
        )
    expected = f"{deployment.environment}-{link.name}"
    if checks.stack_reference_stack(link.stack) != expected:
        raise item.error(
            "stack", f"must name the platform's stack '{expected}'; got '{link.stack}'"
        )
    return link


def _landing(section: Section) -> LandingBucket:
    landing = LandingBucket(
        archive_expiry_days=section.integer("archiveExpiryDays", 1, 3650),
        noncurrent_version_expiry_days=section.integer(
            "noncurrentVersionExpiryDays", 1, 3650, default=30
        ),
    )
    section.finish()
    return landing


def _reporting_database(section: Section) -> ReportingDatabase:
    database = ReportingDatabase(
        engine=section.text("engine", check=checks.choice(*checks.REPORTING_ENGINES)),
        engine_version=section.text("engineVersion", check=checks.sqlserver_version),
        instance_class=section.text("instanceClass", check=checks.instance_class),
        # SQL Server on RDS needs at least 20 GiB and allows up to 16 TiB.
        allocated_storage_gb=section.integer("allocatedStorageGb", 20, 16384),
        max_allocated_storage_gb=section.integer("maxAllocatedStorageGb", 20, 16384),
        multi_az=section.flag("multiAz", default=False),
        backup_retention_days=section.integer("backupRetentionDays", 1, 35),
        deletion_protection=section.flag("deletionProtection", default=True),
        backup_window=section.text(
            "backupWindow", default="08:00-08:30", check=checks.daily_window
        ),
        maintenance_window=section.text(
            "maintenanceWindow", default="tue:08:30-tue:09:00", check=checks.weekly_window
        ),
    )
    if database.max_allocated_storage_gb < database.allocated_storage_gb:
        raise section.error("maxAllocatedStorageGb", "must be at least allocatedStorageGb")
    section.finish()
    return database


def _loader(section: Section) -> LoaderSettings:
    loader = LoaderSettings(
        architecture=section.text(
            "architecture", default="x86_64", check=checks.choice("x86_64", "arm64")
        ),
        memory_mb=section.integer("memoryMb", 128, 10240, default=1024),
        timeout_seconds=section.integer("timeoutSeconds", 30, 900, default=300),
        reserved_concurrency=section.integer("reservedConcurrency", 1, 1000, default=None),
        powertools_layer_arn=section.text("powertoolsLayerArn", check=checks.layer_arn),
        odbc_layer_arn=section.text("odbcLayerArn", check=checks.layer_arn),
        database_name=section.text("databaseName", default="reporting", check=checks.sql_name),
        log_retention_days=log_retention(section),
    )
    section.finish()
    return loader


def _extractor(section: Section) -> ExtractorSettings | None:
    """The extractor's settings, or None when the stack has none (no extracts run)."""
    if not section.written_keys():
        return None
    extractor = ExtractorSettings(
        schedule=section.text(
            "schedule", default="rate(15 minutes)", check=checks.schedule_expression
        ),
        timezone=section.text("timezone", default="Europe/London", check=checks.timezone),
        architecture=section.text(
            "architecture", default="x86_64", check=checks.choice("x86_64", "arm64")
        ),
        memory_mb=section.integer("memoryMb", 128, 10240, default=1024),
        timeout_seconds=section.integer("timeoutSeconds", 30, 900, default=900),
        powertools_layer_arn=section.text("powertoolsLayerArn", check=checks.layer_arn),
        odbc_layer_arn=section.text("odbcLayerArn", check=checks.layer_arn),
        overlap_seconds=section.integer("overlapSeconds", 0, 86400, default=300),
        log_retention_days=log_retention(section),
    )
    section.finish()
    return extractor


def _spoke(top: Section, deployment: Deployment) -> SpokeConfig:
    hub_stack = top.text("hubStack", check=checks.stack_reference)
    if checks.stack_reference_stack(hub_stack) != deployment.environment:
        raise top.error(
            "hubStack", f"must name the '{deployment.environment}' hub stack; got '{hub_stack}'"
        )
    section = top.section("platform")
    platform = _source_platform(section, deployment.account.region)
    expected = f"{deployment.environment}-{platform.name}"
    if deployment.stack != expected:
        raise section.error(
            "name",
            "spoke stacks are named '<environment>-<platform>': "
            f"expected stack '{expected}', this is '{deployment.stack}'",
        )
    streams = top.section("changeStreams", default={})
    change_streams = _change_streams(streams) if streams.written_keys() else None
    return SpokeConfig(
        deployment=deployment,
        hub_stack=hub_stack,
        platform=platform,
        change_streams=change_streams,
        operations=operations(top, deployment, hub=False),
    )


def _source_platform(section: Section, region: str) -> SourcePlatformSettings:
    vpc_cidr = section.text("vpcCidr", check=checks.private_network)
    replica_cidr = section.text("replicaCidr", check=checks.ipv4_network)
    zones = _availability_zones(section, region)
    if not replica_cidr.subnet_of(vpc_cidr):
        raise section.error(
            "replicaCidr", f"{replica_cidr} must lie inside the platform VPC {vpc_cidr}"
        )
    split_prefix = replica_cidr.prefixlen + (len(zones) - 1).bit_length()
    if split_prefix > _SMALLEST_SUBNET_PREFIX:
        raise section.error(
            "replicaCidr",
            f"{replica_cidr} is too small for one /{_SMALLEST_SUBNET_PREFIX} subnet "
            f"per zone ({len(zones)} zones)",
        )
    databases = [_replica_source(item) for item in section.sections("databases")]
    _reject_duplicates(section, "databases", "name", [d.name for d in databases])
    settings = SourcePlatformSettings(
        name=section.text("name", check=checks.platform_name),
        vpc_id=section.text("vpcId", check=checks.vpc_id),
        vpc_cidr=vpc_cidr,
        replica_cidr=replica_cidr,
        availability_zones=zones,
        databases=tuple(databases),
        guarded_role_names=section.texts("promoteGuardRoles", check=checks.iam_name),
        peering_accepted=section.flag("peeringAccepted", default=False),
    )
    section.finish()
    return settings


PIPELINES = ("lambda", "native")


def _change_streams(section: Section) -> ChangeStreams:
    tables = []
    for item in section.sections("tables"):
        tables.append(
            StreamedTable(
                table=item.text("table", check=checks.dynamodb_table),
                dataset=item.text("dataset", check=checks.dataset_name),
            )
        )
        item.finish()
    _reject_duplicates(section, "tables", "table", [t.table for t in tables])
    _reject_duplicates(section, "tables", "dataset", [t.dataset for t in tables])
    streams = ChangeStreams(
        pipeline=section.text("pipeline", default="lambda", check=checks.choice(*PIPELINES)),
        tables=tuple(tables),
        # Kinesis allows 1-500 shards per stream in a new account; None is on-demand.
        kinesis_shards=section.integer("kinesisShards", 1, 500, default=None),
        # Kinesis keeps records 24 hours to 365 days.
        kinesis_retention_hours=section.integer("kinesisRetentionHours", 24, 8760, default=24),
        # Firehose buffers for 0-900 seconds and 1-128 MiB towards S3, whichever comes first.
        firehose_buffer_seconds=section.integer("firehoseBufferSeconds", 0, 900, default=300),
        firehose_buffer_mb=section.integer("firehoseBufferMb", 1, 128, default=64),
        staging_expiry_days=section.integer("stagingExpiryDays", 1, 365, default=7),
        functions=_stream_functions(section.section("functions")),
    )
    section.finish()
    return streams


def _stream_functions(section: Section) -> StreamFunctions:
    functions = StreamFunctions(
        architecture=section.text(
            "architecture", default="arm64", check=checks.choice("x86_64", "arm64")
        ),
        memory_mb=section.integer("memoryMb", 128, 10240, default=256),
        timeout_seconds=section.integer("timeoutSeconds", 10, 900, default=120),
        powertools_layer_arn=section.text("powertoolsLayerArn", check=checks.layer_arn),
        log_retention_days=log_retention(section),
        # Lambda reads up to 10,000 records per batch from DynamoDB Streams and Kinesis.
        batch_size=section.integer("batchSize", 1, 10000, default=100),
        maximum_retry_attempts=section.integer("maximumRetryAttempts", 0, 10000, default=5),
        # Lambda accepts 60 seconds to 7 days; DynamoDB keeps stream records 24 hours.
        maximum_record_age_seconds=section.integer(
            "maximumRecordAgeSeconds", 60, 604800, default=86400
        ),
    )
    section.finish()
    return functions


def _replica_source(item: Section) -> ReplicaSource:
    engine = item.text("engine", check=checks.choice(*checks.REPLICA_ENGINES))
    source = ReplicaSource(
        name=item.text("name", check=checks.platform_name),
        source_identifier=item.text("sourceIdentifier", check=checks.rds_identifier),
        engine=engine,
        parameter_group_family=item.text(
            "parameterGroupFamily", check=checks.parameter_group_family(engine)
        ),
        instance_class=item.text("instanceClass", check=checks.instance_class),
        port=item.integer("port", 1150, 65535, default=DEFAULT_PORTS[engine]),
        source_parameters=_parameters(item.section("sourceParameters", default={})),
    )
    item.finish()
    return source


def _parameters(section: Section) -> tuple[tuple[str, str], ...]:
    """Parameter name -> value, both written as text (RDS takes every value as a string)."""
    names = [name for name in section.written_keys() if isinstance(name, str)]
    return tuple(sorted((name, str(section.scalar(name))) for name in names))


def _reject_duplicates(section: Section, key: str, field: str, values: list[str]) -> None:
    seen: set[str] = set()
    for index, value in enumerate(values):
        if value in seen:
            raise ConfigError(
                (*section.path, key, index, field),
                f"'{value}' is used twice; each {field} must be unique",
            )
        seen.add(value)


def _reject_overlaps(
    section: Section, key: str, ranges: list[tuple[str, ipaddress.IPv4Network]], field: str
) -> None:
    for index, (name, cidr) in enumerate(ranges):
        for other_name, other in ranges[:index]:
            if cidr.overlaps(other):
                raise ConfigError(
                    (*section.path, key, index, field),
                    f"{cidr} ({name}) overlaps {other} ({other_name}); the hub routes to both",
                )
