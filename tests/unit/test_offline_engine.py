"""The mock harness itself: it waits for every registration, records parents and providers,
serves stack references, and refuses what it does not know."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pulumi
import pytest

from offline.engine import run_stack
from offline.mocks import PlatformMocks, UndeployedStackError, UnknownInvokeError
from offline.stack_files import MissingConfigError, engine_config

PROJECT = """\
name: harness
runtime: python
config:
  greeting:
    type: string
  level:
    default: 3
  pulumi:disable-default-providers:
    value: ["*"]
"""

# A program whose registrations happen inside applies, two levels deep, after a delay.
PROGRAM = """\
import asyncio
import pulumi
import pulumi_aws as aws

provider = aws.Provider("acct", region="eu-west-2", allowed_account_ids=["123456789012"])
opts = pulumi.ResourceOptions(provider=provider)

async def later(value):
    await asyncio.sleep(0.05)
    return value

vpc = aws.ec2.Vpc("vpc", cidr_block="10.0.0.0/16", opts=opts)

def second(vpc_id):
    subnet = aws.ec2.Subnet("subnet", vpc_id=vpc_id, cidr_block="10.0.1.0/24", opts=opts)
    subnet.id.apply(lambda _: aws.ec2.RouteTable("deep", vpc_id=vpc_id, opts=opts))
    return vpc_id

vpc.id.apply(lambda i: pulumi.Output.from_input(later(i))).apply(second)
config = pulumi.Config()
pulumi.export("greeting", config.require("greeting"))
pulumi.export("level", config.require_int("level"))
pulumi.export("other", pulumi.StackReference("org/harness/other").require_output("answer"))
pulumi.export("token", pulumi.Output.secret("s3cr3t"))
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "Pulumi.yaml").write_text(PROJECT)
    (tmp_path / "Pulumi.one.yaml").write_text("config:\n  harness:greeting: hello\n")
    (tmp_path / "__main__.py").write_text(PROGRAM)
    return tmp_path


def test_registrations_made_inside_nested_applies_are_all_captured(project):
    run = run_stack("one", {"org/harness/other": {"answer": 42}}, project_dir=project)
    names = [r.name for r in run.resources if r.type.startswith("aws:")]
    assert sorted(names) == ["deep", "subnet", "vpc"]
    assert run.account_of(run.one("aws:ec2/routeTable:RouteTable")) == "123456789012"


def test_parents_and_exports_are_recorded(project):
    run = run_stack("one", {"org/harness/other": {"answer": 42}}, project_dir=project)
    stack = run.one("pulumi:pulumi:Stack")
    assert run.one("aws:ec2/vpc:Vpc").parent == stack.urn
    assert run.exports == {"greeting": "hello", "level": 3, "other": 42, "token": "s3cr3t"}
    assert run.secret_exports == frozenset({"token"})


def test_a_reference_to_an_undeployed_stack_fails(project):
    with pytest.raises(UndeployedStackError, match="org/harness/other"):
        run_stack("one", {}, project_dir=project)


def test_project_defaults_and_values_apply_like_the_engine(project):
    config = engine_config("one", project)
    assert config == {
        "harness:greeting": "hello",
        "harness:level": "3",
        "pulumi:disable-default-providers": '["*"]',
    }


def test_a_declared_key_without_default_must_be_in_the_stack(project):
    (project / "Pulumi.two.yaml").write_text("config: {}\n")
    with pytest.raises(MissingConfigError, match="greeting"):
        engine_config("two", project)


def test_unknown_invokes_raise():
    args = pulumi.runtime.MockCallArgs("aws:index/getCallerIdentity:getCallerIdentity", {}, "")
    with pytest.raises(UnknownInvokeError, match="getCallerIdentity"):
        PlatformMocks({}).call(args)


def test_program_errors_propagate(project):
    (project / "__main__.py").write_text(textwrap.dedent("raise RuntimeError('boom')\n"))
    with pytest.raises(RuntimeError, match="boom"):
        run_stack("one", project_dir=project)
