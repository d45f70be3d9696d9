"""What the spoke stacks create, from mocked runs of the real program with each spoke file."""

from __future__ import annotations

import ipaddress
import json

from stack_helpers import parsed_config

from offline.engine import StackRun


def _hub_exports(estates, run: StackRun) -> dict:
    return estates[run.stack.split("-", 1)[0]].first_hub.exports


def test_replica_subnets_are_dedicated_private_and_inside_the_replica_block(spoke_run: StackRun):
    settings = parsed_config(spoke_run.stack).platform
    subnets = spoke_run.of_type("aws:ec2/subnet:Subnet")
    assert sorted(s.inputs["availabilityZone"] for s in subnets) == sorted(
        settings.availability_zones
    )
    for subnet in subnets:
        assert subnet.inputs["vpcId"] == settings.vpc_id
        assert subnet.inputs["mapPublicIpOnLaunch"] is False
        assert ipaddress.ip_network(subnet.inputs["cidrBlock"]).subnet_of(settings.replica_cidr)
    route_table = spoke_run.one("aws:ec2/routeTable:RouteTable")
    associations = spoke_run.of_type("aws:ec2/routeTableAssociation:RouteTableAssociation")
    assert sorted(a.inputs["subnetId"] for a in associations) == sorted(s.id for s in subnets)
    assert {a.inputs["routeTableId"] for a in associations} == {route_table.id}


def test_the_only_route_out_of_the_replica_subnets_is_the_peering_to_the_hub(
    spoke_run: StackRun, estates
):
    hub = _hub_exports(estates, spoke_run)
    peering = spoke_run.one("aws:ec2/vpcPeeringConnection:VpcPeeringConnection")
    (route,) = spoke_run.of_type("aws:ec2/route:Route")
    assert route.inputs["routeTableId"] == spoke_run.one("aws:ec2/routeTable:RouteTable").id
    assert route.inputs["destinationCidrBlock"] == hub["vpcCidr"]
    assert route.inputs["vpcPeeringConnectionId"] == peering.id
    for absent in ("aws:ec2/internetGateway:InternetGateway", "aws:ec2/natGateway:NatGateway"):
        assert spoke_run.of_type(absent) == []


def test_the_spoke_requests_peering_with_the_hub_and_never_accepts_itself(
    spoke_run: StackRun, estates
):
    hub = _hub_exports(estates, spoke_run)
    settings = parsed_config(spoke_run.stack).platform
    peering = spoke_run.one("aws:ec2/vpcPeeringConnection:VpcPeeringConnection")
    assert peering.inputs["autoAccept"] is False
    assert peering.inputs["vpcId"] == settings.vpc_id
    assert (
        peering.inputs["peerVpcId"],
        peering.inputs["peerOwnerId"],
        peering.inputs["peerRegion"],
    ) == (
        hub["vpcId"],
        hub["accountId"],
        hub["region"],
    )
    assert (
        spoke_run.of_type("aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter") == []
    )


def test_requester_dns_option_only_once_the_hub_has_accepted(estates):
    options_type = "aws:ec2/peeringConnectionOptions:PeeringConnectionOptions"
    for environment, estate in estates.items():
        accepted = {p.name for p in parsed_config(environment).attached_platforms}
        for stack, first in estate.first_spokes.items():
            # Runbook step 2: options on a connection still pending acceptance would fail.
            assert first.of_type(options_type) == []
            final = estate.spokes[stack].of_type(options_type)
            if parsed_config(stack).platform.peering_accepted:
                assert parsed_config(stack).platform.name in accepted
                (option,) = final
                assert option.inputs["requester"] == {"allowRemoteVpcDnsResolution": True}
                assert "accepter" not in option.inputs
            else:
                assert final == []


def test_one_private_replica_per_configured_database(spoke_run: StackRun):
    config = parsed_config(spoke_run.stack)
    account = config.deployment.account
    replicas = {
        r.inputs["replicateSourceDb"]: r for r in spoke_run.of_type("aws:rds/instance:Instance")
    }
    # A same-region replica with its own subnet group must name its source by ARN.
    expected = {
        d.source_arn(account.region, account.account_id): d for d in config.platform.databases
    }
    assert sorted(replicas) == sorted(expected)
    assert all(
        arn.startswith(f"arn:aws:rds:{account.region}:{account.account_id}:db:") for arn in replicas
    )
    subnet_group = spoke_run.one("aws:rds/subnetGroup:SubnetGroup")
    assert sorted(subnet_group.inputs["subnetIds"]) == sorted(
        s.id for s in spoke_run.of_type("aws:ec2/subnet:Subnet")
    )
    for source_arn, replica in replicas.items():
        assert replica.inputs["publiclyAccessible"] is False
        assert replica.inputs["dbSubnetGroupName"] == subnet_group.outputs["name"]
        assert replica.inputs["deletionProtection"] is (config.deployment.environment == "prod")
        # Engine and storage encryption are the source's: the provider never sends either.
        assert "engine" not in replica.inputs and "storageEncrypted" not in replica.inputs
        assert replica.inputs["port"] == expected[source_arn].port


def test_each_replica_forces_tls_and_keeps_the_source_settings_it_must_match(spoke_run: StackRun):
    config = parsed_config(spoke_run.stack)
    account = config.deployment.account
    groups = {
        g.outputs["name"]: g.inputs
        for g in spoke_run.of_type("aws:rds/parameterGroup:ParameterGroup")
    }
    tls_parameter = {
        "postgres": "rds.force_ssl",
        "mysql": "require_secure_transport",
        "sqlserver-ee": "rds.force_ssl",
    }
    for database in config.platform.databases:
        (replica,) = [
            r
            for r in spoke_run.of_type("aws:rds/instance:Instance")
            if r.inputs["replicateSourceDb"]
            == database.source_arn(account.region, account.account_id)
        ]
        group = groups[replica.inputs["parameterGroupName"]]
        assert group["family"] == database.parameter_group_family
        parameters = {p["name"]: p["value"] for p in group["parameters"]}
        assert parameters == {
            tls_parameter[database.engine]: "1",
            **dict(database.source_parameters),
        }


def test_replicas_admit_only_the_hubs_client_subnets_on_their_ports(spoke_run: StackRun, estates):
    hub = _hub_exports(estates, spoke_run)
    ports = sorted({d.port for d in parsed_config(spoke_run.stack).platform.databases})
    (group,) = [
        g
        for g in spoke_run.of_type("aws:ec2/securityGroup:SecurityGroup")
        if "copier" not in g.name
    ]
    assert [(r["cidrBlocks"], r["fromPort"], r["toPort"]) for r in group.inputs["ingress"]] == [
        (sorted(hub["replicaClientCidrs"]), port, port) for port in ports
    ]
    assert group.inputs["egress"] == []
    for replica in spoke_run.of_type("aws:rds/instance:Instance"):
        assert replica.inputs["vpcSecurityGroupIds"] == [group.id]


def test_replicas_can_never_be_promoted(spoke_run: StackRun):
    settings = parsed_config(spoke_run.stack).platform
    policy = spoke_run.one("aws:iam/policy:Policy")
    (statement,) = json.loads(policy.inputs["policy"])["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Action"] == ["rds:PromoteReadReplica"]
    assert statement["Resource"] == sorted(
        r.outputs["arn"] for r in spoke_run.of_type("aws:rds/instance:Instance")
    )
    attachments = spoke_run.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert sorted(a.inputs["role"] for a in attachments) == sorted(settings.guarded_role_names)
    assert {a.inputs["policyArn"] for a in attachments} == {policy.outputs["arn"]}
    assert spoke_run.exports["promoteGuardPolicyArn"] == policy.outputs["arn"]


def test_spoke_reads_only_its_own_environments_hub(spoke_run: StackRun):
    (reference,) = spoke_run.of_type("pulumi:pulumi:StackReference")
    assert reference.name == parsed_config(spoke_run.stack).hub_stack
    assert reference.name.endswith("/" + spoke_run.stack.split("-", 1)[0])
