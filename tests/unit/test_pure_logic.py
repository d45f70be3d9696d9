"""Plans, policy documents and rules: plain functions, tested without Pulumi."""

from __future__ import annotations

from ipaddress import IPv4Network

import pytest

from components.network_plan import hub_subnets, replica_subnets, tier_cidrs
from components.policy_documents import (
    deny_promote_policy,
    own_account_s3_endpoint_policy,
    secure_bucket_policy,
    service_key_policy,
)
from components.rds_settings import tls_only_parameters
from components.secure_bucket import ExpiringPrefix, SecureBucketArgs, _lifecycle_rules
from components.security_rules import replica_client_egress, replica_ingress


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
    assert replica_ingress("10.100.0.0/20", [5432, 3306, 5432]) == [
        {
            "description": "Reporting VPC over peering",
            "protocol": "tcp",
            "from_port": p,
            "to_port": p,
            "cidr_blocks": ["10.100.0.0/20"],
        }
        for p in (3306, 5432)
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
