"""What the architecture picture shows, as plain data: accounts, their VPCs and subnet tiers, the
services on the data paths, the peerings, and the data paths as numbered flows.

Built from the mocked resource graph by `offline.diagram.build`; drawn by `picture` (Graphviz)
and `mermaid` (text). Every tuple is sorted, so the same stack files give the same picture.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Kind(Enum):
    """What a service is, which decides its icon."""

    SOURCE_DATABASE = "source database"
    REPLICA = "read replica"
    DATABASE = "database"
    FUNCTION = "function"
    TABLE = "table"
    STREAM = "stream"
    DELIVERY_STREAM = "delivery stream"
    BUCKET = "bucket"
    GATEWAY_ENDPOINT = "gateway endpoint"


# The AWS service behind each kind, as the Mermaid text names it (the picture has icons).
SERVICE_NAMES = {
    Kind.SOURCE_DATABASE: "RDS",
    Kind.REPLICA: "RDS read replica",
    Kind.DATABASE: "RDS",
    Kind.FUNCTION: "Lambda",
    Kind.TABLE: "DynamoDB",
    Kind.STREAM: "Kinesis Data Streams",
    Kind.DELIVERY_STREAM: "Data Firehose",
    Kind.BUCKET: "S3",
    Kind.GATEWAY_ENDPOINT: "VPC gateway endpoint",
}


@dataclass(frozen=True, order=True)
class Subnet:
    # Ordered by zone, then range.
    zone: str
    cidr: str


@dataclass(frozen=True)
class Tier:
    """The subnets of one tier of one owner (`Tier` and `Platform` tags) in a VPC."""

    key: str
    name: str
    owner: str
    subnets: tuple[Subnet, ...]

    @property
    def title(self) -> str:
        return (
            f"{self.owner} {self.name} subnets" if self.name == "replica" else f"{self.name} tier"
        )


@dataclass(frozen=True)
class Vpc:
    key: str
    vpc_id: str
    cidrs: tuple[str, ...]
    # False: a platform's own VPC, which the stacks only add subnets to.
    created: bool
    tiers: tuple[Tier, ...]

    @property
    def title(self) -> str:
        cidrs = " + ".join(self.cidrs)
        return f"VPC {cidrs}" if self.created else f"existing VPC {self.vpc_id} · {cidrs}"


@dataclass(frozen=True)
class Account:
    key: str
    account_id: str
    # "hub" or "spoke".
    role: str
    # The components deployed in it: `reporting`, or the platforms that share the account.
    names: tuple[str, ...]
    stacks: tuple[str, ...]
    vpcs: tuple[Vpc, ...]

    @property
    def title(self) -> str:
        what = "reporting account" if self.role == "hub" else " + ".join(self.names) + " account"
        stacks = ("stacks " if len(self.stacks) > 1 else "stack ") + ", ".join(self.stacks)
        return f"{what} {self.account_id} · {stacks}"


@dataclass(frozen=True)
class Service:
    """One resource on a data path; `existing` ones are the platforms' own, not the stacks'."""

    key: str
    kind: Kind
    title: str
    detail: str
    account_id: str
    vpc: str | None = None
    tier: str | None = None
    # The database engine (`postgres16`, `sqlserver-se`, ...) of a database, else "".
    engine: str = ""
    existing: bool = False


@dataclass(frozen=True)
class Peering:
    key: str
    connection_id: str
    platform: str
    spoke_vpc: str
    hub_vpc: str
    # What the hub routes over it (the replica subnets only); empty until it accepts.
    hub_routes: tuple[str, ...]
    accepted: bool

    @property
    def lines(self) -> list[str]:
        if self.accepted:
            state = f"hub routes {', '.join(self.hub_routes)}"
        else:
            state = "requested, not accepted"
        return [f"{self.platform} peering", self.connection_id, state]

    @property
    def title(self) -> str:
        return " · ".join(self.lines)


@dataclass(frozen=True)
class Flow:
    """One hop of a data path: `step` counts from the path's start."""

    source: str
    target: str
    step: int
    label: str
    # False: the target's policy does not admit the writer yet (a platform not attached).
    admitted: bool = True


@dataclass(frozen=True)
class DataPath:
    key: str
    code: str
    title: str
    flows: tuple[Flow, ...]

    def step_label(self, flow: Flow) -> str:
        """`X2`, `E2.3`: the path's code and the hop's step (no number on a one-hop path)."""
        if len({f.step for f in self.flows}) == 1:
            return self.code
        separator = "." if self.code[-1].isdigit() else ""
        return f"{self.code}{separator}{flow.step}"


@dataclass(frozen=True)
class Architecture:
    environment: str
    accounts: tuple[Account, ...]
    services: tuple[Service, ...]
    peerings: tuple[Peering, ...]
    paths: tuple[DataPath, ...]

    def service(self, key: str) -> Service:
        return next(service for service in self.services if service.key == key)

    def services_at(
        self, account_id: str, vpc: str | None = None, tier: str | None = None
    ) -> list[Service]:
        """The services placed exactly there: in the account outside any VPC (`vpc` None), in
        the VPC outside its tiers (`tier` None), or in the tier."""
        return [
            service
            for service in self.services
            if service.account_id == account_id and service.vpc == vpc and service.tier == tier
        ]

    def flows(self) -> list[tuple[DataPath, Flow]]:
        return [(path, flow) for path in self.paths for flow in path.flows]
