"""Nothing in the picture is drawn by hand: change the stack files and the picture follows. A
fifth platform appears with its account, peering and replica; a platform switched to
`pipeline: native` loses its forwarder and writer."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from offline.diagram import mermaid
from offline.diagram.build import build_architecture, environment_architecture
from offline.diagram.model import Kind
from offline.stack_files import PROJECT_DIR

NEW_ACCOUNT = "555500000001"


@pytest.fixture
def stack_set(tmp_path: Path) -> Path:
    """A copy of the dev stack set (and what the program reads beside it)."""
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(PROJECT_DIR / name, tmp_path / name)
    for stack_file in PROJECT_DIR.glob("Pulumi.dev*.yaml"):
        shutil.copy(stack_file, tmp_path / stack_file.name)
    shutil.copytree(PROJECT_DIR / "datasets", tmp_path / "datasets")
    return tmp_path


def _edit(path: Path, change) -> None:
    document = yaml.safe_load(path.read_text())
    change(document["config"])
    path.write_text(yaml.safe_dump(document, sort_keys=False))


def _add_history_platform(project: Path) -> None:
    """A fifth platform in an account of its own: listed and attached in the hub, and a spoke
    stack file made from science's with its own account, VPC and a PostgreSQL database."""

    def attach(config):
        config["reporting:platforms"].append(
            {
                "name": "history",
                "accountId": NEW_ACCOUNT,
                "vpcCidr": "10.5.0.0/16",
                "stack": "example-edu/reporting/dev-history",
                "attached": True,
            }
        )

    _edit(project / "Pulumi.dev.yaml", attach)
    spoke = project / "Pulumi.dev-history.yaml"
    shutil.copy(project / "Pulumi.dev-science.yaml", spoke)

    def history(config):
        config["reporting:account"]["id"] = NEW_ACCOUNT
        config["reporting:account"]["deployRoleArn"] = (
            f"arn:aws:iam::{NEW_ACCOUNT}:role/reporting-deploy"
        )
        platform = config["reporting:platform"]
        platform.update(
            name="history",
            vpcId="vpc-0e1f2a3b4c5d6e001",
            vpcCidr="10.5.0.0/16",
            replicaCidr="10.5.250.0/27",
            databases=[
                {
                    "name": "archives",
                    "sourceIdentifier": "history-archives-primary",
                    "engine": "postgres",
                    "parameterGroupFamily": "postgres16",
                    "instanceClass": "db.t4g.medium",
                }
            ],
        )

    _edit(spoke, history)


def test_a_fifth_platform_appears_with_its_account_peering_and_replica(stack_set):
    _add_history_platform(stack_set)

    architecture = environment_architecture("dev", stack_set)

    account = next(a for a in architecture.accounts if a.account_id == NEW_ACCOUNT)
    assert account.names == ("history",) and account.stacks == ("dev-history",)
    (vpc,) = account.vpcs
    assert vpc.vpc_id == "vpc-0e1f2a3b4c5d6e001" and vpc.cidrs == ("10.5.0.0/16",)
    (tier,) = vpc.tiers
    assert [s.cidr for s in tier.subnets] == ["10.5.250.0/28", "10.5.250.16/28"]
    peering = next(p for p in architecture.peerings if p.platform == "history")
    assert peering.spoke_vpc == vpc.key and peering.accepted
    assert peering.hub_routes == ("10.5.250.0/27",)
    (replica,) = architecture.services_at(NEW_ACCOUNT, vpc.key, tier.key)
    assert (replica.kind, replica.title, replica.engine) == (
        Kind.REPLICA,
        "archives replica",
        "postgres16",
    )
    assert any(
        architecture.service(flow.source).title == "history-archives-primary"
        and flow.target == replica.key
        for _, flow in architecture.flows()
    )
    text = mermaid.render(architecture)
    for drawn in (account.key, vpc.key, tier.key, replica.key, peering.connection_id):
        assert drawn in text
    assert len(architecture.accounts) == 5


def test_switching_a_platform_to_native_removes_its_forwarder_and_writer(estates, stack_set):
    # The copied stack set is the real one until edited: its run is the session's.
    before = mermaid.render(build_architecture(estates["dev"]))
    assert "stream forwarder" in before and "firehose writer" in before
    languages = stack_set / "Pulumi.dev-languages.yaml"
    languages.write_text(languages.read_text().replace("pipeline: lambda", "pipeline: native"))

    architecture = environment_architecture("dev", stack_set)

    titles = {s.title for s in architecture.services if s.kind is Kind.FUNCTION}
    assert "stream forwarder" not in titles and "firehose writer" not in titles
    assert "cross account copier" in titles
    path = next(p for p in architecture.paths if p.key == "example-2-languages")
    assert path.title == "Example 2: languages (native)"
    assert "Kinesis streaming destination" in {flow.label for flow in path.flows}
    text = mermaid.render(architecture)
    assert "stream forwarder" not in text and "firehose writer" not in text
