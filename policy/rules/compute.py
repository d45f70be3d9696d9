"""EC2 instances, EBS volumes and Lambda permissions: IMDSv2, volumes encrypted with a CMK, no
public address but on the SSH bastion, invocations bound to their source."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policy.rules.databases import customer_managed_key_problem
from policy.rules.values import as_list, is_set, is_unknown, lookup, shown

EC2_INSTANCE = "aws:ec2/instance:Instance"
EBS_VOLUME = "aws:ebs/volume:Volume"
LAMBDA_PERMISSION = "aws:lambda/permission:Permission"
# The one instance allowed a public address, the optional SSH bastion, carries this tag; the
# stack rule `ssh-bastion-confined` then holds its security group to SSH from named ranges.
ACCESS_TAG = "Access"
SSH_BASTION = "ssh-bastion"


def is_ssh_bastion(props: Mapping[str, Any]) -> bool | None:
    """Whether the instance is tagged as the SSH bastion; None if its tags are unknown."""
    access = lookup(props, "tags", ACCESS_TAG)
    return None if is_unknown(access) else access == SSH_BASTION


def ec2_imdsv2_required(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """`metadataOptions.httpTokens` is "required": IMDSv1 answers any request that reaches it,
    the classic way SSRF turns into stolen role credentials."""
    if resource_type != EC2_INSTANCE:
        return []
    tokens = lookup(props, "metadataOptions", "httpTokens")
    if is_unknown(tokens) or tokens == "required":
        return []
    return [f"metadataOptions.httpTokens is {shown(tokens)}: IMDSv2 must be required"]


def _volume_problems(where: str, volume: Any) -> list[str]:
    if is_unknown(volume):
        return []
    encrypted = lookup(volume, "encrypted")
    problems = []
    if not is_unknown(encrypted) and encrypted is not True:
        problems.append(f"{where}.encrypted is not true: the volume would be in clear")
    key_problems = customer_managed_key_problem(f"{where}.kmsKeyId", lookup(volume, "kmsKeyId"))
    return problems + key_problems


def ec2_volumes_encrypted_with_cmk(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """Root and EBS block devices of an instance, and standalone EBS volumes: encrypted, with a
    customer managed key. An instance must describe its root device: left out, it takes the
    AMI's default, which need not be encrypted."""
    if resource_type == EBS_VOLUME:
        return _volume_problems("volume", props)
    if resource_type != EC2_INSTANCE:
        return []
    root = props.get("rootBlockDevice")
    problems = (
        ["rootBlockDevice is not set: the root volume would take the AMI's default encryption"]
        if root is None
        else _volume_problems("rootBlockDevice", root)
    )
    devices = props.get("ebsBlockDevices")
    if not is_unknown(devices):
        for index, device in enumerate(as_list(devices)):
            problems += _volume_problems(f"ebsBlockDevices[{index}]", device)
    return problems


def ec2_no_public_ip(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """`associatePublicIpAddress` explicitly false (left out, the subnet decides), except on the
    instance tagged `Access: ssh-bastion`."""
    if resource_type != EC2_INSTANCE:
        return []
    public = props.get("associatePublicIpAddress")
    bastion = is_ssh_bastion(props)
    if is_unknown(public) or public is False or bastion is not False:
        return []
    if public is None:
        return [
            "associatePublicIpAddress is not set: the subnet's default would decide whether "
            "the instance gets a public address"
        ]
    return [
        f"associatePublicIpAddress is {public!r}: only the instance tagged "
        f"{ACCESS_TAG}: {SSH_BASTION} may have a public address"
    ]


def lambda_permission_has_source_arn(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """A permission for a service principal names the resource that may invoke (`sourceArn`):
    without it, any bucket, topic or rule of any account could (the confused deputy)."""
    if resource_type != LAMBDA_PERMISSION or is_set(props.get("sourceArn")):
        return []
    return [
        f"sourceArn is not set: {props.get('principal')!r} could invoke the function on "
        "behalf of any resource"
    ]
