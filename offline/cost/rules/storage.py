"""S3 buckets and CloudWatch log groups, at the stated volumes."""

from __future__ import annotations

from offline.cost.context import PricingContext
from offline.cost.model import LineItem, Pricing
from offline.cost.rules.functions import function_kind
from offline.mocks import RegisteredResource

DAYS_PER_MONTH = 365 / 12
# Logs kept forever (no retention) are priced at a year's worth: the estimate's horizon.
NEVER_EXPIRES_MONTHS = 12


# The component whose bucket holds reports (components/report_server.py).
REPORT_SERVER = "reporting:reports:ReportServer"


def s3_bucket(resource: RegisteredResource, context: PricingContext) -> Pricing:
    """A report server's bucket as the reports bucket; a hub's other buckets as landing
    buckets, a spoke's as staging buckets (volumes.yaml)."""
    role = context.settings.role
    volume = context.volumes.hub_bucket if role == "hub" else context.volumes.spoke_bucket
    if context.has_ancestor(resource, REPORT_SERVER):
        role, volume = "reports", context.volumes.reports_bucket
    return Pricing(
        items=(
            LineItem(
                resource.name,
                f"Standard storage ({role} bucket volume)",
                volume.stored_gb,
                context.price("s3/standard-gb-month"),
            ),
            LineItem(
                resource.name,
                "PUT, COPY, POST, LIST requests",
                volume.put_requests,
                context.price("s3/put-requests"),
            ),
            LineItem(
                resource.name, "GET requests", volume.get_requests, context.price("s3/get-requests")
            ),
        )
    )


def log_group(resource: RegisteredResource, context: PricingContext) -> Pricing:
    """GB ingested a month, and the compressed GB kept at steady state under its retention."""
    name = resource.inputs.get("name")
    function = context.function_logging_to(name)
    if function is None:
        ingested, whose = context.volumes.other_log_group_gb, "no function writes it"
    else:
        kind = function_kind(function)
        volume, _ = context.volumes.function(kind)
        ingested, whose = volume.log_gb, f"{kind} function"
    retention_days = float(resource.inputs.get("retentionInDays") or 0)
    months = (
        min(retention_days / DAYS_PER_MONTH, NEVER_EXPIRES_MONTHS)
        if retention_days
        else NEVER_EXPIRES_MONTHS
    )
    stored = ingested * months * context.volumes.logs_compressed_fraction
    kept = f"{retention_days:,.0f} days" if retention_days else "never expires"
    return Pricing(
        items=(
            LineItem(
                resource.name, f"ingested ({whose})", ingested, context.price("logs/ingested")
            ),
            LineItem(
                resource.name,
                f"stored, {kept}, compressed",
                stored,
                context.price("logs/stored"),
            ),
        )
    )
