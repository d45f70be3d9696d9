"""The architecture model of each environment shows what its stack files configure: every
account, VPC, peering, replica and data path, each read from the mocked graph (expected values
come from the parsed config and the catalog, never from figures written here)."""

from __future__ import annotations

from ipaddress import ip_network
from itertools import pairwise

import pytest
from stack_helpers import ENVIRONMENTS, SPOKE_STACKS, parsed_config

from components.dataset_catalog import project_catalog
from components.extractor import extracted_datasets
from offline.diagram.build import build_architecture
from offline.diagram.model import Architecture, DataPath, Kind


@pytest.fixture(scope="module")
def architectures(estates) -> dict[str, Architecture]:
    return {environment: build_architecture(estates[environment]) for environment in ENVIRONMENTS}


def _spokes(environment: str) -> list[str]:
    return [stack for stack in SPOKE_STACKS if stack.startswith(f"{environment}-")]


def _path(architecture: Architecture, key: str) -> DataPath:
    return next(path for path in architecture.paths if path.key == key)


def _chain(architecture: Architecture, path: DataPath) -> list:
    """The services of a linear path in flow order."""
    flows = sorted(path.flows, key=lambda flow: flow.step)
    for before, after in pairwise(flows):
        assert before.target == after.source, f"{path.key} is not one chain"
    return [architecture.service(flows[0].source)] + [architecture.service(f.target) for f in flows]


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_every_account_is_drawn_once_with_its_stacks_and_vpc(architectures, environment):
    architecture = architectures[environment]
    hub = parsed_config(environment)
    spokes = {stack: parsed_config(stack) for stack in _spokes(environment)}
    expected = {hub.deployment.account.account_id: [environment]}
    for stack, config in spokes.items():
        expected.setdefault(config.deployment.account.account_id, []).append(stack)
    assert {a.account_id: list(a.stacks) for a in architecture.accounts} == expected
    hub_account = next(a for a in architecture.accounts if a.role == "hub")
    assert hub_account.account_id == hub.deployment.account.account_id
    assert architecture.accounts[-1] is hub_account, "the hub is drawn last, on the right"
    (hub_vpc,) = hub_account.vpcs
    assert hub_vpc.created and hub_vpc.cidrs == (str(hub.network.vpc_cidr),)
    tiers = {tier.name for tier in hub_vpc.tiers}
    assert {"app", "data"} <= tiers
    assert ("public" in tiers) == (hub.access.ssh_bastion is not None)
    for tier in hub_vpc.tiers:
        assert all(ip_network(s.cidr).subnet_of(hub.network.vpc_cidr) for s in tier.subnets)
    for config in spokes.values():
        platform = config.platform
        account = next(
            a for a in architecture.accounts if a.account_id == config.deployment.account.account_id
        )
        assert platform.name in account.names
        vpc = next(v for v in account.vpcs if v.vpc_id == platform.vpc_id)
        assert not vpc.created and str(platform.vpc_cidr) in vpc.cidrs
        tier = next(t for t in vpc.tiers if t.owner == platform.name)
        assert tier.name == "replica"
        assert {s.zone for s in tier.subnets} == set(platform.availability_zones)
        assert all(ip_network(s.cidr).subnet_of(platform.replica_cidr) for s in tier.subnets)


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_each_spoke_peers_with_the_hub_accepted_only_when_attached(architectures, environment):
    architecture = architectures[environment]
    attached = {link.name for link in parsed_config(environment).attached_platforms}
    hub_vpc = next(a for a in architecture.accounts if a.role == "hub").vpcs[0].key
    peerings = {peering.platform: peering for peering in architecture.peerings}
    assert sorted(peerings) == sorted(parsed_config(s).platform.name for s in _spokes(environment))
    for stack in _spokes(environment):
        platform = parsed_config(stack).platform
        peering = peerings[platform.name]
        assert peering.hub_vpc == hub_vpc
        assert peering.accepted == (platform.name in attached)
        assert peering.hub_routes == ((str(platform.replica_cidr),) if peering.accepted else ())


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_each_configured_database_has_a_replica_fed_by_its_source(architectures, environment):
    architecture = architectures[environment]
    replication = _path(architecture, "replication")
    for stack in _spokes(environment):
        platform = parsed_config(stack).platform
        for database in platform.databases:
            replica = next(
                s
                for s in architecture.services
                if s.kind is Kind.REPLICA
                and s.title == f"{database.name} replica"
                and s.tier
                and s.tier.endswith(f"_{platform.name}_replica")
            )
            assert replica.engine == database.parameter_group_family
            assert database.instance_class in replica.detail
            (flow,) = [f for f in replication.flows if f.target == replica.key]
            source = architecture.service(flow.source)
            assert source.existing and source.title == database.source_identifier
            assert source.account_id == replica.account_id


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_the_extractor_reads_the_replicas_the_catalog_extracts_from(architectures, environment):
    architecture = architectures[environment]
    catalog = project_catalog()
    expected = {
        f"{dataset.extract.database} replica"
        for link in parsed_config(environment).attached_platforms
        for dataset in extracted_datasets(catalog, link.name)
    }
    extract = _path(architecture, "extract")
    reads = [f for f in extract.flows if f.step == 1]
    assert {architecture.service(f.source).title for f in reads} == expected
    assert all("over peering" in flow.label for flow in reads)
    (extractor,) = {architecture.service(f.target) for f in reads}
    assert extractor.kind is Kind.FUNCTION and extractor.title == "extractor"
    assert extractor.detail == parsed_config(environment).extractor.schedule
    after = [architecture.service(f.target) for f in sorted(extract.flows, key=lambda f: f.step)]
    assert [s.kind for s in after[-2:]] == [Kind.GATEWAY_ENDPOINT, Kind.BUCKET]
    assert after[-1].title == "landing bucket"


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_example_1_loads_the_landing_bucket_into_the_reporting_database(architectures, environment):
    architecture = architectures[environment]
    chain = _chain(architecture, _path(architecture, "example-1"))
    assert [s.title for s in chain] == ["landing bucket", "landing loader", "reporting database"]
    database = parsed_config(environment).database
    assert chain[-1].engine == f"{database.engine} {database.engine_version}"
    assert chain[1].tier.endswith("_app") and chain[2].tier.endswith("_data")


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_example_2_follows_each_streaming_platforms_pipeline_mode(architectures, environment):
    architecture = architectures[environment]
    attached = {link.name for link in parsed_config(environment).attached_platforms}
    streaming = [
        parsed_config(stack)
        for stack in _spokes(environment)
        if parsed_config(stack).change_streams
    ]
    assert streaming, "the samples stream in every environment"
    for config in streaming:
        name, mode = config.platform.name, config.change_streams.pipeline
        path = _path(architecture, f"example-2-{name}")
        assert path.title == f"Example 2: {name} ({mode})"
        chain = _chain(architecture, path)
        kinds = [service.kind for service in chain]
        middle = (
            [Kind.FUNCTION, Kind.STREAM, Kind.FUNCTION, Kind.DELIVERY_STREAM]
            if mode == "lambda"
            else [Kind.STREAM, Kind.DELIVERY_STREAM]
        )
        tail = [Kind.BUCKET, Kind.FUNCTION, Kind.GATEWAY_ENDPOINT, Kind.BUCKET]
        assert kinds == [Kind.TABLE, *middle, *tail]
        assert chain[0].title == config.change_streams.tables[0].table
        assert [s.title for s in chain[-4:]] == [
            "staging bucket",
            "cross account copier",
            "S3 gateway endpoint",
            "landing bucket",
        ]
        assert chain[-1].account_id != chain[-2].account_id
        last = max(path.flows, key=lambda flow: flow.step)
        assert last.admitted == (name in attached)
        assert last.label == f"writes incoming/{name}/"


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_every_flow_joins_placed_services_and_steps_count_from_one(architectures, environment):
    architecture = architectures[environment]
    keys = {service.key for service in architecture.services}
    tiers = {t.key for a in architecture.accounts for v in a.vpcs for t in v.tiers}
    vpcs = {v.key for a in architecture.accounts for v in a.vpcs}
    for service in architecture.services:
        assert service.tier is None or service.tier in tiers
        assert service.vpc is None or service.vpc in vpcs
    for path in architecture.paths:
        assert min(flow.step for flow in path.flows) == 1
        for flow in path.flows:
            assert {flow.source, flow.target} <= keys
    used = {f.source for _, f in architecture.flows()} | {f.target for _, f in architecture.flows()}
    assert used == keys, "only services on a data path are drawn"
