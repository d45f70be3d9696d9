"""One environment's mocked resource graph, searchable the way resources name each other: by
ARN, by id, by name, and up the component tree."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from offline.engine import StackRun
from offline.estate import Estate
from offline.mocks import RegisteredResource, provider_account

AWS_PROVIDER = "pulumi:providers:aws"


@dataclass(frozen=True)
class Located:
    """A resource and the stack run that created it."""

    run: StackRun
    resource: RegisteredResource

    @property
    def inputs(self) -> dict[str, Any]:
        return self.resource.inputs

    @property
    def outputs(self) -> dict[str, Any]:
        return self.resource.outputs

    @property
    def tags(self) -> dict[str, str]:
        return self.resource.inputs.get("tags") or {}


class EstateGraph:
    """The final runs of an environment's hub and spokes (`offline.estate.run_environment`)."""

    def __init__(self, estate: Estate) -> None:
        self.environment = estate.environment
        self.hub = estate.hub
        self.runs = (estate.hub, *(estate.spokes[stack] for stack in sorted(estate.spokes)))
        self.located = [Located(run, resource) for run in self.runs for resource in run.resources]
        self._by_urn = {item.resource.urn: item for item in self.located}
        self._by_arn = {
            item.outputs["arn"]: item
            for item in self.located
            if isinstance(item.outputs.get("arn"), str)
        }
        self._providers = {
            item.resource.urn: (provider_account(item.inputs), item.inputs.get("region"))
            for item in self.located
            if item.resource.type == AWS_PROVIDER
        }

    def of_type(self, typ: str, run: StackRun | None = None) -> list[Located]:
        return [
            item
            for item in self.located
            if item.resource.type == typ and (run is None or item.run is run)
        ]

    def by_arn(self, arn: str) -> Located | None:
        return self._by_arn.get(arn)

    def find(self, typ: str, key: str, value: Any, run: StackRun | None = None) -> Located | None:
        """The first resource of `typ` whose output `key` (or id, for `key` "id") is `value`."""
        for item in self.of_type(typ, run):
            found = item.resource.id if key == "id" else item.outputs.get(key)
            if found == value:
                return item
        return None

    def ancestors(self, item: Located) -> Iterable[RegisteredResource]:
        """The components above `item`, nearest first."""
        parent = self._by_urn.get(item.resource.parent)
        while parent is not None:
            yield parent.resource
            parent = self._by_urn.get(parent.resource.parent)

    def root_component(self, item: Located) -> RegisteredResource:
        """The stack's top component above `item` (`ReportingAccount`, `SourcePlatform`)."""
        return [a for a in self.ancestors(item) if a.type != "pulumi:pulumi:Stack"][-1]

    def account(self, item: Located) -> str:
        return self._providers.get(item.resource.provider_urn, (None, None))[0] or ""

    def region(self, item: Located) -> str:
        return self._providers.get(item.resource.provider_urn, (None, None))[1] or ""

    def run_account(self, run: StackRun) -> str:
        return next(
            account
            for item in self.of_type(AWS_PROVIDER, run)
            if (account := provider_account(item.inputs))
        )


def slug(*parts: str) -> str:
    """An identifier both renderers accept: letters, digits and `_`."""
    return re.sub(r"[^0-9A-Za-z]+", "_", "_".join(parts)).strip("_")


def words(type_token: str) -> str:
    """`reporting:data:ReportingDatabase` -> `reporting database`."""
    return re.sub(r"(?<!^)(?=[A-Z])", " ", type_token.rsplit(":", 1)[-1]).lower()
