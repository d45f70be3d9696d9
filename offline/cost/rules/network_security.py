"""Interface VPC endpoints, KMS keys and Secrets Manager secrets."""

from __future__ import annotations

from offline.cost.context import PricingContext
from offline.cost.model import LineItem, Pricing
from offline.mocks import RegisteredResource


def vpc_endpoint(resource: RegisteredResource, context: PricingContext) -> Pricing:
    """Interface endpoints bill per subnet (one network interface per AZ) per hour, plus data;
    gateway endpoints (S3, DynamoDB) have no charge."""
    inputs = resource.inputs
    kind = inputs.get("vpcEndpointType") or "Gateway"
    service = str(inputs.get("serviceName") or "?").rsplit(".", 1)[-1]
    if kind == "Gateway":
        return Pricing(free=f"gateway endpoint ({service}): no charge")
    zones = len(inputs.get("subnetIds") or []) or 1
    hours = context.period.hours_per_month
    return Pricing(
        items=(
            LineItem(
                resource.name,
                f"{kind} endpoint for {service} in {zones} AZ(s)",
                zones * hours,
                context.price("vpc/interface-endpoint-hour"),
            ),
            LineItem(
                resource.name,
                "data processed (stated volume)",
                context.volumes.gb_per_interface_endpoint,
                context.price("vpc/interface-endpoint-data"),
            ),
        )
    )


def kms_key(resource: RegisteredResource, context: PricingContext) -> Pricing:
    # A rotation adds a month's price per key from the second year only: outside the period.
    return Pricing(
        items=(
            LineItem(resource.name, "customer managed key", 1, context.price("kms/key-month")),
            LineItem(
                resource.name,
                "requests (stated volume)",
                context.volumes.requests_per_key,
                context.price("kms/requests"),
            ),
        )
    )


def secret(resource: RegisteredResource, context: PricingContext) -> Pricing:
    return Pricing(
        items=(
            LineItem(resource.name, "secret", 1, context.price("secretsmanager/secret-month")),
            LineItem(
                resource.name,
                "API calls (stated volume)",
                context.volumes.api_calls_per_secret,
                context.price("secretsmanager/api-calls"),
            ),
        )
    )
