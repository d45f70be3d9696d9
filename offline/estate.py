"""Run every stack of one environment in the onboarding runbook's order, under mocks.

1. The hub with no platform attached: it must deploy before any spoke exists.
2. Each spoke, its peering not yet accepted, reading the hub's outputs.
3. The hub with the platforms its config attaches, reading their outputs, and finding their
   peering requests as AWS would report them.
4. Each spoke again, as its file stands (the requester's options once accepted).

Each stack sees only outputs of stacks deployed before it, exactly as with real stack references.
The platforms' production DynamoDB tables exist before any of this, with a stream of new and old
images (the README's prerequisite for `changeStreams`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from offline.engine import StackRun, run_stack
from offline.stack_files import PROJECT_DIR, engine_config, raw_stack_config, stack_names

NAMESPACE = "reporting"
PEERING_CONNECTION = "aws:ec2/vpcPeeringConnection:VpcPeeringConnection"


@dataclass(frozen=True)
class Estate:
    """The mocked runs of one environment's stacks, in runbook order."""

    environment: str
    first_hub: StackRun
    first_spokes: dict[str, StackRun]
    hub: StackRun
    spokes: dict[str, StackRun]

    def run_of(self, stack: str) -> StackRun:
        return self.hub if stack == self.environment else self.spokes[stack]


def environment_of(stack: str) -> str:
    """`dev` for the hub `dev` and for its spokes `dev-<platform>`."""
    return stack.split("-", 1)[0]


def spoke_stacks(environment: str, project_dir: Path = PROJECT_DIR) -> list[str]:
    return [name for name in stack_names(project_dir) if name.startswith(f"{environment}-")]


def detached_hub_config(environment: str, project_dir: Path = PROJECT_DIR) -> dict[str, str]:
    """The hub's config as it is on day one: every platform listed, none attached yet."""
    return _with_object(
        engine_config(environment, project_dir),
        "platforms",
        lambda platforms: [{**platform, "attached": False} for platform in platforms],
    )


def unaccepted_spoke_config(spoke: str, project_dir: Path = PROJECT_DIR) -> dict[str, str]:
    """A spoke's config on its first deployment: the hub has not accepted its peering yet."""
    return _with_object(
        engine_config(spoke, project_dir),
        "platform",
        lambda platform: {**platform, "peeringAccepted": False},
    )


def peering_requests(spokes: dict[str, StackRun]) -> dict[str, dict[str, Any]]:
    """What AWS reports about each spoke's pending peering request, by connection id."""
    requests = {}
    for run in spokes.values():
        connection = run.one(PEERING_CONNECTION)
        requests[connection.id] = {
            "id": connection.id,
            "ownerId": run.account_of(connection),
            "vpcId": connection.inputs["vpcId"],
            "cidrBlock": run.exports["vpcCidr"],
            "peerOwnerId": connection.inputs["peerOwnerId"],
            "peerVpcId": connection.inputs["peerVpcId"],
            "peerRegion": connection.inputs["peerRegion"],
            "status": "pending-acceptance",
        }
    return requests


def source_tables(spokes: list[str], project_dir: Path = PROJECT_DIR) -> dict[str, dict[str, Any]]:
    """What AWS reports about the streamed tables of `spokes`, by `<account>/<name>`: each
    exists in its platform's account with a stream of new and old images."""
    tables = {}
    for spoke in spokes:
        config = raw_stack_config(spoke, project_dir)
        account = config[f"{NAMESPACE}:account"]
        for streamed in config.get(f"{NAMESPACE}:changeStreams", {}).get("tables", []):
            name = streamed["table"]
            arn = f"arn:aws:dynamodb:{account['region']}:{account['id']}:table/{name}"
            tables[f"{account['id']}/{name}"] = existing_table(arn, name)
    return tables


def existing_table(
    arn: str,
    name: str,
    view_type: str | None = "NEW_AND_OLD_IMAGES",
    key_arn: str | None = None,
) -> dict:
    """A table as `aws.dynamodb.get_table` returns it; `view_type` None: no stream; `key_arn`:
    encrypted with that customer-managed key (None: DynamoDB's own key)."""
    label = "2026-01-05T09:00:00.000"
    return {
        "arn": arn,
        "name": name,
        "streamEnabled": view_type is not None,
        "streamViewType": view_type or "",
        "streamArn": f"{arn}/stream/{label}" if view_type else "",
        "streamLabel": label if view_type else "",
        "serverSideEncryption": {"enabled": key_arn is not None, "kmsKeyArn": key_arn or ""},
    }


def run_environment(environment: str, project_dir: Path = PROJECT_DIR) -> Estate:
    """The runbook: hub up, spokes up, attach and hub up, spokes up again."""
    first_hub = run_stack(
        environment, project_dir=project_dir, config=detached_hub_config(environment, project_dir)
    )
    spokes = spoke_stacks(environment, project_dir)
    tables = source_tables(spokes, project_dir)
    first_spokes = {
        spoke: run_stack(
            spoke,
            {_hub_reference(spoke, project_dir): first_hub.exports},
            project_dir=project_dir,
            config=unaccepted_spoke_config(spoke, project_dir),
            dynamodb_tables=tables,
        )
        for spoke in spokes
    }
    references = {
        platform["stack"]: first_spokes[_stack_of(platform["stack"])].exports
        for platform in raw_stack_config(environment, project_dir).get(f"{NAMESPACE}:platforms", [])
        if _stack_of(platform["stack"]) in first_spokes
    }
    hub = run_stack(
        environment,
        references,
        project_dir=project_dir,
        peering_connections=peering_requests(first_spokes),
    )
    final_spokes = {
        spoke: run_stack(
            spoke,
            {_hub_reference(spoke, project_dir): hub.exports},
            project_dir=project_dir,
            dynamodb_tables=tables,
        )
        for spoke in spokes
    }
    return Estate(environment, first_hub, first_spokes, hub, final_spokes)


def _hub_reference(spoke: str, project_dir: Path) -> str:
    return raw_stack_config(spoke, project_dir)[f"{NAMESPACE}:hubStack"]


def _stack_of(reference: str) -> str:
    return reference.rsplit("/", 1)[1]


def _with_object(config: dict[str, str], key: str, change) -> dict[str, str]:
    full_key = f"{NAMESPACE}:{key}"
    return {**config, full_key: json.dumps(change(json.loads(config[full_key])))}
