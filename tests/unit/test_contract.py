"""The stack contract: what one side requires, the other exports, in both directions."""

from __future__ import annotations

import json
import re

import pytest
from stack_helpers import parsed_config

import contract
from offline.engine import run_stack
from offline.estate import detached_hub_config, peering_requests


def test_output_names_are_camel_case():
    assert contract.output_name("vpc_id") == "vpcId"
    assert contract.output_name("reporting_database_secret_arn") == "reportingDatabaseSecretArn"
    assert contract.output_name("platform") == "platform"


def test_the_hub_exports_exactly_the_hub_contract(estates):
    for estate in estates.values():
        assert sorted(estate.first_hub.exports) == sorted(
            contract.output_names(contract.HubOutputs)
        )
        assert sorted(estate.hub.exports) == sorted(contract.output_names(contract.HubOutputs))


def test_each_spoke_exports_exactly_the_platform_contract(estates):
    for estate in estates.values():
        for spoke in estate.spokes.values():
            assert sorted(spoke.exports) == sorted(contract.output_names(contract.PlatformOutputs))


def test_a_spoke_reads_the_hubs_real_exports(estates):
    for estate in estates.values():
        for name, spoke in estate.spokes.items():
            peering = spoke.one("aws:ec2/vpcPeeringConnection:VpcPeeringConnection")
            assert peering.inputs["peerVpcId"] == estate.first_hub.exports["vpcId"], name
            assert spoke.exports["accountId"] == parsed_config(name).deployment.account.account_id


def test_a_spoke_fails_when_the_hub_lacks_an_output_it_requires(estates):
    hub_exports = dict(estates["dev"].first_hub.exports)
    hub_exports["peerVpcId"] = hub_exports.pop("vpcId")  # renamed on one side only
    with pytest.raises(Exception, match="vpcId"):
        run_stack("dev-maths", {"example-edu/reporting/dev": hub_exports})


def test_the_hub_fails_when_a_spoke_lacks_an_output_it_requires(estates):
    estate = estates["prod"]
    references = {
        f"example-edu/reporting/{name}": dict(run.exports) for name, run in estate.spokes.items()
    }
    references["example-edu/reporting/prod-maths"].pop("replicaCidr")
    with pytest.raises(Exception, match="replicaCidr"):
        run_stack("prod", references, peering_connections=peering_requests(estate.first_spokes))


def test_the_hub_refuses_a_spoke_from_an_unexpected_account(estates):
    estate = estates["prod"]
    references = {
        f"example-edu/reporting/{name}": dict(run.exports) for name, run in estate.spokes.items()
    }
    references["example-edu/reporting/prod-reading"]["accountId"] = "999900000002"
    with pytest.raises(
        Exception, match="refusing to accept its peering request: its stack reports account"
    ):
        run_stack("prod", references, peering_connections=peering_requests(estate.first_spokes))


def test_the_hub_refuses_a_request_aws_says_comes_from_another_vpc(estates):
    estate = estates["prod"]
    references = {
        f"example-edu/reporting/{name}": run.exports for name, run in estate.first_spokes.items()
    }
    requests = peering_requests(estate.first_spokes)
    maths_request = references["example-edu/reporting/prod-maths"]["peeringConnectionId"]
    requests[maths_request] = {**requests[maths_request], "cidrBlock": "10.99.0.0/16"}
    with pytest.raises(
        Exception, match=re.escape("AWS says the requesting VPC is 10.99.0.0/16, not 10.11.0.0/16")
    ):
        run_stack("prod", references, peering_connections=requests)


def test_the_hub_never_references_an_unattached_platform(estates):
    # prod-languages is deployed but not attached: the hub must run without its outputs.
    estate = estates["prod"]
    references = {
        f"example-edu/reporting/{name}": run.exports
        for name, run in estate.spokes.items()
        if name != "prod-languages"
    }
    run = run_stack("prod", references, peering_connections=peering_requests(estate.first_spokes))
    assert "example-edu/reporting/prod-languages" not in {
        r.name for r in run.of_type("pulumi:pulumi:StackReference")
    }


def test_the_detached_hub_is_the_real_config_with_no_attachments():
    config = detached_hub_config("dev")
    platforms = json.loads(config["reporting:platforms"])
    assert [p["name"] for p in platforms] == [p.name for p in parsed_config("dev").platforms]
    assert not any(p["attached"] for p in platforms)
