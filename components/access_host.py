"""The access host: a small instance in the app tier that report developers reach only through
AWS Systems Manager Session Manager, to forward a local port to the reporting database or a
replica. No inbound rule anywhere; sessions encrypted and, for shells, logged."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.access_policies import AccessHostGrants, access_host_policy
from components.security_rules import HTTPS, tcp_rule
from stack_config import AccessHost as AccessHostSettings

# AWS's public parameters naming the current Amazon Linux 2023 AMI per architecture.
AL2023_AMI_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-{arch}"
SSM_CORE_POLICY_ARN = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
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
        role = aws.iam.Role(
            f"{name}-role",
            assume_role_policy=json.dumps(ec2_trust_policy()),
            tags=args.tags,
            opts=child,
        )
        aws.iam.RolePolicyAttachment(
            f"{name}-ssm-core", role=role.name, policy_arn=SSM_CORE_POLICY_ARN, opts=child
        )
        aws.iam.RolePolicy(
            f"{name}-policy",
            role=role.id,
            policy=pulumi.Output.json_dumps(
                pulumi.Output.all(logs.arn, args.sessions_key_arn).apply(
                    lambda values: access_host_policy(
                        AccessHostGrants(args.region, args.account_id, values[0], values[1])
                    )
                )
            ),
            opts=child,
        )
        profile = aws.iam.InstanceProfile(
            f"{name}-profile", role=role.name, tags=args.tags, opts=child
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
        architecture = instance_architecture(settings.instance_type)
        ami = aws.ssm.get_parameter_output(
            name=AL2023_AMI_PARAMETER.format(arch=architecture),
            opts=pulumi.InvokeOutputOptions(parent=self),
        )
        instance = aws.ec2.Instance(
            f"{name}-instance",
            ami=ami.value,
            instance_type=settings.instance_type,
            subnet_id=args.subnet_id,
            vpc_security_group_ids=[security_group.id, args.replica_clients_security_group_id],
            iam_instance_profile=profile.name,
            associate_public_ip_address=False,
            metadata_options={
                "http_endpoint": "enabled",
                "http_tokens": "required",
                "http_put_response_hop_limit": 1,
            },
            root_block_device={
                "encrypted": True,
                "kms_key_id": args.volumes_key_arn,
                "volume_type": "gp3",
                "volume_size": ROOT_VOLUME_GB,
            },
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


# An instance family: its series letters, generation, then attribute letters (`g` Graviton,
# `d` local disks, `n` network...): t4g, c7gn, im4gn, is4gen, g5g, m7i-flex.
_FAMILY = re.compile(r"(?P<series>[a-z]+)(?P<generation>\d+)(?P<attributes>[a-z-]*)")
# The first Graviton family predates the `g` attribute.
_GRAVITON_WITHOUT_ATTRIBUTE = ("a1",)


def instance_architecture(instance_type: str) -> str:
    """Graviton families (a1, and those whose attributes carry a `g`: t4g, m7g, c7gn, g5g...)
    run arm64; the rest (g4dn, m7i-flex...) x86_64."""
    family = instance_type.split(".", maxsplit=1)[0]
    if family in _GRAVITON_WITHOUT_ATTRIBUTE:
        return "arm64"
    parsed = _FAMILY.fullmatch(family)
    return "arm64" if parsed and "g" in parsed["attributes"] else "x86_64"


def ec2_trust_policy() -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }


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
