"""The report server (issue 8): an Amazon Linux 2023 instance in the app tier that runs the
report runner on a systemd timer, with its own reports bucket and key. No inbound rule, Session
Manager only, IMDSv2, EBS encrypted with the hub's volumes key, stopped out of hours with the
rest of the hub's compute (the runner catches up when it starts again). docs/report-server.md."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws

from components.access_policies import DataAccess, data_access_statement
from components.function_package import PROJECT_DIR, package_files
from components.managed_instance import (
    IMDS_V2_ONLY,
    al2023_ami,
    encrypted_root_volume,
    managed_instance_role,
)
from components.policy_documents import service_key_policy
from components.report_server_policies import (
    REPORTS_PREFIX,
    RUNNER_PREFIX,
    ReportServerGrants,
    report_server_policy,
)
from components.report_server_user_data import RunnerSetup, render_user_data
from components.secure_bucket import ExpiringPrefix, SecureBucket, SecureBucketArgs
from components.security_rules import app_tier_security_group
from components.service_key import ServiceKey, ServiceKeyArgs
from functions.report_runner.definitions import ReportDefinition
from stack_config import ReportSettings

# What the runner imports from this repository (the third-party packages come from the wheels
# in the bucket's packages/ prefix).
RUNNER_PACKAGES = [
    "functions.report_runner",
    "functions.loader",
    "functions.catalog",
    "functions.working_hours",
]
REQUIREMENTS = "functions/report_runner/requirements.txt"
ROOT_VOLUME_GB = 16
# Report objects are gone for good soon after they expire: a deleted report is not kept as a
# noncurrent version for long.
NONCURRENT_VERSION_EXPIRY_DAYS = 1


def bundle_files(project_dir: Path = PROJECT_DIR) -> dict[str, Path]:
    """Archive path -> file: the runner's packages (source only), its requirements file and the
    report definitions, as laid out in the repository."""
    files = package_files(RUNNER_PACKAGES, project_dir)
    files[REQUIREMENTS] = project_dir / REQUIREMENTS
    for definition in sorted((project_dir / "reports").glob("*.yaml")):
        files[f"reports/{definition.name}"] = definition
    return dict(sorted(files.items()))


def bundle_key(files: dict[str, Path]) -> str:
    """`runner/report-runner-<hash>.zip`: the hash of every archive path and its bytes, so a
    change to any of them is a new key, new user data, and a new server."""
    digest = hashlib.sha256()
    for name, path in sorted(files.items()):
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return f"{RUNNER_PREFIX}report-runner-{digest.hexdigest()[:16]}.zip"


def report_expiry(definitions: tuple[ReportDefinition, ...]) -> list[ExpiringPrefix]:
    """One lifecycle rule per report: `reports/<name>/` expires after its retention."""
    return [
        ExpiringPrefix(f"{REPORTS_PREFIX}{d.name}/", d.retention_days)
        for d in sorted(definitions, key=lambda d: d.name)
    ]


@dataclass(frozen=True)
class ReportServerArgs:
    settings: ReportSettings
    definitions: tuple[ReportDefinition, ...]
    resource_prefix: str
    account_id: str
    region: str
    vpc_id: pulumi.Input[str]
    subnet_id: pulumi.Input[str]
    database_cidrs: list[str]
    database_port: int
    database_address: pulumi.Input[str]
    database_name: str
    database_secret_arn: pulumi.Input[str]
    database_key_arn: pulumi.Input[str]
    # The database's out-of-hours schedule (JSON), as the loader reads it.
    database_schedule: str
    s3_endpoint_id: pulumi.Input[str]
    s3_prefix_list_id: pulumi.Input[str]
    endpoints_security_group_id: pulumi.Input[str]
    # Where report data may be read from besides the hub's S3 endpoint: the office (a link
    # opened there) and the deployer (the bundle upload).
    office_cidrs: list[str]
    deployer_role_arn: str
    alert_topic_arn: pulumi.Input[str]
    operations_key_arn: pulumi.Input[str]
    # Encrypts the root volume (the hub's EBS key).
    volumes_key_arn: pulumi.Input[str]
    tags: dict[str, str]
    compute_tags: dict[str, str]


class ReportServer(pulumi.ComponentResource):
    """Reports key and bucket, the runner bundle, the instance with its role and group."""

    bucket_name: pulumi.Output[str]
    instance_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: ReportServerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("reporting:reports:ReportServer", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        settings = args.settings
        key = ServiceKey(
            f"{name}-objects",
            ServiceKeyArgs(
                "Reports, the runner bundle and the server's packages",
                service_key_policy(args.account_id, args.region, ["s3"]),
                args.tags,
            ),
            opts=child,
        )
        bucket = SecureBucket(
            f"{name}-output",
            SecureBucketArgs(
                key_arn=key.arn,
                expiring_prefixes=report_expiry(args.definitions),
                noncurrent_version_expiry_days=NONCURRENT_VERSION_EXPIRY_DAYS,
                tags=args.tags,
                extra_statements=lambda bucket_arn: pulumi.Output.all(
                    bucket_arn, args.s3_endpoint_id
                ).apply(
                    lambda values: [
                        data_access_statement(
                            values[0],
                            DataAccess(
                                office_cidrs=args.office_cidrs,
                                endpoint_ids=[values[1]],
                                principal_arns=[args.deployer_role_arn],
                            ),
                        )
                    ]
                ),
            ),
            opts=child,
        )
        files = bundle_files()
        bundle = aws.s3.BucketObjectv2(
            f"{name}-bundle",
            bucket=bucket.bucket_name,
            key=bundle_key(files),
            source=pulumi.AssetArchive(
                {archived: pulumi.FileAsset(str(path)) for archived, path in files.items()}
            ),
            content_type="application/zip",
            server_side_encryption="aws:kms",
            kms_key_id=key.arn,
            tags=args.tags,
            opts=child,
        )
        managed = managed_instance_role(name, args.tags, child)
        aws.iam.RolePolicy(
            f"{name}-policy",
            role=managed.role.id,
            policy=pulumi.Output.json_dumps(
                pulumi.Output.all(
                    bucket.arn,
                    key.arn,
                    args.database_secret_arn,
                    args.database_key_arn,
                    args.alert_topic_arn,
                    args.operations_key_arn,
                ).apply(
                    lambda arns: report_server_policy(
                        ReportServerGrants(
                            region=args.region,
                            account_id=args.account_id,
                            bucket_arn=arns[0],
                            reports_key_arn=arns[1],
                            sender=settings.sender,
                            database_secret_arn=arns[2],
                            database_key_arn=arns[3],
                            alert_topic_arn=arns[4],
                            operations_key_arn=arns[5],
                        )
                    )
                )
            ),
            opts=child,
        )
        security_group = app_tier_security_group(
            name,
            "Report server: database, S3 and AWS API endpoints only; no ingress",
            vpc_id=args.vpc_id,
            database=(args.database_cidrs, args.database_port),
            s3_prefix_list_id=args.s3_prefix_list_id,
            endpoints_group_id=args.endpoints_security_group_id,
            tags=args.tags,
            opts=child,
        )
        user_data = pulumi.Output.all(
            bucket.bucket_name,
            key.arn,
            bundle.key,
            args.database_secret_arn,
            args.database_address,
            args.alert_topic_arn,
        ).apply(
            lambda values: render_user_data(
                RunnerSetup(
                    region=args.region,
                    bucket_name=values[0],
                    reports_key_arn=values[1],
                    bundle_key=values[2],
                    database_secret_arn=values[3],
                    database_host=values[4],
                    database_port=args.database_port,
                    database_name=args.database_name,
                    database_schedule=args.database_schedule,
                    alert_topic_arn=values[5],
                    sender=settings.sender,
                    link_expiry_hours=settings.link_expiry_hours,
                    catch_up_days=settings.catch_up_days,
                    check_every_minutes=settings.server.check_every_minutes,
                )
            )
        )
        instance = aws.ec2.Instance(
            f"{name}-instance",
            ami=al2023_ami(settings.server.instance_type, self),
            instance_type=settings.server.instance_type,
            subnet_id=args.subnet_id,
            vpc_security_group_ids=[security_group.id],
            iam_instance_profile=managed.profile.name,
            associate_public_ip_address=False,
            metadata_options=IMDS_V2_ONLY,
            root_block_device=encrypted_root_volume(args.volumes_key_arn, ROOT_VOLUME_GB),
            user_data=user_data,
            # The server keeps nothing (the delivery record is in the bucket): a new bundle or
            # setting is a new server, installed from scratch by its user data.
            user_data_replace_on_change=True,
            tags={**args.compute_tags, "Name": f"{args.resource_prefix}-report-server"},
            volume_tags=args.tags,
            # A newer AMI must not replace the server in the middle of a run (and Pulumi keeps
            # the old AMI for a replacement too): move to a newer one with `--replace`.
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["ami"]),
        )
        self.bucket_name = bucket.bucket_name
        self.instance_arn = instance.arn
        self.register_outputs({"bucket_name": self.bucket_name, "instance_arn": self.instance_arn})
