"""The access host: a small instance in the app tier that report developers reach only through
AWS Systems Manager Session Manager, to forward a local port to the reporting database or a
replica. No inbound rule anywhere; sessions encrypted and, for shells, logged."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.access_policies import AccessHostGrants, access_host_policy
from components.managed_instance import (
    IMDS_V2_ONLY,
    al2023_ami,
    encrypted_root_volume,
    managed_instance_role,
)
from components.security_rules import HTTPS, tcp_rule
from stack_config import AccessHost as AccessHostSettings

# Session Manager reads the account's preferences from this document name.
SESSION_PREFERENCES_DOCUMENT = "SSM-SessionManagerRunShell"
IDLE_SESSION_MINUTES = 20
ROOT_VOLUME_GB = 8


@dataclass(frozen=True)
class AccessHostArgs:
    settings: AccessHostSettings
    resource_prefix: str
    region: str
    account_id: str
    vpc_id: pulumi.Input[str]
    subnet_id: pulumi.Input[str]
    database_cidrs: list[str]
    database_port: int
    endpoints_security_group_id: pulumi.Input[str]
    # The S3 gateway endpoint's prefix list: dnf reaches the Amazon Linux repositories there.
    s3_prefix_list_id: pulumi.Input[str]
    replica_clients_security_group_id: pulumi.Input[str]
    # Encrypts the root volume.
    volumes_key_arn: pulumi.Input[str]
    # Encrypts the session data.
    sessions_key_arn: pulumi.Input[str]
    # Encrypts the session log group.
    operations_key_arn: pulumi.Input[str]
    tags: dict[str, str]
    compute_tags: dict[str, str]


class AccessHost(pulumi.ComponentResource):
    """Instance, role and profile, security group, and the account's session preferences."""

    instance_arn: pulumi.Output[str]
    session_log_group_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: AccessHostArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("reporting:access:AccessHost", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        settings = args.settings
        logs = aws.cloudwatch.LogGroup(
            f"{name}-sessions",
            name=f"/reporting/{args.resource_prefix}/sessions",
            retention_in_days=settings.session_log_retention_days,
            kms_key_id=args.operations_key_arn,
            tags=args.tags,
            opts=child,
        )
        aws.ssm.Document(
            f"{name}-session-preferences",
            name=SESSION_PREFERENCES_DOCUMENT,
            document_type="Session",
            document_format="JSON",
            content=pulumi.Output.all(logs.name, args.sessions_key_arn).apply(
                lambda values: json.dumps(session_preferences(values[0], values[1]))
            ),
            tags=args.tags,
            opts=child,
        )
        managed = managed_instance_role(name, args.tags, child)
        aws.iam.RolePolicy(
            f"{name}-policy",
            role=managed.role.id,
            policy=pulumi.Output.json_dumps(
                pulumi.Output.all(logs.arn, args.sessions_key_arn).apply(
                    lambda values: access_host_policy(
                        AccessHostGrants(args.region, args.account_id, values[0], values[1])
                    )
                )
            ),
            opts=child,
        )
        security_group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            description=(
                "Access host: Session Manager and package repositories out, the reporting "
                "database; no ingress"
            ),
            vpc_id=args.vpc_id,
            ingress=[],
            egress=pulumi.Output.all(
                args.endpoints_security_group_id, args.s3_prefix_list_id
            ).apply(
                lambda ids: [
                    tcp_rule(
                        "Session Manager and KMS through the interface endpoints",
                        HTTPS,
                        security_groups=[ids[0]],
                    ),
                    tcp_rule(
                        "Amazon Linux repositories through the S3 gateway endpoint",
                        HTTPS,
                        prefix_list_ids=[ids[1]],
                    ),
                    tcp_rule(
                        "Reporting database", args.database_port, cidr_blocks=args.database_cidrs
                    ),
                ]
            ),
            tags={**args.tags, "Name": f"{name}-sg"},
            opts=child,
        )
        instance = aws.ec2.Instance(
            f"{name}-instance",
            ami=al2023_ami(settings.instance_type, self),
            instance_type=settings.instance_type,
            subnet_id=args.subnet_id,
            vpc_security_group_ids=[security_group.id, args.replica_clients_security_group_id],
            iam_instance_profile=managed.profile.name,
            associate_public_ip_address=False,
            metadata_options=IMDS_V2_ONLY,
            root_block_device=encrypted_root_volume(args.volumes_key_arn, ROOT_VOLUME_GB),
            tags={
                **args.compute_tags,
                "Name": f"{args.resource_prefix}-access-host",
                "Access": "session-manager",
            },
            volume_tags=args.tags,
            # A newer AMI must not replace the host under an open session: an administrator
            # patches it in place (`dnf upgrade` over Session Manager or Run Command, from the
            # Amazon Linux repositories through the S3 endpoint) and replaces it deliberately.
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["ami"]),
        )
        self.instance_arn = instance.arn
        self.session_log_group_name = logs.name
        self.register_outputs(
            {
                "instance_arn": self.instance_arn,
                "session_log_group_name": self.session_log_group_name,
            }
        )


def session_preferences(log_group_name: str, key_arn: str) -> dict:
    """Session Manager's account preferences: sessions encrypted with the key, shell sessions
    logged to the encrypted group, idle sessions ended, no run-as."""
    return {
        "schemaVersion": "1.0",
        "description": "Reporting platform Session Manager preferences",
        "sessionType": "Standard_Stream",
        "inputs": {
            "kmsKeyId": key_arn,
            "cloudWatchLogGroupName": log_group_name,
            "cloudWatchEncryptionEnabled": True,
            "cloudWatchStreamingEnabled": True,
            "s3BucketName": "",
            "idleSessionTimeout": str(IDLE_SESSION_MINUTES),
            "runAsEnabled": False,
        },
    }
