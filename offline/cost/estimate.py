"""The estimate: every resource of one stack's graph priced by its type's rule, or listed as
not priced with the reason; compute hours for every instance that bills by the hour."""

from __future__ import annotations

from collections.abc import Sequence

from offline.cost.context import PricingContext, RuleError, StackSettings
from offline.cost.model import ComputeHours, Estimate, LineItem, Unpriced
from offline.cost.period import twelve_months_from
from offline.cost.prices import MissingPriceError, PriceTable
from offline.cost.rules import COMPUTE_RULES, FIXED_PRICES, RULES, free_reason
from offline.cost.volumes import Volumes
from offline.mocks import RegisteredResource


def estimate(
    stack: str,
    resources: Sequence[RegisteredResource],
    settings: StackSettings,
    prices: PriceTable,
    volumes: Volumes,
) -> Estimate:
    """The monthly estimate of the resources a stack creates (reads and components skipped)."""
    prices.require(FIXED_PRICES)
    period = twelve_months_from(prices.effective)
    context = PricingContext(
        resources,
        settings,
        prices=prices,
        volumes=volumes,
        period=period,
        compute_rules=COMPUTE_RULES,
    )
    items: list[LineItem] = []
    compute: list[ComputeHours] = []
    unpriced: list[Unpriced] = []
    notes: list[str] = []
    for resource in sorted(_created(resources), key=lambda r: (r.type, r.name)):
        try:
            hours = context.compute_hours(resource)
        except RuleError as problem:
            unpriced.append(Unpriced(resource.type, resource.name, str(problem), costly=True))
            continue
        if hours is not None:
            compute.append(hours)
        rule = RULES.get(resource.type)
        if rule is None:
            free = free_reason(resource.type)
            reason = free or "no pricing rule for this type"
            unpriced.append(Unpriced(resource.type, resource.name, reason, costly=free is None))
            continue
        try:
            pricing = rule(resource, context)
        except (RuleError, MissingPriceError) as problem:
            unpriced.append(Unpriced(resource.type, resource.name, str(problem), costly=True))
            continue
        if pricing.free:
            unpriced.append(Unpriced(resource.type, resource.name, pricing.free, costly=False))
        items.extend(pricing.items)
        notes.extend(f"{resource.name}: {note}" for note in pricing.notes)
    return Estimate(
        stack=stack,
        region=prices.region,
        currency=prices.currency,
        effective=prices.effective,
        period=period.describe(),
        hours_per_month=period.hours_per_month,
        items=tuple(items),
        compute=tuple(compute),
        unpriced=tuple(unpriced),
        notes=tuple(notes),
    )


def _created(resources: Sequence[RegisteredResource]) -> list[RegisteredResource]:
    """Cloud resources the stack creates: not components, providers or read references."""
    return [
        resource
        for resource in resources
        if resource.custom
        and resource.operation == "create"
        and not resource.type.startswith("pulumi:")
    ]
