"""What the hub stacks create, from mocked runs of the real program with Pulumi.dev/prod.yaml."""

from __future__ import annotations

import ipaddress
import json

from stack_helpers import parsed_config

from offline.engine import StackRun


def _inside(run: StackRun, parent_type: str, parent_name: str, typ: str):
    parent = next(r for r in run.resources if r.type == parent_type and r.name == parent_name)
    return [r for r in run.resources if r.type == typ and r.parent == parent.urn]


def test_vpc_is_private_over_two_zones_with_a_public_subnet_only_for_a_bastion(
    hub_run: StackRun,
):
    config = parsed_config(hub_run.stack)
    vpc = hub_run.one("aws:ec2/vpc:Vpc")
    assert vpc.inputs["cidrBlock"] == str(config.network.vpc_cidr)
    subnets = hub_run.of_type("aws:ec2/subnet:Subnet")
    bastion = config.access.ssh_bastion is not None
    assert sorted(s.inputs["tags"]["Tier"] for s in subnets) == [
        "app",
        "app",
        "data",
        "data",
        *(["public"] if bastion else []),
    ]
    assert {s.inputs["availabilityZone"] for s in subnets} == set(config.network.availability_zones)
    assert all(s.inputs["mapPublicIpOnLaunch"] is False for s in subnets)
    for subnet in subnets:
        assert ipaddress.ip_network(subnet.inputs["cidrBlock"]).subnet_of(config.network.vpc_cidr)
    # No NAT bill; an internet gateway only for the bastion's subnet, whose route table no
    # private subnet uses.
    assert hub_run.of_type("aws:ec2/natGateway:NatGateway") == []
    assert hub_run.of_type("aws:ec2/eip:Eip") == []
    gateways = hub_run.of_type("aws:ec2/internetGateway:InternetGateway")
    assert len(gateways) == (1 if bastion else 0)
    to_internet = [
        r
        for r in hub_run.of_type("aws:ec2/route:Route")
        if r.inputs.get("destinationCidrBlock") == "0.0.0.0/0"
    ]
    public = [s for s in subnets if s.inputs["tags"]["Tier"] == "public"]
    associations = hub_run.of_type("aws:ec2/routeTableAssociation:RouteTableAssociation")
    for route in to_internet:
        assert route.inputs["gatewayId"] == gateways[0].id
        users = {
            a.inputs["subnetId"]
            for a in associations
            if a.inputs["routeTableId"] == route.inputs["routeTableId"]
        }
        assert users == {s.id for s in public}


def test_s3_gateway_endpoint_serves_the_private_route_table(hub_run: StackRun):
    endpoints = hub_run.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
    (endpoint,) = [e for e in endpoints if e.inputs["vpcEndpointType"] == "Gateway"]
    (route_table,) = [
        t
        for t in hub_run.of_type("aws:ec2/routeTable:RouteTable")
        if t.inputs["tags"]["Name"].endswith("private")
    ]
    assert endpoint.inputs["serviceName"] == "com.amazonaws.eu-west-2.s3"
    assert endpoint.inputs["routeTableIds"] == [route_table.id]
    policy = json.loads(endpoint.inputs["policy"])
    account = parsed_config(hub_run.stack).deployment.account.account_id
    assert policy["Statement"][0]["Condition"] == {"StringEquals": {"aws:ResourceAccount": account}}


def test_default_security_group_is_stripped(hub_run: StackRun):
    default = hub_run.one("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    assert default.inputs["ingress"] == [] and default.inputs["egress"] == []


def test_customer_managed_keys_rotate_and_are_scoped_to_services(hub_run: StackRun):
    keys = {
        key.name: key
        for key in hub_run.of_type("aws:kms/key:Key")
        # The session key serves clients that call KMS themselves (test_access_program).
        if key.name != "reporting-access-sessions-key"
    }
    purposes = ["storage", "database", "operations", "access-volumes"]
    if parsed_config(hub_run.stack).reports:
        purposes.append("reports-objects")
    assert set(keys) == {f"reporting-{purpose}-key" for purpose in purposes}
    services = {}
    for name, key in keys.items():
        assert key.inputs["enableKeyRotation"] is True
        statements = json.loads(key.inputs["policy"])["Statement"]
        use = next(s for s in statements if s["Sid"] == "UseOnlyThroughNamedServices")
        services[name] = use["Condition"]["StringEquals"]["kms:ViaService"]
        assert "kms:Decrypt" in use["Action"] and "kms:Decrypt" not in statements[0]["Action"]
    assert services == {
        "reporting-storage-key": ["s3.eu-west-2.amazonaws.com"],
        "reporting-database-key": [
            "rds.eu-west-2.amazonaws.com",
            "secretsmanager.eu-west-2.amazonaws.com",
        ],
        "reporting-operations-key": ["sns.eu-west-2.amazonaws.com", "sqs.eu-west-2.amazonaws.com"],
        "reporting-access-volumes-key": ["ec2.eu-west-2.amazonaws.com"],
        **(
            {"reporting-reports-objects-key": ["s3.eu-west-2.amazonaws.com"]}
            if "reporting-reports-objects-key" in keys
            else {}
        ),
    }


def _landing(run: StackRun, typ: str):
    """The landing bucket's resource of `typ` (the report server has a bucket of its own)."""
    (found,) = [r for r in run.of_type(typ) if r.name.startswith("reporting-landing-")]
    return found


def test_landing_bucket_has_every_baseline_control(hub_run: StackRun):
    config = parsed_config(hub_run.stack)
    bucket = _landing(hub_run, "aws:s3/bucket:Bucket")
    bucket_id = bucket.outputs["bucket"]

    def on_bucket(typ):
        resource = _landing(hub_run, typ)
        assert resource.inputs["bucket"] == bucket_id
        return resource.inputs

    access = on_bucket("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    assert all(
        access[k] is True
        for k in (
            "blockPublicAcls",
            "blockPublicPolicy",
            "ignorePublicAcls",
            "restrictPublicBuckets",
        )
    )
    assert on_bucket("aws:s3/bucketOwnershipControls:BucketOwnershipControls")["rule"] == {
        "objectOwnership": "BucketOwnerEnforced"
    }
    assert on_bucket("aws:s3/bucketVersioning:BucketVersioning")["versioningConfiguration"] == {
        "status": "Enabled"
    }
    (sse,) = on_bucket(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    )["rules"]
    storage_key = next(
        k for k in hub_run.of_type("aws:kms/key:Key") if k.name == "reporting-storage-key"
    )
    assert sse["applyServerSideEncryptionByDefault"] == {
        "sseAlgorithm": "aws:kms",
        "kmsMasterKeyId": storage_key.outputs["arn"],
    }
    rules = {
        rule["id"]: rule
        for rule in on_bucket("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")[
            "rules"
        ]
    }
    assert rules["expire-archive"]["filter"] == {"prefix": "archive/"}
    assert rules["expire-archive"]["expiration"] == {"days": config.landing.archive_expiry_days}
    assert rules["housekeeping"]["noncurrentVersionExpiration"] == {
        "noncurrentDays": config.landing.noncurrent_version_expiry_days
    }
    policy = json.loads(on_bucket("aws:s3/bucketPolicy:BucketPolicy")["policy"])
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid["DenyOtherEncryptionKeys"]["Condition"]["StringNotEqualsIfExists"] == {
        "s3:x-amz-server-side-encryption-aws-kms-key-id": storage_key.outputs["arn"]
    }
    assert by_sid["DenyOtherEncryption"]["Condition"]["StringNotEqualsIfExists"] == {
        "s3:x-amz-server-side-encryption": "aws:kms"
    }
    insecure = by_sid["DenyInsecureTransport"]
    assert insecure["Effect"] == "Deny" and insecure["Condition"] == {
        "Bool": {"aws:SecureTransport": "false"}
    }
    assert insecure["Resource"] == [bucket.outputs["arn"], bucket.outputs["arn"] + "/*"]


def test_reporting_database_is_encrypted_private_and_password_managed(hub_run: StackRun):
    config = parsed_config(hub_run.stack)
    db = hub_run.one("aws:rds/instance:Instance")
    database_key = next(
        k for k in hub_run.of_type("aws:kms/key:Key") if k.name == "reporting-database-key"
    )
    assert db.inputs["engine"] == config.database.engine
    assert db.inputs["instanceClass"] == config.database.instance_class
    assert db.inputs["storageEncrypted"] is True
    assert db.inputs["kmsKeyId"] == database_key.outputs["arn"]
    assert db.inputs["masterUserSecretKmsKeyId"] == database_key.outputs["arn"]
    assert db.inputs["manageMasterUserPassword"] is True
    assert db.inputs["publiclyAccessible"] is False
    assert db.inputs["multiAz"] is config.database.multi_az
    assert db.inputs["deletionProtection"] is config.database.deletion_protection
    assert db.inputs["backupRetentionPeriod"] == config.database.backup_retention_days
    subnet_group = hub_run.one("aws:rds/subnetGroup:SubnetGroup")
    data_subnets = {
        s.id for s in hub_run.of_type("aws:ec2/subnet:Subnet") if s.inputs["tags"]["Tier"] == "data"
    }
    assert set(subnet_group.inputs["subnetIds"]) == data_subnets
    assert db.inputs["dbSubnetGroupName"] == subnet_group.outputs["name"]
    params = hub_run.one("aws:rds/parameterGroup:ParameterGroup")
    assert params.inputs["family"] == config.database.parameter_group_family
    assert {
        "name": "rds.force_ssl",
        "value": "1",
        "applyMethod": "pending-reboot",
    } in params.inputs["parameters"]


def test_database_admits_sql_server_from_the_app_tier_and_a_bastion_only(hub_run: StackRun):
    group = next(
        g
        for g in hub_run.of_type("aws:ec2/securityGroup:SecurityGroup")
        if g.name == "reporting-db-sg"
    )
    # The public tier exists only with an SSH bastion, and holds nothing else.
    client_cidrs = sorted(
        s.inputs["cidrBlock"]
        for s in hub_run.of_type("aws:ec2/subnet:Subnet")
        if s.inputs["tags"]["Tier"] in ("app", "public")
    )
    (rule,) = group.inputs["ingress"]
    assert (rule["fromPort"], rule["toPort"], rule["protocol"]) == (1433, 1433, "tcp")
    assert sorted(rule["cidrBlocks"]) == client_cidrs
    assert sorted(hub_run.exports["replicaClientCidrs"]) == client_cidrs
    assert group.inputs["egress"] == []


def test_hub_accepts_and_routes_to_exactly_the_attached_platforms(estates):
    for environment, estate in estates.items():
        config = parsed_config(environment)
        attached = sorted(p.name for p in config.attached_platforms)
        hub = estate.hub
        accepters = hub.of_type("aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter")
        assert sorted(a.inputs["tags"]["PeerPlatform"] for a in accepters) == attached
        for accepter in accepters:
            platform = accepter.inputs["tags"]["PeerPlatform"]
            spoke = estate.spokes[f"{environment}-{platform}"]
            assert accepter.inputs["vpcPeeringConnectionId"] == spoke.exports["peeringConnectionId"]
            assert accepter.inputs["autoAccept"] is True
            assert accepter.inputs["accepter"] == {"allowRemoteVpcDnsResolution": True}
            routes = _inside(
                hub,
                "reporting:network:PeeringAcceptance",
                f"reporting-peer-{platform}",
                "aws:ec2/route:Route",
            )
            # From the private route table, and the SSH bastion's when there is one.
            assert len(routes) == (2 if config.access.ssh_bastion else 1)
            for route in routes:
                # Only the platform's replica subnets, never its whole VPC.
                assert route.inputs["destinationCidrBlock"] == spoke.exports["replicaCidr"]
                assert (
                    route.inputs["vpcPeeringConnectionId"] == spoke.exports["peeringConnectionId"]
                )
        refs = sorted(r.name for r in hub.of_type("pulumi:pulumi:StackReference"))
        assert refs == sorted(p.stack for p in config.attached_platforms)


def test_replica_clients_reach_each_attached_platforms_replicas_on_its_ports_only(estates):
    for environment, estate in estates.items():
        group = next(
            g
            for g in estate.hub.of_type("aws:ec2/securityGroup:SecurityGroup")
            if g.name == "reporting-replica-clients-sg"
        )
        expected = sorted(
            (spoke.exports["replicaCidr"], port)
            for spoke in estate.spokes.values()
            if spoke.exports["platform"]
            in {p.name for p in parsed_config(environment).attached_platforms}
            for port in spoke.exports["replicaPorts"]
        )
        actual = sorted(
            (rule["cidrBlocks"][0], rule["fromPort"]) for rule in group.inputs["egress"]
        )
        assert actual == expected
        assert group.inputs["ingress"] == []


def test_the_first_hub_deployment_needs_no_spoke(estates):
    for estate in estates.values():
        first = estate.first_hub
        assert first.of_type("pulumi:pulumi:StackReference") == []
        assert (
            first.of_type("aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter") == []
        )
        assert first.exports.keys() == estate.hub.exports.keys()
