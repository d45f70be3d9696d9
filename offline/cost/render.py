"""The estimate as text: line items by service (largest first) and resource, with subtotals,
the total, the compute hours the schedules switch off, and every resource not priced."""

from __future__ import annotations

from collections import Counter
from itertools import groupby

from offline.cost.model import Estimate, LineItem
from offline.cost.prices import Price, PriceTable

_PER = {1000: "1K", 10000: "10K", 100000: "100K", 1000000: "1M"}
_HEADING = ("Service / resource / what is counted", "Quantity", "Unit price (USD)", "USD/month")


def render(estimate: Estimate, prices: PriceTable, volumes_file: str) -> str:
    lines = [
        f"Monthly cost estimate for stack {estimate.stack} "
        f"(mocked run of Pulumi.{estimate.stack}.yaml)",
        f"Prices: {prices.name}, {estimate.region} on-demand list prices in "
        f"{estimate.currency} as of {estimate.effective:%Y-%m-%d} (refresh before relying on them)",
        f"Volumes: {volumes_file} (stated monthly workload assumptions)",
        f"Hours: an average month of {estimate.period} "
        f"(always on = {estimate.hours_per_month:,.0f} h)",
        "",
        *_table(estimate, prices),
        "",
        _total(estimate),
        "",
        "Compute hours in an average month (scheduled of always on):",
    ]
    lines.extend(
        f"  {c.resource}  {c.kind}: {c.scheduled:,.1f} of {c.always_on:,.1f} h, {c.reason}"
        for c in estimate.compute
    )
    if not estimate.compute:
        lines.append("  (no compute instances)")
    lines.append(f"compute hours off: {estimate.compute_hours_off}%")
    costly = estimate.costly_unpriced
    if costly:
        lines += ["", f"NOT PRICED, may cost money ({len(costly)}):"]
        lines.extend(f"  {u.type}  {u.resource}: {u.reason}" for u in costly)
    free = Counter(u.type for u in estimate.unpriced if not u.costly)
    if free:
        lines += ["", f"Not priced, no charge of their own ({sum(free.values())}):"]
        lines.extend(f"  {count} x {typ}" for typ, count in sorted(free.items()))
    if estimate.notes:
        lines += ["", "Notes:"]
        lines.extend(f"  {note}" for note in estimate.notes)
    return "\n".join(lines)


def _table(estimate: Estimate, prices: PriceTable) -> list[str]:
    rows: list[tuple[str, str, str, str]] = [_HEADING]
    groups = estimate.by_service()
    subtotals = {service: sum(i.monthly for i in items) for service, items in groups.items()}
    for service in sorted(groups, key=lambda s: (-subtotals[s], s)):
        rows.append((prices.service_name(service), "", "", f"{subtotals[service]:,.2f}"))
        for resource, grouped in groupby(groups[service], key=lambda item: item.resource):
            items = list(grouped)
            if len(items) == 1:
                rows.append(_row(items[0], f"  {resource}: "))
            else:
                rows.append((f"  {resource}", "", "", ""))
                rows.extend(_row(item, "    ") for item in items)
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    text_width, quantity_width, price_width, usd_width = widths
    return [
        f"{text:<{text_width}}  {quantity:>{quantity_width}}  {price:<{price_width}}  "
        f"{usd:>{usd_width}}".rstrip()
        for text, quantity, price, usd in rows
    ]


def _row(item: LineItem, lead: str) -> tuple[str, str, str, str]:
    return (
        f"{lead}{item.detail}",
        _quantity(item.quantity),
        _unit_price(item.price),
        f"{item.monthly:,.2f}",
    )


def _total(estimate: Estimate) -> str:
    costly = estimate.costly_unpriced
    caveat = f" (excludes {len(costly)} resource(s) NOT PRICED, listed below)" if costly else ""
    return (
        f"Total: {estimate.total:,.2f} {estimate.currency}/month at list prices as of "
        f"{estimate.effective:%Y-%m-%d}{caveat}"
    )


def _unit_price(price: Price) -> str:
    """`0.20 per 1M requests`: at least two decimals, all the table's significant digits."""
    amount = f"{price.usd:.10f}".rstrip("0")
    decimals = len(amount.split(".")[1])
    amount = f"{price.usd:.{max(decimals, 2)}f}"
    per = f"{_PER.get(price.per, f'{price.per:,}')} " if price.per > 1 else ""
    return f"{amount} per {per}{price.unit}"


def _quantity(quantity: float) -> str:
    if quantity >= 100 or quantity == int(quantity):
        return f"{quantity:,.0f}"
    return f"{quantity:,.2f}" if quantity >= 1 else f"{quantity:,.3f}"
