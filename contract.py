"""The stack contract: every output one stack exports for another, named in one place.

The hub exports `HubOutputs`; each spoke exports `PlatformOutputs`. Both sides go through
`export` and `read`, so an output can only be renamed for both sides at once, and the readers use
`require_output`: a missing output fails the deployment instead of yielding None.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, TypeVar

import pulumi


@dataclass(frozen=True)
class HubOutputs:
    """What the reporting account's stack exports."""

    account_id: pulumi.Input[str]
    region: pulumi.Input[str]
    vpc_id: pulumi.Input[str]
    vpc_cidr: pulumi.Input[str]
    # The hub subnets whose compute reads the replicas (the app tier); spokes admit only these.
    replica_client_cidrs: pulumi.Input[list[str]]
    landing_bucket_name: pulumi.Input[str]
    landing_bucket_arn: pulumi.Input[str]
    landing_key_arn: pulumi.Input[str]
    reporting_database_address: pulumi.Input[str]
    # The ARN of the RDS-managed secret, never its value.
    reporting_database_secret_arn: pulumi.Input[str]
    alert_topic_arn: pulumi.Input[str]


@dataclass(frozen=True)
class PlatformOutputs:
    """What one source platform's stack exports."""

    platform: pulumi.Input[str]
    account_id: pulumi.Input[str]
    vpc_id: pulumi.Input[str]
    vpc_cidr: pulumi.Input[str]
    replica_cidr: pulumi.Input[str]
    replica_ports: pulumi.Input[list[int]]
    replica_endpoints: pulumi.Input[list[dict[str, Any]]]
    peering_connection_id: pulumi.Input[str]
    promote_guard_policy_arn: pulumi.Input[str]
    # The copier the hub's landing bucket admits, and the only VPC endpoint it may come
    # through; both "" when the platform streams no table.
    copier_role_arn: pulumi.Input[str]
    copier_endpoint_id: pulumi.Input[str]


Outputs = TypeVar("Outputs", HubOutputs, PlatformOutputs)


def output_name(field_name: str) -> str:
    """Stack outputs are camelCase, as `pulumi stack output` users expect: vpc_id -> vpcId."""
    head, *rest = field_name.split("_")
    return head + "".join(part.title() for part in rest)


def output_names(contract: type[Outputs]) -> list[str]:
    """Every output name a contract class defines."""
    return [output_name(field.name) for field in fields(contract)]


def export(outputs: HubOutputs | PlatformOutputs) -> None:
    """Export every field of the contract as a stack output."""
    for field in fields(outputs):
        pulumi.export(output_name(field.name), getattr(outputs, field.name))


def read(contract: type[Outputs], reference: pulumi.StackReference) -> Outputs:
    """Read every field of the contract from another stack, each one required."""
    return contract(
        **{
            field.name: reference.require_output(output_name(field.name))
            for field in fields(contract)
        }
    )
