"""What an estimate is made of: priced line items, compute hours, and what was not priced."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from offline.cost.prices import Price


@dataclass(frozen=True)
class LineItem:
    """`quantity` units of `price` a month for one resource (`detail` says what is counted)."""

    resource: str
    detail: str
    quantity: float
    price: Price

    @property
    def monthly(self) -> float:
        return self.price.cost(self.quantity)


@dataclass(frozen=True)
class ComputeHours:
    """One compute instance's hours in an average month: scheduled against always on."""

    resource: str
    kind: str
    scheduled: float
    always_on: float
    # Why it runs the hours it does: its schedule, or why no schedule applies.
    reason: str


@dataclass(frozen=True)
class Pricing:
    """What a rule found for one resource. `free` (a reason) when it has no charge at all."""

    items: tuple[LineItem, ...] = ()
    compute: ComputeHours | None = None
    free: str | None = None
    # Parts of the resource's cost the rule knows of but does not price.
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Unpriced:
    """A resource with no line item. `costly`: it has (or may have) a charge no rule prices."""

    type: str
    resource: str
    reason: str
    costly: bool


@dataclass(frozen=True)
class Estimate:
    stack: str
    region: str
    currency: str
    effective: date
    period: str
    hours_per_month: float
    items: tuple[LineItem, ...]
    compute: tuple[ComputeHours, ...]
    unpriced: tuple[Unpriced, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def total(self) -> float:
        return sum(item.monthly for item in self.items)

    def by_service(self) -> dict[str, list[LineItem]]:
        """Line items grouped by the service of their price, services in key order."""
        groups: dict[str, list[LineItem]] = defaultdict(list)
        for item in self.items:
            groups[item.price.service].append(item)
        return dict(sorted(groups.items()))

    @property
    def costly_unpriced(self) -> tuple[Unpriced, ...]:
        return tuple(u for u in self.unpriced if u.costly)

    @property
    def compute_hours_off(self) -> int:
        """Whole percent of always-on compute hours the schedules switch off, rounded down so
        it never overstates (0 when there is no compute)."""
        always_on = sum(c.always_on for c in self.compute)
        if always_on == 0:
            return 0
        scheduled = sum(c.scheduled for c in self.compute)
        # round() first: 0.6 * 100 is 59.99999999999999 in floating point.
        return math.floor(round(100 * (1 - scheduled / always_on), 9))
