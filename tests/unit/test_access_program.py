"""People's access under mocks, on the hub stack files: Session Manager by default with no
inbound port anywhere, the SSH bastion only where configured and only from the office, the
office-only guard on the configured roles and groups, and the landing bucket's where-from rule."""

from __future__ import annotations

import json

import pytest

from components.ssh_bastion import SSH_PORT
from offline.engine import StackRun
from tests.stack_helpers import HUB_STACKS, parsed_config

INSTANCE = "aws:ec2/instance:Instance"


@pytest.fixture(params=HUB_STACKS)
def hub_run(request, estates) -> StackRun:
    return estates[request.param].hub


def _by_name(run: StackRun, typ: str, suffix: str):
    (found,) = [r for r in run.of_type(typ) if r.name.endswith(suffix)]
    return found


def _key(run: StackRun, purpose: str) -> str:
    return _by_name(run, "aws:kms/key:Key", f"-{purpose}-key").outputs["arn"]


def test_the_access_host_is_private_hardened_scheduled_and_reachable_only_by_session_manager(
    hub_run: StackRun,
):
    config = parsed_config(hub_run.stack)
    host = _by_name(hub_run, INSTANCE, "access-host-instance")
    assert host.inputs["associatePublicIpAddress"] is False
    assert host.inputs["metadataOptions"]["httpTokens"] == "required"
    assert host.inputs["rootBlockDevice"]["encrypted"] is True
    assert host.inputs["rootBlockDevice"]["kmsKeyId"] == _key(hub_run, "access-volumes")
    assert host.inputs["tags"]["Schedule"] == config.deployment.schedule
    assert host.inputs["instanceType"] == config.access.access_host.instance_type
    app_subnets = {
        s.id for s in hub_run.of_type("aws:ec2/subnet:Subnet") if s.inputs["tags"]["Tier"] == "app"
    }
    assert host.inputs["subnetId"] in app_subnets
    groups = {g.id: g for g in hub_run.of_type("aws:ec2/securityGroup:SecurityGroup")}
    assert all(groups[g].inputs["ingress"] == [] for g in host.inputs["vpcSecurityGroupIds"])
    attachment = _by_name(
        hub_run, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "access-host-ssm-core"
    )
    assert attachment.inputs["policyArn"].endswith(":policy/AmazonSSMManagedInstanceCore")


def test_sessions_are_encrypted_and_logged_to_an_encrypted_group(hub_run: StackRun):
    preferences = hub_run.one("aws:ssm/document:Document")
    assert (preferences.inputs["name"], preferences.inputs["documentType"]) == (
        "SSM-SessionManagerRunShell",
        "Session",
    )
    inputs = json.loads(preferences.inputs["content"])["inputs"]
    logs = _by_name(hub_run, "aws:cloudwatch/logGroup:LogGroup", "access-host-sessions")
    assert inputs["kmsKeyId"] == _key(hub_run, "access-sessions")
    assert inputs["cloudWatchLogGroupName"] == logs.inputs["name"]
    assert inputs["cloudWatchEncryptionEnabled"] is True
    assert logs.inputs["kmsKeyId"] == _key(hub_run, "operations")
    config = parsed_config(hub_run.stack)
    assert logs.inputs["retentionInDays"] == config.access.access_host.session_log_retention_days


def test_only_a_configured_bastion_opens_ssh_and_only_to_the_office(hub_run: StackRun):
    config = parsed_config(hub_run.stack)
    office = sorted(str(cidr) for cidr in config.office_cidrs)
    opened = [
        (group.name, rule)
        for group in hub_run.of_type("aws:ec2/securityGroup:SecurityGroup")
        for rule in group.inputs.get("ingress") or []
        if rule["fromPort"] <= SSH_PORT <= rule["toPort"]
    ]
    bastions = [
        i for i in hub_run.of_type(INSTANCE) if i.inputs["tags"].get("Access") == "ssh-bastion"
    ]
    if config.access.ssh_bastion is None:
        assert opened == []
        assert bastions == []
        return
    ((group_name, rule),) = opened
    assert group_name.endswith("bastion-sg")
    assert rule["cidrBlocks"] == office
    (bastion,) = bastions
    assert bastion.inputs["metadataOptions"]["httpTokens"] == "required"
    assert bastion.inputs["rootBlockDevice"]["kmsKeyId"] == _key(hub_run, "access-volumes")
    assert bastion.inputs["tags"]["Schedule"] == config.deployment.schedule
    key_pair = hub_run.one("aws:ec2/keyPair:KeyPair")
    assert key_pair.inputs["publicKey"] == config.access.ssh_bastion.public_key
    assert bastion.inputs["keyName"] == key_pair.outputs["keyName"]


def test_people_are_office_only_and_report_developers_may_forward_ports(hub_run: StackRun):
    config = parsed_config(hub_run.stack)
    access = config.access
    office_only = _by_name(hub_run, "aws:iam/policy:Policy", "people-office-only")
    (statement,) = json.loads(office_only.inputs["policy"])["Statement"]
    assert statement["Condition"]["NotIpAddress"]["aws:SourceIp"] == sorted(
        str(cidr) for cidr in config.office_cidrs
    )
    roles = hub_run.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    groups = hub_run.of_type("aws:iam/groupPolicyAttachment:GroupPolicyAttachment")
    arn = office_only.outputs["arn"]
    assert sorted(a.inputs["role"] for a in roles if a.inputs["policyArn"] == arn) == sorted(
        access.office_only_roles
    )
    assert sorted(a.inputs["group"] for a in groups if a.inputs["policyArn"] == arn) == sorted(
        access.office_only_groups
    )
    sessions = _by_name(hub_run, "aws:iam/policy:Policy", "people-report-developers")
    start = json.loads(sessions.inputs["policy"])["Statement"][0]
    host = _by_name(hub_run, INSTANCE, "access-host-instance")
    assert start["Resource"][0] == host.outputs["arn"]
    assert sorted(
        a.inputs["role"] for a in roles if a.inputs["policyArn"] == sessions.outputs["arn"]
    ) == sorted(access.report_developer_roles)


def test_landing_data_is_guarded_by_office_endpoints_and_named_roles(hub_run: StackRun):
    config = parsed_config(hub_run.stack)
    landing = _by_name(hub_run, "aws:s3/bucketPolicy:BucketPolicy", "-landing-policy")
    policy = json.loads(landing.inputs["policy"])
    (guard,) = [s for s in policy["Statement"] if s["Sid"] == "DenyDataFromElsewhere"]
    condition = guard["Condition"]
    assert condition["NotIpAddressIfExists"]["aws:SourceIp"] == sorted(
        str(cidr) for cidr in config.office_cidrs
    )
    gateway = [
        e
        for e in hub_run.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
        if e.inputs["vpcEndpointType"] == "Gateway"
    ]
    endpoints = set(condition["StringNotEqualsIfExists"]["aws:SourceVpce"])
    assert gateway[0].id in endpoints
    copier_endpoints = {
        s["Condition"]["StringEquals"]["aws:SourceVpce"]
        for s in policy["Statement"]
        if s["Sid"].endswith("CopierWritesIncoming")
    }
    streaming = [
        link.name
        for link in config.attached_platforms
        if parsed_config(f"{hub_run.stack}-{link.name}").change_streams
    ]
    assert len(copier_endpoints) == len(streaming)
    assert endpoints == {gateway[0].id, *copier_endpoints}
    account = config.deployment.account
    assert condition["ArnNotLike"]["aws:PrincipalArn"] == sorted(
        [
            f"arn:aws:iam::{account.account_id}:role/reporting-{hub_run.stack}-incoming-sweeper",
            account.deploy_role_arn,
        ]
    )
    # The name the guard admits is the sweeper's real role.
    sweeper = _by_name(hub_run, "aws:iam/role:Role", "sweeper-fn-role")
    assert sweeper.inputs["name"] == f"reporting-{hub_run.stack}-incoming-sweeper"
