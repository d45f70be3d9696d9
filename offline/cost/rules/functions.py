"""Lambda functions (requests and GB-seconds) and the EventBridge Scheduler schedules that
invoke them: a scheduled function's invocations come from its schedule's expression."""

from __future__ import annotations

from offline.cost.context import PricingContext, RuleError
from offline.cost.invocations import UnsupportedExpressionError, monthly_invocations
from offline.cost.model import LineItem, Pricing
from offline.mocks import RegisteredResource

# Lambda's defaults when the function does not set them.
DEFAULT_MEMORY_MB = 128
DEFAULT_ARCHITECTURE = "x86_64"
DEFAULT_KIND = "default"


def function_kind(function: RegisteredResource) -> str:
    """The package of the handler: `functions.loader.handler.lambda_handler` -> `loader`."""
    parts = str(function.inputs.get("handler") or "").split(".")
    return parts[1] if len(parts) > 2 and parts[0] == "functions" else DEFAULT_KIND


def lambda_function(resource: RegisteredResource, context: PricingContext) -> Pricing:
    inputs = resource.inputs
    kind = function_kind(resource)
    volume, is_default = context.volumes.function(kind)
    memory_mb = float(inputs.get("memorySize") or DEFAULT_MEMORY_MB)
    architecture = (inputs.get("architectures") or [DEFAULT_ARCHITECTURE])[0]
    schedules = context.schedules_invoking(resource)
    if schedules:
        invocations = sum(schedule_invocations(s, context) for s in schedules)
        source = "from its schedule"
    else:
        invocations = volume.invocations or 0
        source = "default volume: kind not in volumes.yaml" if is_default else "stated volume"
    gb_seconds = invocations * volume.average_ms / 1000 * memory_mb / 1024
    return Pricing(
        items=(
            LineItem(
                resource.name,
                f"{kind}: invocations ({source})",
                invocations,
                context.price("lambda/requests"),
            ),
            LineItem(
                resource.name,
                f"{kind}: {memory_mb:,.0f} MB {architecture} x {volume.average_ms:,.0f} ms"
                + (" (default)" if is_default else ""),
                gb_seconds,
                context.price(f"lambda/gb-second/{architecture}"),
            ),
        )
    )


def scheduler_schedule(resource: RegisteredResource, context: PricingContext) -> Pricing:
    expression = resource.inputs.get("scheduleExpression")
    return Pricing(
        items=(
            LineItem(
                resource.name,
                f"{expression} invocations",
                schedule_invocations(resource, context),
                context.price("scheduler/invocations"),
            ),
        )
    )


def schedule_invocations(schedule: RegisteredResource, context: PricingContext) -> float:
    """Invocations a month of an EventBridge Scheduler schedule (0 when it is disabled)."""
    if schedule.inputs.get("state") == "DISABLED":
        return 0
    expression = schedule.inputs.get("scheduleExpression")
    timezone = schedule.inputs.get("scheduleExpressionTimezone") or "UTC"
    if not expression:
        raise RuleError("no scheduleExpression")
    try:
        return monthly_invocations(expression, context.period, timezone)
    except UnsupportedExpressionError as problem:
        raise RuleError(str(problem)) from None
