"""The extractor under mocks: what the hub creates to pull the catalog's extracts from the
attached platforms' replicas (components/extractor.py)."""

from __future__ import annotations

import json

import pytest
from stack_helpers import parsed_config

from offline.engine import StackRun, run_stack
from offline.estate import peering_requests

FUNCTION = "aws:lambda/function:Function"
SECRET = "aws:secretsmanager/secret:Secret"


def _extractor(run: StackRun):
    (function,) = [f for f in run.of_type(FUNCTION) if f.inputs["name"].endswith("-extractor")]
    return function


def _policy(run: StackRun, function) -> dict[str, dict]:
    (policy,) = [
        p for p in run.of_type("aws:iam/rolePolicy:RolePolicy") if p.parent == function.parent
    ]
    return {s["Sid"]: s for s in json.loads(policy.inputs["policy"])["Statement"]}


@pytest.fixture
def dev_hub(estates) -> StackRun:
    return estates["dev"].hub


def test_one_login_secret_per_extracted_replica_and_a_generated_hash_key(dev_hub):
    (database_key,) = [k for k in dev_hub.of_type("aws:kms/key:Key") if "database" in k.name]
    secrets = {s.inputs["name"]: s for s in dev_hub.of_type(SECRET) if "extractor" in s.name}
    assert sorted(secrets) == [
        "reporting/dev/extracts/hash-key",
        "reporting/dev/replicas/maths/homework",
        "reporting/dev/replicas/reading/library",
    ]
    assert {s.inputs["kmsKeyId"] for s in secrets.values()} == {database_key.outputs["arn"]}
    # Only the hash key gets a value from the stack: the logins are the platforms' to put.
    (version,) = dev_hub.of_type("aws:secretsmanager/secretVersion:SecretVersion")
    assert version.inputs["secretId"] == secrets["reporting/dev/extracts/hash-key"].id
    (password,) = dev_hub.of_type("random:index/randomPassword:RandomPassword")
    assert (password.inputs["length"], password.inputs["special"]) == (64, False)
    assert password.provider.split("::")[-2].endswith("random")


def test_the_extractor_knows_each_replica_from_the_platforms_outputs(dev_hub, estates):
    maths = estates["dev"].first_spokes["dev-maths"].exports
    (homework,) = maths["replicaEndpoints"]
    replicas = json.loads(_extractor(dev_hub).inputs["environment"]["variables"]["REPLICAS"])
    login = next(s for s in dev_hub.of_type(SECRET) if s.inputs["name"].endswith("maths/homework"))
    assert sorted(replicas) == ["maths", "reading"]
    assert replicas["maths"] == {
        "homework": {
            "engine": homework["engine"],
            "host": homework["address"],
            "port": homework["port"],
            "database": "homework",
            "secret_arn": login.outputs["arn"],
        }
    }
    # Stack references hand numbers back as floats; the extractor takes only a whole port
    # (5432 == 5432.0 in Python, so the comparison above cannot see it).
    assert type(replicas["maths"]["homework"]["port"]) is int


def test_the_extractor_writes_only_the_extracted_datasets_and_reads_only_its_secrets(dev_hub):
    function = _extractor(dev_hub)
    statements = _policy(dev_hub, function)
    bucket = dev_hub.exports["landingBucketArn"]
    assert statements["WriteExtractedParts"]["Resource"] == [
        f"{bucket}/incoming/maths/staff/*",
        f"{bucket}/incoming/reading/book_progress/*",
    ]
    assert statements["ReadAndWriteWatermarks"]["Resource"] == f"{bucket}/extract-state/*"
    secrets = sorted(s.outputs["arn"] for s in dev_hub.of_type(SECRET) if "extractor" in s.name)
    assert statements["ReadReplicaLoginsAndTheHashKey"]["Resource"] == secrets


def test_the_extractor_runs_in_the_app_tier_reaching_replicas_s3_and_endpoints_only(dev_hub):
    function = _extractor(dev_hub)
    groups = {g.id: g for g in dev_hub.of_type("aws:ec2/securityGroup:SecurityGroup")}
    names = sorted(groups[i].name for i in function.inputs["vpcConfig"]["securityGroupIds"])
    assert names == ["reporting-extractor-sg", "reporting-replica-clients-sg"]
    extractor_group = next(g for g in groups.values() if g.name == "reporting-extractor-sg")
    assert extractor_group.inputs["ingress"] == []
    assert [r["fromPort"] for r in extractor_group.inputs["egress"]] == [443, 443]
    loader = next(f for f in dev_hub.of_type(FUNCTION) if f.inputs["name"].endswith("loader"))
    assert function.inputs["vpcConfig"]["subnetIds"] == loader.inputs["vpcConfig"]["subnetIds"]


def test_the_schedule_invokes_the_extractor_as_configured(dev_hub):
    settings = parsed_config("dev").extractor
    function = _extractor(dev_hub)
    (schedule,) = [
        s
        for s in dev_hub.of_type("aws:scheduler/schedule:Schedule")
        if s.inputs["name"] == "reporting-dev-extracts"
    ]
    (queue,) = [q for q in dev_hub.of_type("aws:sqs/queue:Queue") if q.parent == function.parent]
    assert schedule.inputs["scheduleExpression"] == settings.schedule
    assert schedule.inputs["scheduleExpressionTimezone"] == "Europe/London"
    assert schedule.inputs["flexibleTimeWindow"] == {"mode": "OFF"}
    target = schedule.inputs["target"]
    assert target["arn"] == function.outputs["arn"]
    assert target["deadLetterConfig"] == {"arn": queue.outputs["arn"]}
    (role,) = [
        r
        for r in dev_hub.of_type("aws:iam/role:Role")
        if r.name.endswith("extractor-schedule-role")
    ]
    (trust,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": "111100000001"}}


def test_a_catalog_extract_from_a_replica_the_platform_lacks_stops_the_hub(estates):
    estate = estates["dev"]
    references = {
        f"example-edu/reporting/{stack}": run.exports for stack, run in estate.first_spokes.items()
    }
    maths = references["example-edu/reporting/dev-maths"]
    references["example-edu/reporting/dev-maths"] = {
        **maths,
        "replicaEndpoints": [{**maths["replicaEndpoints"][0], "name": "gradebook"}],
    }
    with pytest.raises(ValueError, match="extracts from replica 'homework', but the maths stack"):
        run_stack("dev", references, peering_connections=peering_requests(estate.first_spokes))


def test_a_failed_run_is_not_retried_but_recorded_in_the_failure_queue(dev_hub):
    function = _extractor(dev_hub)
    (queue,) = [q for q in dev_hub.of_type("aws:sqs/queue:Queue") if q.parent == function.parent]
    (config,) = [
        c
        for c in dev_hub.of_type("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig")
        if c.inputs["functionName"] == function.outputs["name"]
    ]
    assert config.inputs["maximumRetryAttempts"] == 0
    assert config.inputs["destinationConfig"] == {
        "onFailure": {"destination": queue.outputs["arn"]}
    }
