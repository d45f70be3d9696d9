"""Run `__main__.py` for one stack under the SDK's mocks and capture the whole resource graph.

This is the only module that touches Pulumi SDK internals (`run_pulumi_func`, `_sync_await`,
the root Stack's `outputs`). Pulumi has no public "run and wait for everything" for mocks:
`run_pulumi_func` returns only when every registration, including those made inside applies,
has settled, which is exactly the guarantee the tests need.
"""

from __future__ import annotations

import gc
import logging
import runpy
import sys
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from offline.mocks import (
    Invocation,
    PlatformMocks,
    RecordingMonitor,
    RegisteredResource,
    provider_account,
)
from offline.stack_files import PROJECT_DIR, engine_config, project_name


@dataclass(frozen=True)
class StackRun:
    """Everything one mocked run of a stack produced."""

    stack: str
    resources: tuple[RegisteredResource, ...]
    exports: dict[str, Any]
    secret_exports: frozenset[str]
    invocations: tuple[Invocation, ...] = ()

    def of_type(self, typ: str) -> list[RegisteredResource]:
        return [resource for resource in self.resources if resource.type == typ]

    def one(self, typ: str) -> RegisteredResource:
        """The single resource of `typ`; fails if there are none or several."""
        found = self.of_type(typ)
        if len(found) != 1:
            raise LookupError(f"{self.stack}: expected one {typ}, found {len(found)}")
        return found[0]

    def by_urn(self) -> dict[str, RegisteredResource]:
        return {resource.urn: resource for resource in self.resources}

    def account_of(self, resource: RegisteredResource) -> str | None:
        """The account of the explicit provider `resource` is created through (None: default)."""
        provider = self.by_urn().get(resource.provider_urn)
        return provider_account(provider.inputs) if provider else None

    def aws_resources(self) -> list[RegisteredResource]:
        """Every AWS resource (custom resources of the aws package, providers excluded)."""
        return [resource for resource in self.resources if resource.type.startswith("aws:")]


def run_stack(
    stack: str,
    stack_outputs: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    project_dir: Path = PROJECT_DIR,
    config: dict[str, str] | None = None,
    peering_connections: Mapping[str, Mapping[str, Any]] | None = None,
    dynamodb_tables: Mapping[str, Mapping[str, Any]] | None = None,
) -> StackRun:
    """Run the program for `stack` with its stack file (or `config`, engine-shaped) and return
    the captured graph. `stack_outputs` answers StackReferences by fully qualified stack name;
    `peering_connections` is AWS's view of connections other stacks requested, by id;
    `dynamodb_tables` the tables that exist, by `<account>/<name>`."""
    mocks = PlatformMocks(stack_outputs or {}, peering_connections, dynamodb_tables)
    monitor = RecordingMonitor(mocks)
    name = project_name(project_dir)
    pulumi.runtime.reset_options(project=name, stack=stack)
    pulumi.runtime.set_mocks(
        mocks, project=name, stack=stack, preview=False, monitor=monitor, logger=_quiet_logger()
    )
    pulumi.runtime.set_all_config(
        config if config is not None else engine_config(stack, project_dir)
    )
    if str(project_dir) not in sys.path:
        sys.path.insert(0, str(project_dir))
    program = project_dir / "__main__.py"
    try:
        _sync_await(run_pulumi_func(lambda: runpy.run_path(str(program), run_name="__main__")))
    except BaseException:
        _drop_abandoned_futures()
        raise
    exports, secrets = _root_exports()
    return StackRun(
        stack, tuple(monitor.registrations), exports, frozenset(secrets), tuple(mocks.invocations)
    )


def _root_exports() -> tuple[dict[str, Any], list[str]]:
    root = pulumi.runtime.get_root_resource()
    exports: dict[str, Any] = {}
    secrets: list[str] = []
    for name, value in getattr(root, "outputs", {}).items():
        output = pulumi.Output.from_input(value)
        exports[name] = _sync_await(output.future())
        if _sync_await(output.is_secret()):
            secrets.append(name)
    return exports, secrets


def _drop_abandoned_futures() -> None:
    """A failed program leaves one future per dependent resource holding the same error (and
    coroutines never awaited); asyncio would report each at garbage collection. The error itself
    is re-raised by the caller."""
    asyncio_logger = logging.getLogger("asyncio")
    level = asyncio_logger.level
    asyncio_logger.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            gc.collect()
    finally:
        asyncio_logger.setLevel(level)


def _quiet_logger() -> logging.Logger:
    # Program warnings still reach the log; engine chatter stays out of test output.
    logger = logging.getLogger("reporting.offline")
    logger.setLevel(logging.WARNING)
    return logger
