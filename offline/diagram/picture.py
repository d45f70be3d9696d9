"""The architecture drawn with the `diagrams` package (Graphviz, AWS's own icons): PNG and SVG.

Accounts, VPCs and subnet tiers are nested clusters; data flows are coloured, numbered arrows
from left (the platforms) to right (the hub); each peering is a VPC peering icon between the two
VPCs. The SVG carries its icons inline, so it shows anywhere, not only on this machine.
"""

from __future__ import annotations

import base64
import re
import shutil
import struct
from pathlib import Path

from diagrams import Cluster, Diagram, Edge, Node
from diagrams.aws.analytics import KinesisDataFirehose, KinesisDataStreams
from diagrams.aws.compute import Lambda
from diagrams.aws.database import (
    RDS,
    DynamodbTable,
    RDSMariadbInstance,
    RDSMysqlInstance,
    RDSOracleInstance,
    RDSPostgresqlInstance,
    RDSSqlServerInstance,
)
from diagrams.aws.network import Endpoint, PrivateSubnet, PublicSubnet, VPCPeering
from diagrams.aws.storage import SimpleStorageServiceS3Bucket
from graphviz import Digraph

from offline.diagram.mermaid import PEERING_COLOUR, flow_label, path_colour, tier_lines
from offline.diagram.model import Architecture, Kind, Service, Tier

ICONS: dict[Kind, type[Node]] = {
    Kind.FUNCTION: Lambda,
    Kind.TABLE: DynamodbTable,
    Kind.STREAM: KinesisDataStreams,
    Kind.DELIVERY_STREAM: KinesisDataFirehose,
    Kind.BUCKET: SimpleStorageServiceS3Bucket,
    Kind.GATEWAY_ENDPOINT: Endpoint,
}
# Database icons by engine (a parameter group family or engine name starts with it).
ENGINE_ICONS: dict[str, type[Node]] = {
    "postgres": RDSPostgresqlInstance,
    "mysql": RDSMysqlInstance,
    "mariadb": RDSMariadbInstance,
    "sqlserver": RDSSqlServerInstance,
    "oracle": RDSOracleInstance,
}
GRAPH = {
    "pad": "0.5",
    "splines": "spline",
    "compound": "true",
    "nodesep": "0.3",
    "ranksep": "0.45",
    "newrank": "true",
    "fontsize": "22",
    "labelloc": "t",
    # 12-point labels stay legible at full size; the PNG stays around half a megabyte.
    "dpi": "80",
}
NODE = {"fontsize": "12", "width": "1.2", "height": "1.2"}
EDGE = {"fontsize": "11", "penwidth": "1.8"}
CLUSTER_STYLE = {
    "account": {"bgcolor": "#f4f6f8", "pencolor": "#232f3e", "fontsize": "16", "penwidth": "2"},
    "vpc": {"bgcolor": "#eaf4e4", "pencolor": "#248814", "fontsize": "13"},
    "tier": {
        "bgcolor": "#ffffff",
        "pencolor": "#7aa116",
        "fontsize": "11",
        "style": "dashed",
        "labelloc": "b",
    },
}


class MissingGraphvizError(RuntimeError):
    """Graphviz's `dot`, which lays the picture out, is not installed."""


class _Cluster(Cluster):
    """A cluster named by key: `diagrams` names clusters by label, and two tiers may share one."""

    def __init__(self, key: str, label: str, style: dict[str, str]) -> None:
        super().__init__(label, graph_attr=style)
        self.name = f"cluster_{key}"
        self.dot.name = self.name


def draw(architecture: Architecture, stem: Path) -> list[Path]:
    """`<stem>.png` and `<stem>.svg`."""
    if shutil.which("dot") is None:
        raise MissingGraphvizError(
            "Graphviz's `dot` is missing: `make diagram` installs it (as root), or "
            "`apt-get install -y graphviz`"
        )
    stem.parent.mkdir(parents=True, exist_ok=True)
    title = (
        f"Reporting platform: {architecture.environment} "
        f"(mocked runs of Pulumi.{architecture.environment}*.yaml)"
    )
    with Diagram(
        title + "\n" + _legend(architecture),
        filename=str(stem),
        outformat=["png", "svg"],
        show=False,
        direction="LR",
        graph_attr=GRAPH,
        node_attr=NODE,
        edge_attr=EDGE,
    ) as diagram:
        nodes, anchors = _clusters(architecture)
        for path, flow in architecture.flows():
            colour = path_colour(path.key)
            edge = Edge(
                label=flow_label(path.step_label(flow), flow),
                color=colour,
                fontcolor=colour,
                style="solid" if flow.admitted else "dashed",
                # Out of an icon's right side, into the next one's left: never across the
                # labels under the icons.
                tailport="e",
                headport="w",
            )
            nodes[flow.source] >> edge >> nodes[flow.target]
        _peerings(diagram, architecture, nodes, anchors)
    svg = stem.with_suffix(".svg")
    svg.write_text(_inline_icons(svg.read_text(encoding="utf-8")), encoding="utf-8")
    return [stem.with_suffix(".png"), svg]


def _clusters(architecture: Architecture) -> tuple[dict[str, Node], dict[str, Node]]:
    """Accounts > VPCs > tiers, with their services; an empty tier is a subnet icon. Returns
    the nodes by service key and, by VPC key, a node inside it where peerings attach."""
    nodes: dict[str, Node] = {}
    anchors: dict[str, Node] = {}
    for account in architecture.accounts:
        with _Cluster(account.key, account.title, CLUSTER_STYLE["account"]):
            for service in architecture.services_at(account.account_id):
                nodes[service.key] = _service_node(service)
            for vpc in account.vpcs:
                with _Cluster(vpc.key, vpc.title, CLUSTER_STYLE["vpc"]):
                    for service in architecture.services_at(account.account_id, vpc.key):
                        nodes[service.key] = _service_node(service)
                        anchors.setdefault(vpc.key, nodes[service.key])
                    for tier in vpc.tiers:
                        members = architecture.services_at(account.account_id, vpc.key, tier.key)
                        if not members:
                            nodes[tier.key] = _subnet_node(tier)
                            anchors.setdefault(vpc.key, nodes[tier.key])
                            continue
                        label = "\n".join(tier_lines(tier))
                        with _Cluster(tier.key, label, CLUSTER_STYLE["tier"]):
                            for service in members:
                                nodes[service.key] = _service_node(service)
                                anchors.setdefault(vpc.key, nodes[service.key])
    return nodes, anchors


def _peerings(
    diagram: Diagram,
    architecture: Architecture,
    nodes: dict[str, Node],
    anchors: dict[str, Node],
) -> None:
    """A peering icon per connection, dashed to both VPCs' edges. The icons stand in one column
    that every spoke's nodes precede and every hub node follows (invisible edges), so the
    picture reads from the platforms on the left to the hub on the right."""
    hub = next((a for a in architecture.accounts if a.role == "hub"), None)
    hub_nodes = [key for key in nodes if hub and _account_of(architecture, key) == hub.account_id]
    column = Digraph(name="peerings", graph_attr={"rank": "same"})
    for peering in architecture.peerings:
        link = VPCPeering("\n".join(peering.lines), nodeid=peering.key, fontcolor=PEERING_COLOUR)
        column.node(peering.key)
        style = {"color": PEERING_COLOUR, "style": "dashed", "penwidth": "1.4"}
        spoke = anchors[peering.spoke_vpc]
        # `-`, not `>>`: `diagrams` sets `dir` from the operator, and a peering has no direction.
        spoke - Edge(ltail=f"cluster_{peering.spoke_vpc}", **style) - link
        link - Edge(lhead=f"cluster_{peering.hub_vpc}", **style) - anchors[peering.hub_vpc]
        spoke_account = _account_of(architecture, spoke.nodeid)
        for key, node in sorted(nodes.items()):
            if _account_of(architecture, key) == spoke_account:
                node >> Edge(style="invis") >> link
        for key in hub_nodes:
            link >> Edge(style="invis") >> nodes[key]
    diagram.subgraph(column)


def _account_of(architecture: Architecture, key: str) -> str:
    """The account of a service or of a tier (by key)."""
    for service in architecture.services:
        if service.key == key:
            return service.account_id
    for account in architecture.accounts:
        for vpc in account.vpcs:
            if key == vpc.key or any(tier.key == key for tier in vpc.tiers):
                return account.account_id
    return ""


def _legend(architecture: Architecture) -> str:
    paths = "   ".join(f"{path.code}: {path.title}" for path in architecture.paths)
    return f"{paths}   dashed purple: VPC peering"


def _service_node(service: Service) -> Node:
    icon = ICONS.get(service.kind)
    if icon is None:
        icon = next(
            (cls for engine, cls in ENGINE_ICONS.items() if service.engine.startswith(engine)), RDS
        )
    lines = [service.title, service.detail]
    if service.existing:
        lines.append("(existing)")
    return icon("\n".join(filter(None, lines)), nodeid=service.key)


def _subnet_node(tier: Tier) -> Node:
    icon = PublicSubnet if tier.name == "public" else PrivateSubnet
    return icon("\n".join(tier_lines(tier)), nodeid=tier.key)


def _inline_icons(svg: str) -> str:
    """Graphviz links each icon by its path on this machine: define every icon once, inline, and
    draw each node's copy with a nested viewport where Graphviz put the image."""
    paths = sorted(set(re.findall(r'<image xlink:href="([^"]+\.png)"', svg)))
    definitions = []
    for index, path in enumerate(paths):
        data = Path(path).read_bytes()
        # A PNG's IHDR chunk starts at byte 16: width, then height, 4 bytes each.
        width, height = struct.unpack(">II", data[16:24])
        encoded = base64.b64encode(data).decode()
        definitions.append(
            f'<image id="icon{index}" width="{width}" height="{height}" '
            f'xlink:href="data:image/png;base64,{encoded}"/>'
        )
        svg = re.sub(
            r'<image xlink:href="' + re.escape(path) + r'"([^>]*)/>',
            lambda found, i=index, w=width, h=height: (
                f'<svg{found.group(1)} viewBox="0 0 {w} {h}"><use xlink:href="#icon{i}"/></svg>'
            ),
            svg,
        )
    return re.sub(
        r"(<svg[^>]*>)",
        lambda opening: f"{opening.group(1)}\n<defs>{''.join(definitions)}</defs>",
        svg,
        count=1,
    )
