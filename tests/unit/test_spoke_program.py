"""What the spoke stacks create, from mocked runs of the real program with each spoke file."""

from __future__ import annotations

import ipaddress
import json

from conftest import parsed_config

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


def test_requester_dns_option_only_once_the_hub_has_accepted(spoke_run: StackRun):
    options = spoke_run.of_type("aws:ec2/peeringConnectionOptions:PeeringConnectionOptions")
    if parsed_config(spoke_run.stack).platform.peering_accepted:
        (option,) = options
        assert option.inputs["requester"] == {"allowRemoteVpcDnsResolution": True}
        assert "accepter" not in option.inputs
    else:
        assert options == []


def test_one_encrypted_private_replica_per_configured_database(spoke_run: StackRun):
    config = parsed_config(spoke_run.stack)
    replicas = spoke_run.of_type("aws:rds/instance:Instance")
    assert sorted(r.inputs["replicateSourceDb"] for r in replicas) == sorted(
        d.source_identifier for d in config.platform.databases
    )
    subnet_group = spoke_run.one("aws:rds/subnetGroup:SubnetGroup")
    assert sorted(subnet_group.inputs["subnetIds"]) == sorted(
        s.id for s in spoke_run.of_type("aws:ec2/subnet:Subnet")
    )
    for replica in replicas:
        assert replica.inputs["storageEncrypted"] is True
        assert replica.inputs["publiclyAccessible"] is False
        assert replica.inputs["dbSubnetGroupName"] == subnet_group.outputs["name"]
        assert replica.inputs["deletionProtection"] is (config.deployment.environment == "prod")
        assert "engine" not in replica.inputs, "a replica inherits its engine from the source"
        family = next(
            d
            for d in config.platform.databases
            if d.source_identifier == replica.inputs["replicateSourceDb"]
        )
        group = next(
            g
            for g in spoke_run.of_type("aws:rds/parameterGroup:ParameterGroup")
            if g.outputs["name"] == replica.inputs["parameterGroupName"]
        )
        assert group.inputs["family"] == family.parameter_group_family
        assert group.inputs["parameters"][0]["value"] == "1"


def test_replicas_admit_only_the_reporting_vpc_on_their_ports(spoke_run: StackRun, estates):
    hub = _hub_exports(estates, spoke_run)
    ports = sorted({d.port for d in parsed_config(spoke_run.stack).platform.databases})
    group = spoke_run.one("aws:ec2/securityGroup:SecurityGroup")
    assert [(r["cidrBlocks"], r["fromPort"], r["toPort"]) for r in group.inputs["ingress"]] == [
        ([hub["vpcCidr"]], port, port) for port in ports
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
