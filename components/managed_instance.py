"""What the hub's instances share: Amazon Linux 2023 for their architecture, a role that makes
them Systems Manager managed nodes (Session Manager, patching), IMDSv2 only, and a root volume
encrypted with the hub's EBS key."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

# AWS's public parameters naming the current Amazon Linux 2023 AMI per architecture.
AL2023_AMI_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-{arch}"
SSM_CORE_POLICY_ARN = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
# Session tokens only, and not from a container on the instance (one hop).
IMDS_V2_ONLY = {
    "http_endpoint": "enabled",
    "http_tokens": "required",
    "http_put_response_hop_limit": 1,
}
# An instance family: its series letters, generation, then attribute letters (`g` Graviton,
# `d` local disks, `n` network...): t4g, c7gn, im4gn, is4gen, g5g, m7i-flex.
_FAMILY = re.compile(r"(?P<series>[a-z]+)(?P<generation>\d+)(?P<attributes>[a-z-]*)")
# The first Graviton family predates the `g` attribute.
_GRAVITON_WITHOUT_ATTRIBUTE = ("a1",)


@dataclass(frozen=True)
class ManagedRole:
    role: aws.iam.Role
    profile: aws.iam.InstanceProfile


def managed_instance_role(
    name: str, tags: dict[str, str], opts: pulumi.ResourceOptions
) -> ManagedRole:
    """`<name>-role` (EC2 may assume it) with AWS's Systems Manager core policy, and its
    instance profile `<name>-profile`; the caller adds the instance's own grants."""
    role = aws.iam.Role(
        f"{name}-role", assume_role_policy=json.dumps(ec2_trust_policy()), tags=tags, opts=opts
    )
    aws.iam.RolePolicyAttachment(
        f"{name}-ssm-core", role=role.name, policy_arn=SSM_CORE_POLICY_ARN, opts=opts
    )
    profile = aws.iam.InstanceProfile(f"{name}-profile", role=role.name, tags=tags, opts=opts)
    return ManagedRole(role, profile)


def al2023_ami(instance_type: str, parent: pulumi.Resource) -> pulumi.Output[str]:
    """The current Amazon Linux 2023 AMI for the instance type's architecture."""
    return aws.ssm.get_parameter_output(
        name=AL2023_AMI_PARAMETER.format(arch=instance_architecture(instance_type)),
        opts=pulumi.InvokeOutputOptions(parent=parent),
    ).value


def encrypted_root_volume(key_arn: pulumi.Input[str], size_gb: int) -> dict:
    return {"encrypted": True, "kms_key_id": key_arn, "volume_type": "gp3", "volume_size": size_gb}


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
