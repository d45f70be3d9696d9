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
GROUP = "aws:ec2/securityGroup:SecurityGroup"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
HTTPS = 443


@pytest.fixture(params=HUB_STACKS)
def hub_run(request, estates) -> StackRun:
    return estates[request.param].hub


def _by_name(run: StackRun, typ: str, suffix: str):
    (found,) = [r for r in run.of_type(typ) if r.name.endswith(suffix)]
    return found


def _key(run: StackRun, purpose: str) -> str:
    return _by_name(run, "aws:kms/key:Key", f"-{purpose}-key").outputs["arn"]


def _https_destinations(run: StackRun, instance) -> set[tuple[str, str]]:
    """Where the instance's groups let it open HTTPS: (kind, id) of each prefix list or
    security group."""
    groups = {g.id: g for g in run.of_type(GROUP)}
    return {
        (kind, target)
        for group_id in instance.inputs["vpcSecurityGroupIds"]
        for rule in groups[group_id].inputs["egress"]
        if rule["fromPort"] == rule["toPort"] == HTTPS
        for kind in ("prefixListIds", "securityGroups")
        for target in rule.get(kind) or []
    }


def _network(run: StackRun) -> tuple[str, str]:
    """The S3 gateway endpoint's prefix list and the interface endpoints' security group."""
    (gateway,) = [e for e in run.of_type(ENDPOINT) if e.inputs["vpcEndpointType"] == "Gateway"]
    (interface_group,) = {
        group for e in run.of_type(ENDPOINT) for group in e.inputs.get("securityGroupIds") or []
    }
    return gateway.outputs["prefixListId"], interface_group


def _ssm_managed(run: StackRun, instance) -> bool:
    """Whether the instance's profile carries a role with AmazonSSMManagedInstanceCore."""
    (profile,) = [
        p
        for p in run.of_type("aws:iam/instanceProfile:InstanceProfile")
        if p.outputs["name"] == instance.inputs.get("iamInstanceProfile")
    ]
    return any(
        a.inputs["role"] == profile.inputs["role"]
        and a.inputs["policyArn"].endswith(":policy/AmazonSSMManagedInstanceCore")
        for a in run.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    )


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
    assert _ssm_managed(hub_run, host)


def test_the_access_host_reaches_systems_manager_and_the_package_repositories(hub_run: StackRun):
    host = _by_name(hub_run, INSTANCE, "access-host-instance")
    prefix_list, endpoints_group = _network(hub_run)
    assert _https_destinations(hub_run, host) == {
        ("prefixListIds", prefix_list),
        ("securityGroups", endpoints_group),
    }
    s3 = json.loads(
        next(
            e for e in hub_run.of_type(ENDPOINT) if e.inputs["vpcEndpointType"] == "Gateway"
        ).inputs["policy"]
    )
    assert [s["Resource"] for s in s3["Statement"] if s["Sid"] == "ReadAwsPackageRepositories"] == [
        ["arn:aws:s3:::al2023-repos-eu-west-2-de612dc2/*"]
    ]


def test_the_access_host_may_check_that_its_session_log_group_is_encrypted(hub_run: StackRun):
    account = parsed_config(hub_run.stack).deployment.account
    policy = json.loads(
        _by_name(hub_run, "aws:iam/rolePolicy:RolePolicy", "host-policy").inputs["policy"]
    )
    (check,) = [s for s in policy["Statement"] if s["Action"] == "logs:DescribeLogGroups"]
    assert check["Resource"] == f"arn:aws:logs:{account.region}:{account.account_id}:log-group:*"


def test_the_kms_and_logs_endpoints_admit_only_this_accounts_keys_and_log_groups(
    hub_run: StackRun,
):
    account = parsed_config(hub_run.stack).deployment.account.account_id
    endpoints = {e.inputs["serviceName"].rsplit(".", 1)[1]: e for e in hub_run.of_type(ENDPOINT)}
    for service in ("kms", "logs"):
        (scoped, *listing) = json.loads(endpoints[service].inputs["policy"])["Statement"]
        assert scoped["Condition"] == {
            "StringEquals": {"aws:PrincipalAccount": account, "aws:ResourceAccount": account}
        }
        assert not any(action.endswith(":*") for action in scoped["Action"])
        assert [s["Action"] for s in listing] == (
            [["logs:DescribeLogGroups"]] if service == "logs" else []
        )


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
    # A managed node like the others: patched over Systems Manager, from the repositories.
    assert _ssm_managed(hub_run, bastion)
    prefix_list, endpoints_group = _network(hub_run)
    assert _https_destinations(hub_run, bastion) == {
        ("prefixListIds", prefix_list),
        ("securityGroups", endpoints_group),
    }
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
