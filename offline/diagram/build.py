"""An environment's `Architecture` from its mocked runs: the network, then the links that start
at the platforms' own data (their production databases and tables), grouped into data paths by
the component that defines each link, numbered in flow order."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from offline.diagram.graph import EstateGraph, Located
from offline.diagram.model import Architecture, DataPath, Flow
from offline.diagram.network import read_network
from offline.diagram.relations import STREAMING_DESTINATION, Link, Relations
from offline.estate import Estate, run_environment
from offline.stack_files import PROJECT_DIR, project_name


@dataclass(frozen=True)
class PathKind:
    order: int
    key: str
    code: str
    title: str


# The component a link's resource belongs to decides its path (the case study's names).
PATH_KINDS = {
    "reporting:data:ReadReplicas": PathKind(0, "replication", "R", "replication"),
    "reporting:extracts:Extractor": PathKind(1, "extract", "X", "extract"),
    "reporting:functions:LandingLoader": PathKind(
        2, "example-1", "E1", "Example 1: landing loader"
    ),
    "reporting:streams:ChangeStreamPipeline": PathKind(3, "example-2", "E2", "Example 2"),
}


def environment_architecture(environment: str, project_dir=PROJECT_DIR) -> Architecture:
    """Mocked runs of the environment's stack files in runbook order, then the picture's model."""
    return build_architecture(run_environment(environment, project_dir), project_dir)


def build_architecture(estate: Estate, project_dir=PROJECT_DIR) -> Architecture:
    graph = EstateGraph(estate)
    network = read_network(graph)
    relations = Relations(graph, network, project_name(project_dir))
    links = _reachable(
        relations.discover(), {k for k, s in relations.services.by_key.items() if s.existing}
    )
    used = {link.source for link in links} | {link.target for link in links}
    return Architecture(
        estate.environment,
        network.accounts,
        tuple(sorted((relations.services.by_key[key] for key in used), key=lambda s: s.key)),
        network.peerings,
        _data_paths(graph, links),
    )


def _reachable(links: list[Link], starts: set[str]) -> list[Link]:
    """The links data can travel from the platforms' own data: a function nothing feeds (the
    freshness check, say) is not on a data path."""
    outgoing = defaultdict(list)
    for link in links:
        outgoing[link.source].append(link)
    seen, queue = set(starts), sorted(starts)
    while queue:
        for link in outgoing[queue.pop()]:
            if link.target not in seen:
                seen.add(link.target)
                queue.append(link.target)
    return [link for link in links if link.source in seen]


def _data_paths(graph: EstateGraph, links: list[Link]) -> tuple[DataPath, ...]:
    grouped: dict[tuple, list[Link]] = defaultdict(list)
    for link in links:
        grouped[_path_of(graph, link.defined_by)].append(link)
    return tuple(
        DataPath(key, code, title, _numbered(members))
        for (_, key, code, title), members in sorted(grouped.items())
    )


def _path_of(graph: EstateGraph, item: Located) -> tuple[int, str, str, str]:
    for component in graph.ancestors(item):
        kind = PATH_KINDS.get(component.type)
        if kind is None:
            continue
        if kind.key != "example-2":
            return kind.order, kind.key, kind.code, kind.title
        platform = graph.root_component(item).name
        native = any(
            other.resource.parent == component.urn
            for other in graph.of_type(STREAMING_DESTINATION, item.run)
        )
        mode = "native" if native else "lambda"
        return kind.order, f"{kind.key}-{platform}", kind.code, f"{kind.title}: {platform} ({mode})"
    raise LookupError(
        f"{item.run.stack}: {item.resource.type} {item.resource.name} moves data but belongs to "
        f"no known data path ({', '.join(PATH_KINDS)}): name its path in PATH_KINDS"
    )


def _numbered(links: list[Link]) -> tuple[Flow, ...]:
    """Each hop's step is one more than the longest way to its source within the path."""
    unique = {(link.source, link.target): link for link in reversed(links)}
    incoming = defaultdict(list)
    for source, target in unique:
        incoming[target].append(source)
    depth: dict[str, int] = {}

    def depth_of(node: str, visiting: frozenset[str] = frozenset()) -> int:
        if node not in depth:
            if node in visiting:
                raise ValueError(f"data path loops through {node}")
            depth[node] = max(
                (depth_of(source, visiting | {node}) + 1 for source in incoming[node]), default=0
            )
        return depth[node]

    return tuple(
        sorted(
            (
                Flow(link.source, link.target, depth_of(link.source) + 1, link.label, link.admitted)
                for link in unique.values()
            ),
            key=lambda flow: (flow.step, flow.source, flow.target),
        )
    )
