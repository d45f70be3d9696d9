"""Every resource of every stack is created through the explicit provider of its own account."""

from __future__ import annotations

import json

from stack_helpers import parsed_config

from offline.engine import StackRun
from policy.rules.tags import REQUIRED_TAGS, is_taggable


def test_each_stack_has_exactly_one_aws_provider_for_its_configured_account(stack_run: StackRun):
    config = parsed_config(stack_run.stack)
    account = config.deployment.account
    (provider,) = stack_run.of_type("pulumi:providers:aws")
    assert json.loads(provider.inputs["allowedAccountIds"]) == [account.account_id]
    assert provider.inputs["region"] == account.region
    assume_roles = json.loads(provider.inputs["assumeRoles"])
    assert [role["roleArn"] for role in assume_roles] == [account.deploy_role_arn]


def test_every_aws_resource_uses_the_stacks_account_provider(stack_run: StackRun):
    account_id = parsed_config(stack_run.stack).deployment.account.account_id
    resources = stack_run.aws_resources()
    assert resources, "a stack with no AWS resources proves nothing"
    wrong = [
        (r.type, r.name, stack_run.account_of(r))
        for r in resources
        if stack_run.account_of(r) != account_id
    ]
    assert wrong == []


def test_no_resource_falls_back_to_a_default_provider(stack_run: StackRun):
    assert [r.name for r in stack_run.aws_resources() if not r.provider] == []


def test_every_taggable_resource_carries_the_required_tags(stack_run: StackRun):
    config = parsed_config(stack_run.stack)
    taggable = [r for r in stack_run.aws_resources() if is_taggable(r.type)]
    assert len(taggable) >= 8
    for resource in taggable:
        tags = resource.inputs.get("tags") or {}
        assert set(tags) >= set(REQUIRED_TAGS), (
            f"{resource.type} {resource.name} lacks {set(REQUIRED_TAGS) - set(tags)}"
        )
        assert tags["Environment"] == config.deployment.environment
        assert tags["Owner"] == config.deployment.owner


def test_compute_carries_the_schedule_tag(stack_run: StackRun):
    schedule = parsed_config(stack_run.stack).deployment.schedule
    instances = stack_run.of_type("aws:rds/instance:Instance")
    assert instances
    assert {instance.inputs["tags"]["Schedule"] for instance in instances} == {schedule}


def test_no_password_or_secret_value_is_an_input_or_an_export(stack_run: StackRun):
    for resource in stack_run.resources:
        assert not {"password", "masterPassword"} & set(resource.inputs), resource.name
    assert stack_run.secret_exports == frozenset()
    assert not [name for name in stack_run.exports if "password" in name.lower()]


def test_every_data_source_call_goes_through_the_stacks_provider(stack_run: StackRun):
    provider = stack_run.one("pulumi:providers:aws")
    for invocation in stack_run.invocations:
        assert invocation.provider.rsplit("::", 1)[0] == provider.urn, invocation.token


def _rules(resource) -> list[dict]:
    return [*(resource.inputs.get("ingress") or []), *(resource.inputs.get("egress") or [])]


def test_no_security_group_rule_opens_to_the_whole_internet(stack_run: StackRun):
    groups = stack_run.of_type("aws:ec2/securityGroup:SecurityGroup")
    assert groups
    for group in groups:
        for rule in _rules(group):
            assert not {"0.0.0.0/0"} & set(rule.get("cidrBlocks") or []), group.name
            assert not {"::/0"} & set(rule.get("ipv6CidrBlocks") or []), group.name
            assert rule["protocol"] != "-1", f"{group.name} allows every protocol"
