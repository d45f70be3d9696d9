"""The report server in the hub, from mocked runs of the real program with the real stack files:
a private, hardened, scheduled instance whose user data installs the runner; its bucket, bundle,
role and network; and nothing of it in a hub without `reports`."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
import yaml
from stack_helpers import parsed_config

from components.report_server import bundle_files, bundle_key
from functions.report_runner.definitions import DEFINITIONS_DIR, load_definitions
from offline.engine import StackRun, run_stack
from offline.estate import detached_hub_config

INSTANCE = "aws:ec2/instance:Instance"
GROUP = "aws:ec2/securityGroup:SecurityGroup"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
SERVER = "reporting-reports-"


def _server(run: StackRun, typ: str, role: str):
    (found,) = [r for r in run.of_type(typ) if r.name == f"{SERVER}{role}"]
    return found


def _key_arn(run: StackRun, name: str) -> str:
    (key,) = [k for k in run.of_type("aws:kms/key:Key") if k.name == f"reporting-{name}-key"]
    return key.outputs["arn"]


def _user_data(run: StackRun) -> dict:
    text = _server(run, INSTANCE, "instance").inputs["userData"]
    assert text.startswith("#cloud-config\n")
    return yaml.safe_load(text)


def _environment(run: StackRun) -> dict[str, str]:
    (env,) = [
        f for f in _user_data(run)["write_files"] if f["path"] == "/etc/report-runner/environment"
    ]
    return dict(shlex.split(line)[0].split("=", 1) for line in env["content"].splitlines())


def _commands(run: StackRun) -> list[str]:
    return [c if isinstance(c, str) else shlex.join(c) for c in _user_data(run)["runcmd"]]


def _app_subnets(run: StackRun) -> set[str]:
    return {s.id for s in run.of_type("aws:ec2/subnet:Subnet") if s.inputs["tags"]["Tier"] == "app"}


def test_the_server_is_private_hardened_encrypted_and_scheduled(hub_run: StackRun):
    config = parsed_config(hub_run.stack)
    instance = _server(hub_run, INSTANCE, "instance").inputs
    assert instance["instanceType"] == config.reports.server.instance_type
    assert instance["associatePublicIpAddress"] is False
    assert instance["subnetId"] in _app_subnets(hub_run)
    assert instance["metadataOptions"] == {
        "httpEndpoint": "enabled",
        "httpTokens": "required",
        "httpPutResponseHopLimit": 1,
    }
    root = instance["rootBlockDevice"]
    assert (root["encrypted"], root["volumeType"]) == (True, "gp3")
    assert root["kmsKeyId"] == _key_arn(hub_run, "access-volumes")
    assert instance["tags"]["Schedule"] == config.deployment.schedule
    assert instance["userDataReplaceOnChange"] is True
    # Amazon Linux 2023 for the instance type's architecture (t4g: Graviton), as the access host.
    parameters = {i.args.get("name") for i in hub_run.invocations}
    assert "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64" in parameters
    host = next(i for i in hub_run.of_type(INSTANCE) if i.name.endswith("access-host-instance"))
    assert instance["ami"] == host.inputs["ami"]


def test_the_server_admits_nothing_and_reaches_only_the_database_s3_and_endpoints(
    hub_run: StackRun,
):
    instance = _server(hub_run, INSTANCE, "instance")
    group = _server(hub_run, GROUP, "sg")
    assert instance.inputs["vpcSecurityGroupIds"] == [group.id]
    assert group.inputs["ingress"] == []
    gateway = next(e for e in hub_run.of_type(ENDPOINT) if e.inputs["vpcEndpointType"] == "Gateway")
    endpoints_group = next(g for g in hub_run.of_type(GROUP) if g.name.endswith("endpoints-sg"))
    data_cidrs = sorted(
        s.inputs["cidrBlock"]
        for s in hub_run.of_type("aws:ec2/subnet:Subnet")
        if s.inputs["tags"]["Tier"] == "data"
    )
    egress = [
        (
            rule["fromPort"],
            sorted(rule.get("cidrBlocks") or []),
            rule.get("prefixListIds"),
            rule.get("securityGroups"),
        )
        for rule in group.inputs["egress"]
    ]
    assert egress == [
        (1433, data_cidrs, None, None),
        (443, [], [gateway.outputs["prefixListId"]], None),
        (443, [], None, [endpoints_group.id]),
    ]


def test_the_role_is_the_servers_alone_with_session_manager_and_scoped_grants(
    hub_run: StackRun,
):
    role = _server(hub_run, "aws:iam/role:Role", "role")
    (trust,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert trust["Principal"] == {"Service": "ec2.amazonaws.com"}
    profile = _server(hub_run, "aws:iam/instanceProfile:InstanceProfile", "profile")
    assert profile.inputs["role"] == role.outputs["name"]
    instance = _server(hub_run, INSTANCE, "instance")
    assert instance.inputs["iamInstanceProfile"] == profile.outputs["name"]
    core = _server(hub_run, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "ssm-core")
    assert core.inputs["policyArn"] == "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
    statements = json.loads(
        _server(hub_run, "aws:iam/rolePolicy:RolePolicy", "policy").inputs["policy"]
    )["Statement"]
    bucket = _server(hub_run, "aws:s3/bucket:Bucket", "output-bucket").outputs["arn"]
    # Every statement, data action or not, names its resources.
    for statement in statements:
        resources = statement["Resource"]
        resources = resources if isinstance(resources, list) else [resources]
        assert "*" not in resources, statement["Sid"]
    by_sid = {s["Sid"]: s for s in statements}
    assert by_sid["WriteReportsAndDeliveryMarkers"]["Resource"] == f"{bucket}/reports/*"
    assert by_sid["UseTheReportsKeyThroughS3"]["Resource"] == _key_arn(hub_run, "reports-objects")
    assert (
        by_sid["ReadTheDatabaseSecret"]["Resource"] == hub_run.exports["reportingDatabaseSecretArn"]
    )
    assert by_sid["Alert"]["Resource"] == hub_run.exports["alertTopicArn"]
    account = parsed_config(hub_run.stack).deployment.account
    sender = parsed_config(hub_run.stack).reports.sender
    assert (
        f"arn:aws:ses:{account.region}:{account.account_id}:identity/{sender}"
        in by_sid["SendFromTheSenderIdentity"]["Resource"]
    )


def test_each_report_expires_after_its_retention(hub_run: StackRun):
    lifecycle = _server(
        hub_run,
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        "output-lifecycle",
    )
    expiring = {
        rule["filter"]["prefix"]: rule["expiration"]["days"]
        for rule in lifecycle.inputs["rules"]
        if rule["id"].startswith("expire-")
    }
    definitions = load_definitions(DEFINITIONS_DIR)
    assert definitions
    assert expiring == {f"reports/{d.name}/": d.retention_days for d in definitions}


def test_report_data_is_readable_only_from_the_office_the_endpoint_or_by_the_deployer(
    hub_run: StackRun,
):
    config = parsed_config(hub_run.stack)
    policy = json.loads(
        _server(hub_run, "aws:s3/bucketPolicy:BucketPolicy", "output-policy").inputs["policy"]
    )
    (guard,) = [s for s in policy["Statement"] if s["Sid"] == "DenyDataFromElsewhere"]
    gateway = next(e for e in hub_run.of_type(ENDPOINT) if e.inputs["vpcEndpointType"] == "Gateway")
    assert guard["Condition"]["NotIpAddressIfExists"]["aws:SourceIp"] == sorted(
        str(cidr) for cidr in config.office_cidrs
    )
    assert guard["Condition"]["StringNotEqualsIfExists"]["aws:SourceVpce"] == [gateway.id]
    assert guard["Condition"]["ArnNotLike"]["aws:PrincipalArn"] == [
        config.deployment.account.deploy_role_arn
    ]
    encryption = _server(
        hub_run,
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "output-encryption",
    )
    (rule,) = encryption.inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"] == _key_arn(
        hub_run, "reports-objects"
    )


def test_the_bundle_is_uploaded_encrypted_under_a_content_addressed_key(hub_run: StackRun):
    bundle = _server(hub_run, "aws:s3/bucketObjectv2:BucketObjectv2", "bundle").inputs
    bucket = _server(hub_run, "aws:s3/bucket:Bucket", "output-bucket")
    assert bundle["bucket"] == bucket.outputs["bucket"]
    assert bundle["key"] == bundle_key(bundle_files())
    assert bundle["key"].startswith("runner/report-runner-")
    assert bundle["serverSideEncryption"] == "aws:kms"
    assert bundle["kmsKeyId"] == _key_arn(hub_run, "reports-objects")
    # The server fetches that very object.
    assert any(f"s3://{bucket.outputs['bucket']}/{bundle['key']} " in c for c in _commands(hub_run))


def test_the_user_data_points_the_runner_at_this_hubs_resources(hub_run: StackRun):
    config = parsed_config(hub_run.stack)
    environment = _environment(hub_run)
    database = hub_run.one("aws:rds/instance:Instance")
    assert environment == {
        "REPORTS_BUCKET": _server(hub_run, "aws:s3/bucket:Bucket", "output-bucket").outputs[
            "bucket"
        ],
        "REPORTS_KEY_ARN": _key_arn(hub_run, "reports-objects"),
        "REPORTS_DIRECTORY": "/opt/report-runner/app/reports",
        "DATABASE_SECRET_ARN": hub_run.exports["reportingDatabaseSecretArn"],
        "DATABASE_HOST": database.outputs["address"],
        "DATABASE_PORT": "1433",
        "DATABASE_NAME": config.loader.database_name,
        "DATABASE_SCHEDULE": environment["DATABASE_SCHEDULE"],
        "ALERT_TOPIC_ARN": hub_run.exports["alertTopicArn"],
        "REPORT_SENDER": config.reports.sender,
        "LINK_EXPIRY_HOURS": str(config.reports.link_expiry_hours),
        "CATCH_UP_DAYS": str(config.reports.catch_up_days),
        "AWS_REGION": config.deployment.account.region,
        "AWS_DEFAULT_REGION": config.deployment.account.region,
    }
    assert json.loads(environment["DATABASE_SCHEDULE"])["name"] == config.deployment.schedule
    commands = _commands(hub_run)
    assert commands[-1] == "systemctl enable --now report-runner.timer"
    assert any("pip install --no-index --find-links" in c for c in commands)


def test_the_network_lets_the_server_install_and_send(hub_run: StackRun):
    endpoints = {e.inputs["serviceName"]: e for e in hub_run.of_type(ENDPOINT)}
    email = endpoints["com.amazonaws.eu-west-2.email"]
    assert email.inputs["vpcEndpointType"] == "Interface"
    assert json.loads(email.inputs["policy"])["Statement"][0]["Action"] == ["ses:SendEmail"]
    s3 = json.loads(endpoints["com.amazonaws.eu-west-2.s3"].inputs["policy"])["Statement"]
    assert [s["Resource"] for s in s3 if s["Sid"] == "ReadAwsPackageRepositories"] == [
        ["arn:aws:s3:::al2023-repos-eu-west-2-de612dc2/*"]
    ]


@pytest.fixture(scope="module")
def hub_without_reports() -> StackRun:
    config = detached_hub_config("dev")
    config["reporting:reports"] = "{}"
    return run_stack("dev", config=config)


def test_a_hub_without_reports_has_no_server_bucket_or_extra_access(hub_without_reports, estates):
    run = hub_without_reports
    assert not [r for r in run.resources if r.name.startswith(SERVER) or "reports" in r.type]
    with_server = estates["dev"].first_hub
    assert len(run.of_type(INSTANCE)) == len(with_server.of_type(INSTANCE)) - 1
    services = {e.inputs["serviceName"] for e in run.of_type(ENDPOINT)}
    assert "com.amazonaws.eu-west-2.email" not in services
    # The repositories stay readable: the access host and the bastion are patched from them.
    (gateway,) = [e for e in run.of_type(ENDPOINT) if e.inputs["vpcEndpointType"] == "Gateway"]
    assert "al2023-repos-eu-west-2-de612dc2" in gateway.inputs["policy"]
    assert len(run.of_type("aws:s3/bucket:Bucket")) == 1


def test_the_bundle_holds_the_runner_its_requirements_and_the_definitions(tmp_path: Path):
    files = bundle_files()
    assert "functions/report_runner/__main__.py" in files
    assert "functions/loader/database.py" in files
    assert "functions/working_hours/database_hours.py" in files
    assert "functions/report_runner/requirements.txt" in files
    assert {name for name in files if name.startswith("reports/")} == {
        f"reports/{d.name}.yaml" for d in load_definitions(DEFINITIONS_DIR)
    }
    assert not [name for name in files if "__pycache__" in name or name.startswith("tests/")]
    # A changed definition is a new key (so new user data, and a new server).
    project = tmp_path / "project"
    for name, path in files.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_bytes(path.read_bytes())
    assert bundle_key(bundle_files(project)) == bundle_key(files)
    definition = next(project.joinpath("reports").glob("*.yaml"))
    definition.write_text(definition.read_text() + "# edited\n")
    assert bundle_key(bundle_files(project)) != bundle_key(files)
