"""The resource graph as the stack rules see it, whichever runner built it: CrossGuard's
`StackValidationArgs.resources` at `pulumi preview`/`up`, or the test mocks' registrations.

Resources are linked by parent, never by ids: a bucket's id, a replica's ARN and a security
group's id are all unknown during a preview of new resources, while the parent (the component
that made them) is always known. Our components put every sub-resource of a bucket (encryption,
public access block, ownership, policy) under the same `SecureBucket` as the bucket, and the
deny-promote policy under the same `ReadReplicas` as the replicas.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class GraphResource:
    """One resource of a stack: `parent_urn` is "" for a resource without a parent."""

    urn: str
    type: str
    name: str
    parent_urn: str
    props: Mapping[str, Any]


@dataclass(frozen=True)
class StackViolation:
    """A stack rule's finding about one resource."""

    urn: str
    message: str


def by_parent(resources: Iterable[GraphResource]) -> dict[str, list[GraphResource]]:
    """Resources grouped by the URN of their parent."""
    groups: dict[str, list[GraphResource]] = defaultdict(list)
    for resource in resources:
        groups[resource.parent_urn].append(resource)
    return groups


def of_types(resources: Iterable[GraphResource], types: Sequence[str]) -> list[GraphResource]:
    return [resource for resource in resources if resource.type in types]
