"""The security rules on every stack file's mocked graph, and the CrossGuard pack that enforces
the same rules at `pulumi preview --policy-pack policy`.

Each stack is judged as deployed in each phase of the runbook (the hub before any platform is
attached, each spoke before its peering is accepted, then both as their files stand): every
phase is a real deployment. The stack rules are also judged on the resources' outputs, as
`pulumi up` hands them over once everything is provisioned (ARNs and names then known).
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import pulumi_policy
import pytest
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

from offline.engine import StackRun
from offline.estate import Estate, environment_of
from policy.pack import PACK_NAME, build_policies
from policy.rules import RESOURCE_RULES, STACK_RULES, GraphResource, StackRule
from tests.stack_helpers import ALL_STACKS

RDS = "aws:rds/instance:Instance"
GROUP = "aws:ec2/securityGroup:SecurityGroup"
POLICY_DIR = Path(__file__).resolve().parents[2] / "policy"
PHASES = ("first", "final")
RULES = [*RESOURCE_RULES, *STACK_RULES]


def _run(estate: Estate, stack: str, phase: str) -> StackRun:
    if phase == "final":
        return estate.run_of(stack)
    return estate.first_hub if stack == estate.environment else estate.first_spokes[stack]


def graph_of(run: StackRun) -> list[GraphResource]:
    """A mocked run's registrations as the stack rules take them (inputs, as at preview)."""
    return [GraphResource(r.urn, r.type, r.name, r.parent, r.inputs) for r in run.resources]


def applied_graph_of(run: StackRun) -> list[GraphResource]:
    """The same resources with their outputs (inputs and what AWS computed: ARNs, names), as
    a stack policy sees them at `pulumi up`."""
    return [GraphResource(r.urn, r.type, r.name, r.parent, r.outputs) for r in run.resources]


def _violations(rule, graph: list[GraphResource]) -> list[str]:
    if isinstance(rule, StackRule):
        return [violation.message for violation in rule.check(graph)]
    return [
        f"{resource.type} {resource.name}: {message}"
        for resource in graph
        for message in rule.check(resource.type, resource.props)
    ]


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.name)
@pytest.mark.parametrize("stack", ALL_STACKS)
@pytest.mark.parametrize("phase", PHASES)
def test_every_stack_passes_every_rule(estates, stack: str, rule, phase: str):
    run = _run(estates[environment_of(stack)], stack, phase)
    graph = graph_of(run)
    assert len(graph) > 10, f"{stack} ({phase}) registered almost nothing"
    assert _violations(rule, graph) == []


@pytest.mark.parametrize("rule", STACK_RULES, ids=lambda rule: rule.name)
@pytest.mark.parametrize("stack", ALL_STACKS)
def test_every_stack_passes_every_stack_rule_once_provisioned(estates, stack: str, rule):
    graph = applied_graph_of(_run(estates[environment_of(stack)], stack, "final"))
    replicas = [r for r in graph if r.type == RDS and r.props.get("replicateSourceDb")]
    # The outputs carry what the inputs do not: the stack rules can link by ARN here.
    assert all(r.props["arn"].startswith("arn:aws:rds:") for r in replicas)
    assert _violations(rule, graph) == []


def test_the_pack_wires_exactly_the_registrys_rules():
    policies = build_policies()
    assert [(p.name, p.description) for p in policies] == [
        (rule.name, rule.description) for rule in RULES
    ]
    kinds = [type(policy) for policy in policies]
    assert kinds == [ResourceValidationPolicy] * len(RESOURCE_RULES) + [
        StackValidationPolicy
    ] * len(STACK_RULES)


def test_the_entry_point_serves_the_pack_as_mandatory(monkeypatch):
    served = {}

    def record(name, policies, enforcement_level=None, **_):
        served.update(name=name, policies=policies, enforcement_level=enforcement_level)

    # Constructing the real PolicyPack starts its gRPC server and blocks for good.
    monkeypatch.setattr(pulumi_policy, "PolicyPack", record)
    # The entry point puts the repository root on sys.path, as it must under the CLI.
    monkeypatch.setattr(sys, "path", list(sys.path))
    runpy.run_path(str(POLICY_DIR), run_name="__main__")
    assert served["name"] == PACK_NAME
    assert served["enforcement_level"] is EnforcementLevel.MANDATORY
    assert [policy.name for policy in served["policies"]] == [rule.name for rule in RULES]


def _options(parent: str | None = None) -> PolicyResourceOptions:
    return PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], parent)


def _policy(name: str):
    (found,) = [policy for policy in build_policies() if policy.name == name]
    return found


def _validate_resource(name: str, resource_type: str, props: dict) -> list[str]:
    """Run one pack policy as CrossGuard does at preview: on proxied props, in which reading a
    value unknown until deployment raises."""
    reported: list[str] = []
    args = ResourceValidationArgs(
        resource_type, unknown_checking_proxy(props), "urn:x", "x", _options(), None
    )
    _policy(name).validate(args, lambda message, urn=None: reported.append(message))
    return reported


def test_a_value_unknown_at_preview_is_no_violation_but_a_missing_setting_is():
    database = {
        "storageEncrypted": True,
        "kmsKeyId": UNKNOWN_STRING_VALUE,
        "backupRetentionPeriod": 7,
    }
    assert _validate_resource("rds-storage-encrypted-with-cmk", RDS, database) == []
    missing = _validate_resource(
        "rds-storage-encrypted-with-cmk", RDS, {**database, "storageEncrypted": None}
    )
    assert missing == [
        "storageEncrypted is not true: the database's storage, snapshots and "
        "backups would be in clear"
    ]


def test_an_unknown_value_hides_only_itself():
    group = {
        "ingress": [
            {"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": [UNKNOWN_STRING_VALUE]},
            {"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["0.0.0.0/0"]},
        ]
    }
    reported = _validate_resource("security-group-no-world-ingress", GROUP, group)
    assert reported == ["ingress tcp port 443 admits 0.0.0.0/0: the whole internet"]


def _policy_resource(resource_type, name, props, parent=None) -> PolicyResource:
    urn = f"urn:pulumi:dev::reporting::{resource_type}::{name}"
    return PolicyResource(
        resource_type,
        unknown_checking_proxy(props),
        urn,
        name,
        _options(parent.urn if parent else None),
        None,
        parent,
        [],
        {},
    )


def test_a_stack_policy_links_resources_by_parent_and_reports_the_bucket():
    component = _policy_resource("reporting:storage:SecureBucket", "landing", {})
    unknown = UNKNOWN_STRING_VALUE
    children = [
        _policy_resource("aws:s3/bucket:Bucket", "landing-bucket", {"bucket": unknown}, component),
        _policy_resource(
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            "landing-encryption",
            {"bucket": unknown, "rules": unknown},
            component,
        ),
        _policy_resource(
            "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
            "landing-ownership",
            {"bucket": unknown, "rule": {"objectOwnership": "BucketOwnerEnforced"}},
            component,
        ),
        _policy_resource(
            "aws:s3/bucketPolicy:BucketPolicy",
            "landing-policy",
            {"bucket": unknown, "policy": unknown},
            component,
        ),
    ]
    reported: list[tuple[str, str | None]] = []
    args = StackValidationArgs([component, *children])
    _policy("s3-bucket-fully-protected").validate(
        args, lambda message, urn=None: reported.append((message, urn))
    )
    # Everything unknown passes; the public access block is missing, and the bucket is named.
    assert reported == [
        (
            "bucket landing-bucket: no sibling public access block under the same component",
            children[0].urn,
        )
    ]
