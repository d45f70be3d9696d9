"""Run every stack of one environment in the documented deployment order, under mocks.

The order is the onboarding runbook's: the hub with no platform attached (it must deploy before
any spoke exists), then each spoke reading the hub's outputs, then the hub again with the
platforms its config attaches, reading their outputs. Each stack sees only outputs of stacks
deployed before it, exactly as with real stack references.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from offline.engine import StackRun, run_stack
from offline.stack_files import PROJECT_DIR, engine_config, raw_stack_config, stack_names

NAMESPACE = "reporting"


@dataclass(frozen=True)
class Estate:
    """The mocked runs of one environment's stacks."""

    environment: str
    first_hub: StackRun
    spokes: dict[str, StackRun]
    hub: StackRun

    def run_of(self, stack: str) -> StackRun:
        return self.hub if stack == self.environment else self.spokes[stack]


def environment_of(stack: str) -> str:
    """`dev` for the hub `dev` and for its spokes `dev-<platform>`."""
    return stack.split("-", 1)[0]


def spoke_stacks(environment: str, project_dir: Path = PROJECT_DIR) -> list[str]:
    return [name for name in stack_names(project_dir) if name.startswith(f"{environment}-")]


def detached_hub_config(environment: str, project_dir: Path = PROJECT_DIR) -> dict[str, str]:
    """The hub's config as it is on day one: every platform listed, none attached yet."""
    config = engine_config(environment, project_dir)
    platforms = json.loads(config[f"{NAMESPACE}:platforms"])
    config[f"{NAMESPACE}:platforms"] = json.dumps(
        [{**platform, "attached": False} for platform in platforms]
    )
    return config


def run_environment(environment: str, project_dir: Path = PROJECT_DIR) -> Estate:
    """Hub up, every spoke up, hub up again with its attachments."""
    first_hub = run_stack(
        environment, project_dir=project_dir, config=detached_hub_config(environment, project_dir)
    )
    spokes = {}
    for spoke in spoke_stacks(environment, project_dir):
        hub_reference = raw_stack_config(spoke, project_dir)[f"{NAMESPACE}:hubStack"]
        spokes[spoke] = run_stack(
            spoke, {hub_reference: first_hub.exports}, project_dir=project_dir
        )
    references = {
        platform["stack"]: spokes[platform["stack"].rsplit("/", 1)[1]].exports
        for platform in raw_stack_config(environment, project_dir).get(f"{NAMESPACE}:platforms", [])
        if platform["stack"].rsplit("/", 1)[1] in spokes
    }
    hub = run_stack(environment, references, project_dir=project_dir)
    return Estate(environment, first_hub, spokes, hub)
