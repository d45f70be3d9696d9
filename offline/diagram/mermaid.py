"""The architecture as a Mermaid flowchart (GitHub draws it in the README), and the README
blocks between `<!-- architecture:<env>:start -->` and `<!-- architecture:<env>:end -->`."""

from __future__ import annotations

import re

from offline.diagram.model import SERVICE_NAMES, Architecture, Flow, Kind, Service, Tier

# One colour per data path (by key prefix), the same in the picture.
PATH_COLOURS = {
    "replication": "#7b8894",
    "extract": "#1f6fb2",
    "example-1": "#2e8540",
    "example-2": "#c75b00",
}
PEERING_COLOUR = "#8e44ad"
NOT_ADMITTED = "not admitted yet"
_SHAPES = {
    Kind.SOURCE_DATABASE: ('[("', '")]'),
    Kind.REPLICA: ('[("', '")]'),
    Kind.DATABASE: ('[("', '")]'),
    Kind.TABLE: ('[("', '")]'),
    Kind.GATEWAY_ENDPOINT: ('{{"', '"}}'),
}


def path_colour(path_key: str) -> str:
    return next(colour for prefix, colour in PATH_COLOURS.items() if path_key.startswith(prefix))


def flow_label(code: str, flow: Flow) -> str:
    return f"{code} {flow.label}" + ("" if flow.admitted else f" ({NOT_ADMITTED})")


def tier_lines(tier: Tier) -> list[str]:
    return [tier.title, *(f"{subnet.cidr} {subnet.zone}" for subnet in tier.subnets)]


def render(architecture: Architecture) -> str:
    """The flowchart: accounts > VPCs > tiers > services, then flows, then peerings."""
    lines = ["flowchart LR"]
    for account in architecture.accounts:
        lines.append(f'  subgraph {account.key}["{_text(account.title)}"]')
        lines.extend(_node(s, 4) for s in architecture.services_at(account.account_id))
        for vpc in account.vpcs:
            lines.append(f'    subgraph {vpc.key}["{_text(vpc.title)}"]')
            lines.extend(_node(s, 6) for s in architecture.services_at(account.account_id, vpc.key))
            for tier in vpc.tiers:
                members = architecture.services_at(account.account_id, vpc.key, tier.key)
                label = _text("<br/>".join(tier_lines(tier)))
                if not members:
                    lines.append(f'      {tier.key}["{label}"]')
                    continue
                lines.append(f'      subgraph {tier.key}["{label}"]')
                lines.extend(_node(s, 8) for s in members)
                lines.append("      end")
            lines.append("    end")
        lines.append("  end")
    styles: dict[str, list[int]] = {}
    index = 0
    for path, flow in architecture.flows():
        arrow = "-->" if flow.admitted else "-.->"
        label = _text(flow_label(path.step_label(flow), flow))
        lines.append(f'  {flow.source} {arrow}|"{label}"| {flow.target}')
        styles.setdefault(path_colour(path.key), []).append(index)
        index += 1
    for peering in architecture.peerings:
        lines.append(f'  {peering.spoke_vpc} -.-|"{_text(peering.title)}"| {peering.hub_vpc}')
        styles.setdefault(PEERING_COLOUR, []).append(index)
        index += 1
    lines.extend(
        f"  linkStyle {','.join(map(str, indexes))} stroke:{colour},stroke-width:2px"
        for colour, indexes in styles.items()
    )
    return "\n".join(lines) + "\n"


def legend(architecture: Architecture) -> str:
    paths = " · ".join(f"**{path.code}** {path.title}" for path in architecture.paths)
    return (
        f"Data paths, numbered in flow order: {paths}. Dotted lines without arrows: VPC "
        "peerings (what the hub routes over each); dotted arrows: writes the target's policy "
        f"does not admit yet.\n"
    )


def readme_block(architecture: Architecture) -> str:
    """What goes between the environment's markers."""
    return f"```mermaid\n{render(architecture)}```\n\n{legend(architecture)}"


def markers(environment: str) -> tuple[str, str]:
    return (
        f"<!-- architecture:{environment}:start -->",
        f"<!-- architecture:{environment}:end -->",
    )


def block_in(readme: str, environment: str) -> str | None:
    """The text between the environment's markers, or None without them."""
    start, end = markers(environment)
    found = re.search(re.escape(start) + r"\n(.*?)" + re.escape(end), readme, re.DOTALL)
    return found.group(1) if found else None


def with_block(readme: str, environment: str, block: str) -> str:
    start, end = markers(environment)
    if block_in(readme, environment) is None:
        raise ValueError(f"README.md has no {start} ... {end} markers")
    pattern = re.escape(start) + r"\n.*?" + re.escape(end)
    return re.sub(pattern, lambda _: f"{start}\n{block}{end}", readme, count=1, flags=re.DOTALL)


def _node(service: Service, indent: int) -> str:
    opening, closing = _SHAPES.get(service.kind, ('["', '"]'))
    what = " · ".join(
        filter(None, (SERVICE_NAMES[service.kind], service.detail, "existing" * service.existing))
    )
    return f"{' ' * indent}{service.key}{opening}{_text(service.title)}<br/>{_text(what)}{closing}"


def _text(text: str) -> str:
    """Mermaid's entity for the one character its quoted labels cannot hold."""
    return text.replace('"', "#quot;")
