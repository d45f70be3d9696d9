"""Frozen, typed stack config. Built once by `parse`, read everywhere else."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Network

from functions.working_hours.working_time import Schedule


@dataclass(frozen=True)
class AwsAccount:
    """The one AWS account a stack deploys into, and the role Pulumi assumes there."""

    account_id: str
    deploy_role_arn: str
    region: str


@dataclass(frozen=True)
class Deployment:
    """What every stack states about itself, whatever its role."""

    stack: str
    environment: str
    owner: str
    schedule: str
    account: AwsAccount


@dataclass(frozen=True)
class HubNetwork:
    vpc_cidr: IPv4Network
    availability_zones: tuple[str, ...]


@dataclass(frozen=True)
class LandingBucket:
    archive_expiry_days: int
    noncurrent_version_expiry_days: int


@dataclass(frozen=True)
class ReportingDatabase:
    engine: str
    engine_version: str
    instance_class: str
    allocated_storage_gb: int
    max_allocated_storage_gb: int
    multi_az: bool
    backup_retention_days: int
    deletion_protection: bool
    # RDS windows, UTC: daily `hh24:mi-hh24:mi` and weekly `ddd:hh24:mi-ddd:hh24:mi`. RDS takes
    # no backup of a stopped instance, so the backup window must be in working hours.
    backup_window: str = "08:00-08:30"
    maintenance_window: str = "tue:08:30-tue:09:00"

    @property
    def parameter_group_family(self) -> str:
        """RDS names SQL Server families by major version: 16.00.x -> sqlserver-se-16.0."""
        return f"{self.engine}-{int(self.engine_version.split('.')[0])}.0"


@dataclass(frozen=True)
class LoaderSettings:
    """The landing loader Lambda (Example 1)."""

    architecture: str
    memory_mb: int
    timeout_seconds: int
    # None: no reservation. New accounts have a concurrency quota of 10, and AWS keeps 10
    # unreserved, so reserving anything needs a quota increase first.
    reserved_concurrency: int | None
    powertools_layer_arn: str
    odbc_layer_arn: str
    database_name: str
    log_retention_days: int


@dataclass(frozen=True)
class ExtractorSettings:
    """The extractor Lambda: incremental extracts from the platforms' read replicas."""

    # An EventBridge Scheduler expression: rate(...) or cron(...).
    schedule: str
    timezone: str
    architecture: str
    memory_mb: int
    timeout_seconds: int
    powertools_layer_arn: str
    # ODBC drivers for the source engines (MySQL, PostgreSQL, SQL Server) and pyodbc.
    odbc_layer_arn: str
    # Rows changed this long before the last watermark are read again (late commits).
    overlap_seconds: int
    log_retention_days: int


@dataclass(frozen=True)
class SchedulerSettings:
    """The function that stops and starts this account's tagged compute out of hours."""

    # An EventBridge Scheduler rate() expression: how often it compares states with schedules.
    expression: str
    # Decide and log only: nothing is started, stopped or tagged.
    dry_run: bool
    architecture: str
    memory_mb: int
    timeout_seconds: int
    powertools_layer_arn: str
    log_retention_days: int


@dataclass(frozen=True)
class AlertMail:
    """Readable alert emails through SES, beside the bare SNS ones."""

    # An SES identity (address or domain) already verified in the account and region.
    sender: str
    recipients: tuple[str, ...]
    powertools_layer_arn: str
    log_retention_days: int


@dataclass(frozen=True)
class AlertSettings:
    # Addresses subscribed to the alert topic (each confirms by the link SNS sends).
    emails: tuple[str, ...]
    # None: no SES mail.
    mail: AlertMail | None


@dataclass(frozen=True)
class Operations:
    """What every stack runs to operate its account: schedules, scheduler and alerts."""

    # By name; the deployment's `schedule` is one of them whenever any are given.
    schedules: tuple[Schedule, ...]
    # None: this account's compute is not stopped out of hours.
    scheduler: SchedulerSettings | None
    alerts: AlertSettings

    def schedule(self, name: str) -> Schedule:
        """The schedule called `name` (parse checked the deployment's exists)."""
        return next(s for s in self.schedules if s.name == name)


@dataclass(frozen=True)
class FreshnessSettings:
    """The check that alerts when a dataset has had no successful load for too long."""

    # An EventBridge Scheduler expression, in the hub schedule's timezone.
    expression: str
    # Working hours (of the hub's schedule) a dataset may go without a load.
    window_hours: int
    # Per-dataset windows (`<platform>/<dataset>` -> hours; 0: not watched).
    datasets: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class AccessHost:
    """The instance report developers reach the databases through, by Session Manager."""

    instance_type: str
    session_log_retention_days: int


@dataclass(frozen=True)
class SshBastion:
    """The case study's PuTTY server: SSH from the office only, key-only."""

    instance_type: str
    # An OpenSSH public key (ssh-ed25519 or ssh-rsa); the private key never leaves its owner.
    public_key: str


@dataclass(frozen=True)
class AccessSettings:
    """How people reach the reporting account's data, and from where."""

    access_host: AccessHost
    # Existing IAM roles that may start port-forwarding sessions to the databases.
    report_developer_roles: tuple[str, ...]
    # Existing IAM roles and groups of people: denied every action from outside the office.
    office_only_roles: tuple[str, ...]
    office_only_groups: tuple[str, ...]
    # None: no bastion, no public subnet, no internet gateway.
    ssh_bastion: SshBastion | None


@dataclass(frozen=True)
class ReportServer:
    """The instance the report runner runs on, woken by a systemd timer."""

    instance_type: str
    # How often the timer runs the runner (which sends what is due, and what it missed while
    # the server was stopped); divides 60, so the timer fires at the same minutes every hour.
    check_every_minutes: int


@dataclass(frozen=True)
class ReportSettings:
    """Automated reports: definitions in `reports/*.yaml`, run on the report server."""

    # An SES identity (address or domain) already verified in the account and region.
    sender: str
    # Presigned download links last this long (at most: they are signed with the instance
    # role's temporary credentials).
    link_expiry_hours: int
    # Reports missed while the server was stopped are sent if due within this many days; less
    # than every report's retention, so a caught-up report is never already expired.
    catch_up_days: int
    server: ReportServer


@dataclass(frozen=True)
class PlatformLink:
    """The hub's view of one source platform."""

    name: str
    account_id: str
    vpc_cidr: IPv4Network
    stack: str
    attached: bool


@dataclass(frozen=True)
class HubConfig:
    deployment: Deployment
    network: HubNetwork
    office_cidrs: tuple[IPv4Network, ...]
    landing: LandingBucket
    database: ReportingDatabase
    loader: LoaderSettings
    platforms: tuple[PlatformLink, ...]
    operations: Operations
    access: AccessSettings
    # None: no extractor (nothing is pulled from the replicas).
    extractor: ExtractorSettings | None = None
    # None: no freshness check.
    freshness: FreshnessSettings | None = None
    # None: no report server (and no reports bucket).
    reports: ReportSettings | None = None

    @property
    def attached_platforms(self) -> tuple[PlatformLink, ...]:
        """Platforms whose spoke is deployed and whose peering the hub accepts."""
        return tuple(platform for platform in self.platforms if platform.attached)


@dataclass(frozen=True)
class ReplicaSource:
    """One production database in the platform account and the read replica made of it."""

    name: str
    source_identifier: str
    engine: str
    parameter_group_family: str
    instance_class: str
    port: int
    # Source settings the replica must match (PostgreSQL refuses to replay with, for one, a lower
    # max_connections than its primary); the replica's own parameter group starts from defaults.
    source_parameters: tuple[tuple[str, str], ...]

    def source_arn(self, region: str, account_id: str) -> str:
        """RDS wants the source as an ARN when a same-region replica gets its own subnet group."""
        return f"arn:aws:rds:{region}:{account_id}:db:{self.source_identifier}"


@dataclass(frozen=True)
class SourcePlatformSettings:
    name: str
    vpc_id: str
    vpc_cidr: IPv4Network
    replica_cidr: IPv4Network
    availability_zones: tuple[str, ...]
    databases: tuple[ReplicaSource, ...]
    guarded_role_names: tuple[str, ...]
    peering_accepted: bool


@dataclass(frozen=True)
class StreamedTable:
    """An existing DynamoDB table of the platform and the catalog dataset its changes feed."""

    table: str
    dataset: str


@dataclass(frozen=True)
class StreamFunctions:
    """The pipeline's Lambda functions (forwarder, writer, copier) and their event sources."""

    architecture: str
    memory_mb: int
    timeout_seconds: int
    powertools_layer_arn: str
    log_retention_days: int
    batch_size: int
    # Bounded: a record that keeps failing goes to the failure queue instead of blocking its
    # shard until it expires.
    maximum_retry_attempts: int
    maximum_record_age_seconds: int


@dataclass(frozen=True)
class ChangeStreams:
    """Example 2: the changes of DynamoDB tables, through Kinesis and Firehose, to the hub."""

    # `lambda`: the case study's chain (stream -> forwarder -> Kinesis -> writer -> Firehose);
    # `native`: DynamoDB's Kinesis destination and Firehose reading Kinesis, no functions.
    pipeline: str
    tables: tuple[StreamedTable, ...]
    # None: on-demand capacity.
    kinesis_shards: int | None
    kinesis_retention_hours: int
    firehose_buffer_seconds: int
    firehose_buffer_mb: int
    staging_expiry_days: int
    functions: StreamFunctions


@dataclass(frozen=True)
class SpokeConfig:
    deployment: Deployment
    hub_stack: str
    platform: SourcePlatformSettings
    # None: the platform streams no table.
    change_streams: ChangeStreams | None
    operations: Operations


StackConfig = HubConfig | SpokeConfig
