"""Plans, policy documents and rules: plain functions, tested without Pulumi."""

from __future__ import annotations

import re
from ipaddress import IPv4Network

import pytest

from components.function_package import package_files
from components.managed_instance import instance_architecture
from components.network_plan import hub_subnets, replica_subnets, tier_cidrs
from components.policy_documents import (
    LoaderGrants,
    deny_promote_policy,
    loader_policy,
    operations_key_policy,
    own_account_endpoint_policy,
    own_account_s3_endpoint_policy,
    secure_bucket_policy,
    service_key_policy,
    tls_only_queue_policy,
)
from components.rds_settings import tls_only_parameters
from components.secure_bucket import ExpiringPrefix, SecureBucketArgs, _lifecycle_rules
from components.security_rules import app_tier_egress, replica_client_egress, replica_ingress


@pytest.mark.parametrize(
    ("instance_type", "architecture"),
    [
        # A1, the first Graviton, has no `g` in its name.
        ("a1.medium", "arm64"),
        ("t4g.nano", "arm64"),
        ("m7g.large", "arm64"),
        ("m6gd.xlarge", "arm64"),
        ("c7gn.large", "arm64"),
        ("im4gn.large", "arm64"),
        ("is4gen.large", "arm64"),
        ("g5g.xlarge", "arm64"),
        ("t3.micro", "x86_64"),
        ("g4dn.xlarge", "x86_64"),
        ("m7i-flex.large", "x86_64"),
        ("gr6.4xlarge", "x86_64"),
    ],
)
def test_the_ami_architecture_follows_the_instance_family(instance_type, architecture):
    assert instance_architecture(instance_type) == architecture


def test_hub_subnets_take_one_slot_per_tier_per_zone():
    plan = hub_subnets(IPv4Network("10.100.0.0/20"), ("eu-west-2a", "eu-west-2b"))
    assert [(s.tier, s.availability_zone, str(s.cidr)) for s in plan] == [
        ("data", "eu-west-2a", "10.100.0.0/24"),
        ("data", "eu-west-2b", "10.100.1.0/24"),
        ("app", "eu-west-2a", "10.100.2.0/24"),
        ("app", "eu-west-2b", "10.100.3.0/24"),
    ]
    assert tier_cidrs(plan, "app") == ["10.100.2.0/24", "10.100.3.0/24"]


@pytest.mark.parametrize("vpc", ["10.0.0.0/16", "10.8.0.0/20", "192.168.7.0/24"])
@pytest.mark.parametrize("zones", [("a", "b"), ("a", "b", "c")])
def test_hub_subnets_never_overlap_and_stay_inside_the_vpc(vpc, zones):
    plan = hub_subnets(IPv4Network(vpc), zones)
    assert len(plan) == 2 * len(zones)
    for index, subnet in enumerate(plan):
        assert subnet.cidr.subnet_of(IPv4Network(vpc))
        assert not any(subnet.cidr.overlaps(other.cidr) for other in plan[:index])


def test_replica_subnets_split_the_block_per_zone():
    two = replica_subnets(IPv4Network("10.1.250.0/27"), ("eu-west-2a", "eu-west-2b"))
    assert [str(s.cidr) for s in two] == ["10.1.250.0/28", "10.1.250.16/28"]
    three = replica_subnets(IPv4Network("10.1.250.0/26"), ("a", "b", "c"))
    assert [str(s.cidr) for s in three] == ["10.1.250.0/28", "10.1.250.16/28", "10.1.250.32/28"]


def test_key_policy_allows_use_only_through_named_services():
    policy = service_key_policy("111122223333", "eu-west-2", ["s3", "rds"])
    admin, use = policy["Statement"]
    assert admin["Principal"] == use["Principal"] == {"AWS": "arn:aws:iam::111122223333:root"}
    assert not {"kms:Decrypt", "kms:Encrypt", "kms:*"} & set(admin["Action"])
    assert use["Condition"]["StringEquals"] == {
        "kms:CallerAccount": "111122223333",
        "kms:ViaService": ["rds.eu-west-2.amazonaws.com", "s3.eu-west-2.amazonaws.com"],
    }


def test_bucket_policy_denies_plain_http_old_tls_and_foreign_keys():
    policy = secure_bucket_policy("arn:aws:s3:::landing", "arn:aws:kms:eu-west-2:1:key/k")
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert all(s["Effect"] == "Deny" and s["Principal"] == "*" for s in by_sid.values())
    assert by_sid["DenyInsecureTransport"]["Condition"] == {
        "Bool": {"aws:SecureTransport": "false"}
    }
    assert by_sid["DenyOutdatedTls"]["Condition"] == {"NumericLessThan": {"s3:TlsVersion": "1.2"}}
    assert by_sid["DenyOtherEncryptionKeys"]["Condition"]["StringNotEqualsIfExists"] == {
        "s3:x-amz-server-side-encryption-aws-kms-key-id": "arn:aws:kms:eu-west-2:1:key/k"
    }


def test_endpoint_policy_reaches_only_the_accounts_own_buckets_without_wildcard_actions():
    (statement,) = own_account_s3_endpoint_policy("111122223333")["Statement"]
    assert statement["Condition"] == {"StringEquals": {"aws:ResourceAccount": "111122223333"}}
    assert "s3:*" not in statement["Action"] and "*" not in statement["Action"]


def test_deny_promote_policy_names_exactly_the_replicas():
    (statement,) = deny_promote_policy(["arn:b", "arn:a"])["Statement"]
    assert statement == {
        "Sid": "ReportingReplicasAreNeverPromoted",
        "Effect": "Deny",
        "Action": ["rds:PromoteReadReplica"],
        "Resource": ["arn:a", "arn:b"],
    }


@pytest.mark.parametrize(
    ("engine", "name", "apply_method"),
    [
        ("mysql", "require_secure_transport", "immediate"),
        ("mariadb", "require_secure_transport", "immediate"),
        ("postgres", "rds.force_ssl", "immediate"),
        ("sqlserver-ee", "rds.force_ssl", "pending-reboot"),
        ("sqlserver-se", "rds.force_ssl", "pending-reboot"),
    ],
)
def test_each_engine_gets_its_tls_only_parameter(engine, name, apply_method):
    assert tls_only_parameters(engine) == [
        {"name": name, "value": "1", "apply_method": apply_method}
    ]


def test_replica_rules_open_each_port_to_one_cidr_only():
    assert replica_ingress(["10.100.3.0/24", "10.100.2.0/24"], [5432, 3306, 5432]) == [
        {
            "description": "Reporting clients over peering",
            "protocol": "tcp",
            "from_port": port,
            "to_port": port,
            "cidr_blocks": ["10.100.2.0/24", "10.100.3.0/24"],
        }
        for port in (3306, 5432)
    ]
    egress = replica_client_egress(
        [("reading", "10.2.250.0/27", [3306]), ("maths", "10.1.250.0/27", [5432, 5432])]
    )
    assert [(r["description"], r["cidr_blocks"], r["from_port"]) for r in egress] == [
        ("maths replicas", ["10.1.250.0/27"], 5432),
        ("reading replicas", ["10.2.250.0/27"], 3306),
    ]
    assert replica_client_egress([]) == []


def test_lifecycle_expires_each_prefix_and_old_versions():
    rules = _lifecycle_rules(SecureBucketArgs("key", [ExpiringPrefix("archive/", 90)], 30, {}))
    assert rules[0] == {
        "id": "expire-archive",
        "status": "Enabled",
        "filter": {"prefix": "archive/"},
        "expiration": {"days": 90},
    }
    assert rules[1]["noncurrent_version_expiration"] == {"noncurrent_days": 30}
    assert rules[1]["abort_incomplete_multipart_upload"] == {"days_after_initiation": 7}


def test_operations_key_admits_logs_and_alarms_of_this_account_only():
    statements = {
        s["Sid"]: s for s in operations_key_policy("111122223333", "eu-west-2")["Statement"]
    }
    logs = statements["CloudWatchLogsEncryptsThisAccountsLogGroups"]
    assert logs["Principal"] == {"Service": "logs.eu-west-2.amazonaws.com"}
    assert logs["Condition"]["ArnLike"] == {
        "kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:eu-west-2:111122223333:log-group:*"
    }
    alarms = statements["CloudWatchAlarmsPublishToTheEncryptedTopic"]
    assert alarms["Condition"] == {"StringEquals": {"aws:SourceAccount": "111122223333"}}
    assert statements["UseOnlyThroughNamedServices"]["Condition"]["StringEquals"][
        "kms:ViaService"
    ] == [
        "sns.eu-west-2.amazonaws.com",
        "sqs.eu-west-2.amazonaws.com",
    ]


def test_loader_policy_scopes_every_data_action_to_its_prefix_or_resource():
    grants = LoaderGrants(
        "arn:aws:s3:::b", "kS", "sec", "kD", "topic", "kO", "queue", "arn:logs:lg"
    )
    statements = loader_policy(grants, "incoming/", "archive/", "quarantine/")["Statement"]
    resources = {s["Sid"]: s["Resource"] for s in statements}
    assert resources == {
        "ReadAndRemoveIncomingFiles": "arn:aws:s3:::b/incoming/*",
        "TellMissingObjectsFromDenied": "arn:aws:s3:::b",
        "WriteArchiveAndQuarantine": ["arn:aws:s3:::b/archive/*", "arn:aws:s3:::b/quarantine/*"],
        "UseTheLandingKeyThroughS3": "kS",
        "ReadTheDatabaseSecret": "sec",
        "DecryptTheDatabaseSecret": "kD",
        "AlertAndDeadLetter": ["topic", "queue"],
        "UseTheOperationsKeyThroughSnsAndSqs": "kO",
        "WriteOwnLogs": "arn:logs:lg:*",
        "RunInsideTheVpc": "*",
    }
    assert all(s["Effect"] == "Allow" for s in statements)


def test_app_tier_egress_is_the_database_s3_and_the_endpoints():
    rules = app_tier_egress(["10.0.0.0/24"], 1433, "pl-1", "sg-endpoints")
    assert [
        (r["from_port"], r.get("cidr_blocks"), r.get("prefix_list_ids"), r.get("security_groups"))
        for r in rules
    ] == [
        (1433, ["10.0.0.0/24"], None, None),
        (443, None, ["pl-1"], None),
        (443, None, None, ["sg-endpoints"]),
    ]


def test_package_files_are_sources_with_their_parent_packages(tmp_path):
    for name in (
        "functions/__init__.py",
        "functions/loader/__init__.py",
        "functions/loader/handler.py",
    ):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    (tmp_path / "functions/loader/__pycache__").mkdir()
    (tmp_path / "functions/loader/__pycache__/handler.cpython-311.pyc").write_text("")
    (tmp_path / "functions/loader/notes.txt").write_text("")
    files = package_files(["functions.loader"], tmp_path)
    assert list(files) == [
        "functions/__init__.py",
        "functions/loader/__init__.py",
        "functions/loader/handler.py",
    ]
    with pytest.raises(FileNotFoundError, match=re.escape("functions/other/__init__.py")):
        package_files(["functions.other.deep"], tmp_path)


def test_the_s3_endpoint_admits_every_s3_action_the_loader_is_granted():
    grants = LoaderGrants("arn:aws:s3:::b", "k", "s", "k", "t", "k", "q", "l")
    loader_s3 = {
        action
        for statement in loader_policy(grants, "incoming/", "archive/", "quarantine/")["Statement"]
        for action in statement["Action"]
        if action.startswith("s3:")
    }
    (endpoint,) = own_account_s3_endpoint_policy("111122223333")["Statement"]
    assert loader_s3 <= set(endpoint["Action"])


def test_interface_endpoints_serve_only_named_calls_on_own_account_resources():
    (statement,) = own_account_endpoint_policy("secretsmanager", "111122223333")["Statement"]
    assert statement["Action"] == ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"]
    assert statement["Condition"] == {"StringEquals": {"aws:ResourceAccount": "111122223333"}}
    with pytest.raises(KeyError):
        own_account_endpoint_policy("s3", "111122223333")


def test_failure_queue_refuses_plain_http():
    (statement,) = tls_only_queue_policy("arn:aws:sqs:eu-west-2:1:q")["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
