"""Config validation: every real stack file parses; each bad case fails naming its key."""

from __future__ import annotations

import copy
from ipaddress import IPv4Network

import pytest
from stack_helpers import ALL_STACKS, SPOKE_STACKS, parsed_config, plain_config

from stack_config import ConfigError, HubConfig, SpokeConfig, parse_stack_config


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_every_stack_file_parses_into_its_role(stack):
    config = parsed_config(stack)
    expected = SpokeConfig if "-" in stack else HubConfig
    assert isinstance(config, expected)
    assert config.deployment.stack == stack
    assert config.deployment.account.region == "eu-west-2"


def test_hub_config_is_typed_and_frozen():
    config = parsed_config("prod")
    assert config.network.vpc_cidr == IPv4Network("10.110.0.0/20")
    assert config.database.parameter_group_family == "sqlserver-se-16.0"
    assert [p.name for p in config.attached_platforms] == ["maths", "reading", "science"]
    with pytest.raises(AttributeError):
        config.network = None  # type: ignore[misc]


def _fails(stack: str, mutate, key: str, words: str) -> None:
    raw = copy.deepcopy(plain_config(stack))
    mutate(raw)
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(stack, raw)
    assert caught.value.key == key
    assert str(caught.value).startswith(f"{key}: ")
    assert words in str(caught.value)


def test_invalid_cidr_names_the_key():
    _fails(
        "dev",
        lambda c: c["network"].update(vpcCidr="10.100.0.0/33"),
        "reporting:network.vpcCidr",
        "IPv4 CIDR",
    )


def test_public_vpc_range_is_refused():
    _fails(
        "dev",
        lambda c: c["network"].update(vpcCidr="8.8.0.0/20"),
        "reporting:network.vpcCidr",
        "RFC 1918",
    )


def test_hub_overlapping_a_source_vpc_is_refused():
    _fails(
        "dev",
        lambda c: c["platforms"][2].update(vpcCidr="10.100.0.0/16"),
        "reporting:platforms[2].vpcCidr",
        "overlaps the reporting VPC",
    )


def test_two_platforms_overlapping_is_refused():
    _fails(
        "dev",
        lambda c: c["platforms"][1].update(vpcCidr="10.1.0.0/16"),
        "reporting:platforms[1].vpcCidr",
        "overlaps",
    )


def test_replica_subnets_outside_their_vpc_are_refused():
    _fails(
        "dev-maths",
        lambda c: c["platform"].update(replicaCidr="10.9.250.0/27"),
        "reporting:platform.replicaCidr",
        "inside the platform VPC",
    )


def test_replica_block_too_small_for_one_subnet_per_zone_is_refused():
    _fails(
        "dev-maths",
        lambda c: c["platform"].update(replicaCidr="10.1.250.0/29"),
        "reporting:platform.replicaCidr",
        "too small",
    )


@pytest.mark.parametrize("bad", ["11110000001", "1111000000011", "11110000000a"])
def test_account_ids_must_have_twelve_digits(bad):
    _fails("dev", lambda c: c["account"].update(id=bad), "reporting:account.id", "12-digit")


def test_platform_account_ids_must_have_twelve_digits():
    _fails(
        "dev",
        lambda c: c["platforms"][0].update(accountId="2222"),
        "reporting:platforms[0].accountId",
        "12-digit",
    )


def test_deploy_role_must_be_in_the_stacks_account():
    _fails(
        "dev-maths",
        lambda c: c["account"].update(
            deployRoleArn="arn:aws:iam::999999999999:role/reporting-deploy"
        ),
        "reporting:account.deployRoleArn",
        "role in account 222200000001",
    )


def test_whole_internet_as_office_cidr_is_refused():
    _fails(
        "prod",
        lambda c: c["officeCidrs"].append("0.0.0.0/0"),
        "reporting:officeCidrs[2]",
        "0.0.0.0/0",
    )


def test_office_cidr_broader_than_a_slash_16_is_refused():
    _fails(
        "prod",
        lambda c: c["officeCidrs"].__setitem__(0, "203.0.0.0/8"),
        "reporting:officeCidrs[0]",
        "broader than /16",
    )


def test_unknown_replica_engine_is_refused():
    _fails(
        "dev-reading",
        lambda c: c["platform"]["databases"][0].update(engine="oracle-ee"),
        "reporting:platform.databases[0].engine",
        "must be one of mysql, mariadb, postgres, sqlserver-ee",
    )


def test_parameter_group_family_of_another_engine_is_refused():
    _fails(
        "dev-maths",
        lambda c: c["platform"]["databases"][0].update(parameterGroupFamily="mysql8.0"),
        "reporting:platform.databases[0].parameterGroupFamily",
        "engine postgres",
    )


def test_reporting_engine_must_be_a_licensable_sql_server_edition():
    _fails(
        "dev",
        lambda c: c["reportingDatabase"].update(engine="sqlserver-ex"),
        "reporting:reportingDatabase.engine",
        "sqlserver-ee, sqlserver-se",
    )


@pytest.mark.parametrize("days", [0, 3651, "thirty"])
def test_archive_retention_must_be_1_to_3650_days(days):
    _fails(
        "dev",
        lambda c: c["landing"].update(archiveExpiryDays=days),
        "reporting:landing.archiveExpiryDays",
        "",
    )


def test_archive_retention_bounds_are_inclusive():
    for days in (1, 3650):
        raw = plain_config("dev")
        raw["landing"] = {**raw["landing"], "archiveExpiryDays": days}
        assert parse_stack_config("dev", raw).landing.archive_expiry_days == days


def test_duplicate_platform_names_are_refused():
    def duplicate(c):
        c["platforms"][3].update(
            name="maths", stack="example-edu/reporting/dev-maths", vpcCidr="10.40.0.0/16"
        )

    _fails("dev", duplicate, "reporting:platforms[3].name", "used twice")


@pytest.mark.parametrize("bad", ["Maths", "maths_online", "-maths", "maths-", "m", "a" * 25])
def test_platform_names_must_be_dns_safe(bad):
    _fails(
        "dev",
        lambda c: c["platforms"][0].update(name=bad),
        "reporting:platforms[0].name",
        "DNS-safe",
    )


def test_a_typo_in_a_key_is_refused_with_a_suggestion():
    _fails(
        "dev",
        lambda c: c["landing"].update(noncurrentVersionExpiryDay=7),
        "reporting:landing.noncurrentVersionExpiryDay",
        "did you mean 'noncurrentVersionExpiryDays'",
    )


def test_a_missing_required_key_is_named():
    _fails(
        "dev",
        lambda c: c["reportingDatabase"].pop("instanceClass"),
        "reporting:reportingDatabase.instanceClass",
        "is required",
    )


def test_a_spoke_key_in_a_hub_stack_is_refused():
    _fails(
        "dev",
        lambda c: c.update(hubStack="example-edu/reporting/dev"),
        "reporting:hubStack",
        "not a known key",
    )


def test_spoke_stack_must_be_named_environment_dash_platform():
    with pytest.raises(ConfigError) as caught:
        parse_stack_config("dev-algebra", plain_config("dev-maths"))
    assert caught.value.key == "reporting:platform.name"
    assert "expected stack 'dev-maths'" in str(caught.value)


def test_hub_stack_must_be_named_after_its_environment():
    with pytest.raises(ConfigError) as caught:
        parse_stack_config("staging", plain_config("dev"))
    assert caught.value.key == "reporting:environment"


def test_platform_stack_reference_must_name_its_spoke():
    _fails(
        "dev",
        lambda c: c["platforms"][0].update(stack="example-edu/reporting/dev-reading"),
        "reporting:platforms[0].stack",
        "'dev-maths'",
    )


def test_a_platform_in_the_reporting_account_is_refused():
    _fails(
        "dev",
        lambda c: c["platforms"][0].update(accountId="111100000001"),
        "reporting:platforms[0].accountId",
        "own account",
    )


def test_zones_must_belong_to_the_region():
    _fails(
        "dev-science",
        lambda c: c["platform"].update(availabilityZones=["eu-west-2a", "eu-west-1b"]),
        "reporting:platform.availabilityZones[1]",
        "zone of eu-west-2",
    )


def test_a_role_other_than_hub_or_spoke_is_refused():
    _fails("dev", lambda c: c.update(role="satellite"), "reporting:role", "hub, spoke")


def test_layer_arns_must_be_versioned_layer_arns():
    _fails(
        "prod",
        lambda c: c["loader"].update(
            odbcLayerArn="arn:aws:lambda:eu-west-2:111100000002:layer:odbc"
        ),
        "reporting:loader.odbcLayerArn",
        "versioned Lambda layer ARN",
    )


def test_log_retention_must_be_a_period_cloudwatch_offers():
    _fails(
        "prod",
        lambda c: c["loader"].update(logRetentionDays=100),
        "reporting:loader.logRetentionDays",
        "offers",
    )


def test_loader_timeout_is_bounded_by_lambdas_limit():
    _fails(
        "dev",
        lambda c: c["loader"].update(timeoutSeconds=901),
        "reporting:loader.timeoutSeconds",
        "30 and 900",
    )


def test_sql_server_standard_cannot_be_a_replica_source():
    _fails(
        "dev-science",
        lambda c: c["platform"]["databases"][0].update(engine="sqlserver-se"),
        "reporting:platform.databases[0].engine",
        "sqlserver-ee",
    )


def test_source_parameters_must_be_plain_values():
    _fails(
        "dev-maths",
        lambda c: c["platform"]["databases"][0].update(sourceParameters={"max_connections": [1]}),
        "reporting:platform.databases[0].sourceParameters.max_connections",
        "plain value",
    )


@pytest.mark.parametrize(
    ("key", "words"),
    [
        # The key data is not base64 (a hand-typed placeholder).
        ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAISampleKey000 me@example.org", "not valid base64"),
        # An RSA key's data labelled as ed25519.
        ("ssh-ed25519 AAAAB3NzaC1yc2EAAAADAQABAAAAAQC7 me@example.org", "is not a ssh-ed25519 key"),
    ],
)
def test_a_bastion_key_ec2_would_refuse_is_refused(key, words):
    def mutate(config):
        config["access"]["sshBastion"]["publicKey"] = key

    _fails("dev", mutate, "reporting:access.sshBastion.publicKey", words)


def test_no_two_spokes_of_an_environment_peer_the_same_vpc():
    # AWS refuses a second peering connection between the same two VPCs: two platforms in one
    # VPC would fail the second spoke's `pulumi up`.
    spokes = [parsed_config(stack) for stack in SPOKE_STACKS]
    seen: dict[tuple[str, str], str] = {}
    for config in spokes:
        key = (config.deployment.environment, config.platform.vpc_id)
        assert key not in seen, f"{config.deployment.stack} peers the VPC of {seen[key]}"
        seen[key] = config.deployment.stack
