"""CloudWatch alarms and the custom metrics that log metric filters publish."""

from __future__ import annotations

from offline.cost.context import PricingContext
from offline.cost.model import LineItem, Pricing
from offline.mocks import RegisteredResource

# An alarm whose period is shorter than a minute is a high-resolution alarm.
STANDARD_RESOLUTION_SECONDS = 60


def metric_alarm(resource: RegisteredResource, context: PricingContext) -> Pricing:
    """Billed per metric the alarm evaluates (metric math alarms: each metric it reads)."""
    inputs = resource.inputs
    queries = inputs.get("metricQueries") or []
    metrics = sum(1 for query in queries if query.get("metric") is not None) if queries else 1
    periods = [float(inputs.get("period") or STANDARD_RESOLUTION_SECONDS)] + [
        float((query.get("metric") or {}).get("period") or STANDARD_RESOLUTION_SECONDS)
        for query in queries
    ]
    high_resolution = min(periods) < STANDARD_RESOLUTION_SECONDS
    key = (
        "cloudwatch/high-resolution-alarm-metric-month"
        if high_resolution
        else "cloudwatch/alarm-metric-month"
    )
    detail = f"alarm, {metrics} metric{'' if metrics == 1 else 's'}" + (
        ", high resolution" if high_resolution else ""
    )
    return Pricing(items=(LineItem(resource.name, detail, metrics, context.price(key)),))


def log_metric_filter(resource: RegisteredResource, context: PricingContext) -> Pricing:
    """Each filter publishes one custom metric (more if it has dimensions: one per value)."""
    transformation = resource.inputs.get("metricTransformation") or {}
    name = transformation.get("name", "?")
    notes = (
        ("dimensions multiply its metrics; priced as one",)
        if transformation.get("dimensions")
        else ()
    )
    return Pricing(
        items=(
            LineItem(
                resource.name,
                f"custom metric {name}",
                1,
                context.price("cloudwatch/custom-metric-month"),
            ),
        ),
        notes=notes,
    )
