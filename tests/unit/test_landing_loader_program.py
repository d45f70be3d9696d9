"""The landing loader's infrastructure in the hub (Example 1), from mocked runs of the real
program with Pulumi.dev/prod.yaml."""

from __future__ import annotations

import json

from stack_helpers import parsed_config

from offline.engine import StackRun


def _loaders(run: StackRun, typ: str):
    """The one resource of `typ` the landing loader owns (other functions have their own)."""
    (found,) = [r for r in run.of_type(typ) if r.name.startswith("reporting-loader-")]
    return found


def _named(run: StackRun, typ: str, name: str):
    (found,) = [r for r in run.of_type(typ) if r.name == name]
    return found


def _key_arn(run: StackRun, purpose: str) -> str:
    return _named(run, "aws:kms/key:Key", f"reporting-{purpose}-key").outputs["arn"]


def test_function_runs_in_the_app_tier_with_configured_size_and_layers(hub_run: StackRun):
    settings = parsed_config(hub_run.stack).loader
    function = _loaders(hub_run, "aws:lambda/function:Function")
    inputs = function.inputs
    assert inputs["name"] == f"reporting-{hub_run.stack}-landing-loader"
    assert inputs["handler"] == "functions.loader.handler.lambda_handler"
    assert inputs["runtime"] == "python3.12"
    assert inputs["architectures"] == [settings.architecture]
    assert inputs["layers"] == [settings.powertools_layer_arn, settings.odbc_layer_arn]
    assert (inputs["memorySize"], inputs["timeout"]) == (
        settings.memory_mb,
        settings.timeout_seconds,
    )
    assert inputs.get("reservedConcurrentExecutions") == settings.reserved_concurrency
    app_subnets = {
        s.id for s in hub_run.of_type("aws:ec2/subnet:Subnet") if s.inputs["tags"]["Tier"] == "app"
    }
    assert set(inputs["vpcConfig"]["subnetIds"]) == app_subnets
    loader_group = _named(hub_run, "aws:ec2/securityGroup:SecurityGroup", "reporting-loader-sg")
    assert inputs["vpcConfig"]["securityGroupIds"] == [loader_group.id]


def test_function_is_told_where_everything_is_but_holds_no_secret(hub_run: StackRun):
    variables = _loaders(hub_run, "aws:lambda/function:Function").inputs["environment"]["variables"]
    database = hub_run.one("aws:rds/instance:Instance")
    assert variables["LANDING_BUCKET"] == hub_run.exports["landingBucketName"]
    assert variables["DATABASE_HOST"] == database.outputs["address"]
    assert variables["DATABASE_PORT"] == "1433"
    assert variables["DATABASE_NAME"] == parsed_config(hub_run.stack).loader.database_name
    assert variables["DATABASE_SECRET_ARN"] == hub_run.exports["reportingDatabaseSecretArn"]
    assert variables["ALERT_TOPIC_ARN"] == hub_run.one("aws:sns/topic:Topic").outputs["arn"]
    # The ODBC layer's driver registry and the RDS CA bundle the driver verifies TLS against.
    assert (variables["ODBCSYSINI"], variables["SSL_CERT_FILE"]) == (
        "/opt/etc",
        "/opt/etc/rds-ca-bundle.pem",
    )
    assert not [name for name in variables if "PASSWORD" in name]


def test_function_package_holds_its_code_the_shared_catalog_and_nothing_else(hub_run: StackRun):
    files = set(_loaders(hub_run, "aws:lambda/function:Function").inputs["code"].assets)
    assert {
        "functions/__init__.py",
        "functions/loader/handler.py",
        "functions/catalog/__init__.py",
        "functions/working_hours/working_time.py",
        "catalog.json",
        "holidays/__init__.py",
    } <= files
    # Its own code, the catalog, the database's working hours and the holidays library they
    # need (the Lambda runtime has none of it), with its licences.
    vendored = ("holidays", "dateutil/", "six.py", "python_dateutil-", "six-")
    assert all(
        name == "catalog.json"
        or name.startswith(
            (
                "functions/loader/",
                "functions/catalog/",
                "functions/working_hours/",
                "functions/__init__",
                *vendored,
            )
        )
        for name in files
    ), sorted(f for f in files if f.startswith("functions/"))
    assert not [name for name in files if "__pycache__" in name or name.startswith("tests/")]


def test_the_catalog_shipped_is_every_platforms_validated_document(hub_run: StackRun):
    bundle = json.loads(
        _loaders(hub_run, "aws:lambda/function:Function").inputs["code"].assets["catalog.json"].text
    )
    assert sorted(bundle) == ["languages", "maths", "reading", "science"]
    assert all(document["platform"] == platform for platform, document in bundle.items())


def test_only_new_files_under_incoming_trigger_the_loader_after_s3_may_invoke_it(hub_run: StackRun):
    function = _loaders(hub_run, "aws:lambda/function:Function")
    permission = _loaders(hub_run, "aws:lambda/permission:Permission")
    notification = _loaders(hub_run, "aws:s3/bucketNotification:BucketNotification")
    assert permission.inputs["principal"] == "s3.amazonaws.com"
    assert permission.inputs["sourceArn"] == hub_run.exports["landingBucketArn"]
    assert (
        permission.inputs["sourceAccount"]
        == parsed_config(hub_run.stack).deployment.account.account_id
    )
    (target,) = notification.inputs["lambdaFunctions"]
    assert target == {
        "lambdaFunctionArn": function.outputs["arn"],
        "events": ["s3:ObjectCreated:*"],
        "filterPrefix": "incoming/",
    }
    assert notification.inputs["bucket"] == hub_run.exports["landingBucketName"]
    assert permission.urn in notification.depends_on


def test_role_can_be_assumed_only_by_lambda_for_this_account(hub_run: StackRun):
    account = parsed_config(hub_run.stack).deployment.account.account_id
    role = _loaders(hub_run, "aws:iam/role:Role")
    (statement,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert statement["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": account}}


def test_role_policy_is_least_privilege(hub_run: StackRun):
    bucket = hub_run.exports["landingBucketArn"]
    statements = {
        s["Sid"]: s
        for s in json.loads(_loaders(hub_run, "aws:iam/rolePolicy:RolePolicy").inputs["policy"])[
            "Statement"
        ]
    }
    assert statements["ReadAndRemoveIncomingFiles"]["Resource"] == f"{bucket}/incoming/*"
    # Listing (names only) is what makes S3 answer 404 rather than 403 for a moved object.
    assert statements["TellMissingObjectsFromDenied"] == {
        "Sid": "TellMissingObjectsFromDenied",
        "Effect": "Allow",
        "Action": ["s3:ListBucket", "s3:ListBucketVersions"],
        "Resource": bucket,
    }
    assert statements["WriteArchiveAndQuarantine"]["Resource"] == [
        f"{bucket}/archive/*",
        f"{bucket}/quarantine/*",
    ]
    assert statements["WriteArchiveAndQuarantine"]["Action"] == [
        "s3:PutObject",
        "s3:PutObjectTagging",
    ]
    # The bucket is versioned: moving a file out of incoming/ deletes its version.
    assert "s3:DeleteObjectVersion" in statements["ReadAndRemoveIncomingFiles"]["Action"]
    assert (
        statements["ReadTheDatabaseSecret"]["Resource"]
        == hub_run.exports["reportingDatabaseSecretArn"]
    )
    assert statements["UseTheLandingKeyThroughS3"]["Resource"] == _key_arn(hub_run, "storage")
    assert statements["DecryptTheDatabaseSecret"]["Resource"] == _key_arn(hub_run, "database")
    log_group = _loaders(hub_run, "aws:cloudwatch/logGroup:LogGroup")
    assert statements["WriteOwnLogs"]["Resource"] == f"{log_group.outputs['arn']}:*"
    wildcard = [sid for sid, s in statements.items() if s["Resource"] == "*" or "*" in s["Action"]]
    assert wildcard == ["RunInsideTheVpc"]
    assert statements["RunInsideTheVpc"]["Action"] == [
        "ec2:AssignPrivateIpAddresses",
        "ec2:CreateNetworkInterface",
        "ec2:DeleteNetworkInterface",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSubnets",
        "ec2:UnassignPrivateIpAddresses",
    ]


def test_loader_network_reaches_only_the_database_s3_and_api_endpoints(hub_run: StackRun):
    group = _named(hub_run, "aws:ec2/securityGroup:SecurityGroup", "reporting-loader-sg")
    endpoints_group = _named(
        hub_run, "aws:ec2/securityGroup:SecurityGroup", "reporting-network-endpoints-sg"
    )
    (gateway,) = [
        e
        for e in hub_run.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
        if e.inputs["vpcEndpointType"] == "Gateway"
    ]
    data_cidrs = sorted(
        s.inputs["cidrBlock"]
        for s in hub_run.of_type("aws:ec2/subnet:Subnet")
        if s.inputs["tags"]["Tier"] == "data"
    )
    assert group.inputs["ingress"] == []
    database, s3, apis = group.inputs["egress"]
    assert (database["fromPort"], sorted(database["cidrBlocks"])) == (1433, data_cidrs)
    assert (s3["fromPort"], s3["prefixListIds"]) == (443, [gateway.outputs["prefixListId"]])
    assert (apis["fromPort"], apis["securityGroups"]) == (443, [endpoints_group.id])


def test_aws_apis_are_reached_through_private_endpoints(hub_run: StackRun):
    interface = {
        e.inputs["serviceName"]: e
        for e in hub_run.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
        if e.inputs["vpcEndpointType"] == "Interface"
    }
    # The functions' two, Session Manager's for the access host, and with a report server the
    # SES API.
    services = ["ec2messages", "kms", "logs", "secretsmanager", "sns", "ssm", "ssmmessages"]
    if parsed_config(hub_run.stack).reports:
        services.append("email")
    assert sorted(interface) == sorted(f"com.amazonaws.eu-west-2.{s}" for s in services)
    app_subnets = {
        s.id for s in hub_run.of_type("aws:ec2/subnet:Subnet") if s.inputs["tags"]["Tier"] == "app"
    }
    for endpoint in interface.values():
        assert endpoint.inputs["privateDnsEnabled"] is True
        assert set(endpoint.inputs["subnetIds"]) == app_subnets


def test_async_failures_land_in_an_encrypted_queue(hub_run: StackRun):
    queue = _loaders(hub_run, "aws:sqs/queue:Queue")
    invoke_config = _loaders(
        hub_run, "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"
    )
    assert queue.inputs["kmsMasterKeyId"] == _key_arn(hub_run, "operations")
    assert invoke_config.inputs["destinationConfig"] == {
        "onFailure": {"destination": queue.outputs["arn"]}
    }
    assert invoke_config.inputs["maximumRetryAttempts"] == 2


def test_logs_are_encrypted_and_expire(hub_run: StackRun):
    settings = parsed_config(hub_run.stack).loader
    log_group = _loaders(hub_run, "aws:cloudwatch/logGroup:LogGroup")
    function = _loaders(hub_run, "aws:lambda/function:Function")
    assert log_group.inputs["name"] == f"/aws/lambda/{function.inputs['name']}"
    assert log_group.inputs["retentionInDays"] == settings.log_retention_days
    assert log_group.inputs["kmsKeyId"] == _key_arn(hub_run, "operations")
    assert function.inputs["loggingConfig"] == {
        "logFormat": "JSON",
        "logGroup": log_group.outputs["name"],
    }


def test_errors_and_queued_failures_alarm_to_the_encrypted_topic(hub_run: StackRun):
    topic = hub_run.one("aws:sns/topic:Topic")
    assert topic.inputs["kmsMasterKeyId"] == _key_arn(hub_run, "operations")
    alarms = {
        a.inputs["metricName"]: a.inputs
        for a in hub_run.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
        if a.name.startswith("reporting-loader-")
    }
    assert alarms["Errors"]["dimensions"] == {
        "FunctionName": _loaders(hub_run, "aws:lambda/function:Function").outputs["name"]
    }
    assert alarms["ApproximateNumberOfMessagesVisible"]["dimensions"] == {
        "QueueName": _loaders(hub_run, "aws:sqs/queue:Queue").outputs["name"]
    }
    for alarm in alarms.values():
        assert (alarm["threshold"], alarm["comparisonOperator"]) == (0, "GreaterThanThreshold")
        assert alarm["alarmActions"] == alarm["okActions"] == [topic.outputs["arn"]]
    policy = json.loads(hub_run.one("aws:sns/topicPolicy:TopicPolicy").inputs["policy"])
    sids = {s["Sid"]: s for s in policy["Statement"]}
    assert sids["DenyInsecureTransport"]["Effect"] == "Deny"
    assert sids["CloudWatchAlarmsOfThisAccount"]["Principal"] == {
        "Service": "cloudwatch.amazonaws.com"
    }


def test_a_failed_merge_raises_an_alarm_from_the_handlers_log_line(hub_run: StackRun):
    from components.landing_loader import MERGE_FAILED_PATTERN
    from functions.loader.handler import MERGE_FAILED_MESSAGE

    (metric_filter,) = hub_run.of_type("aws:cloudwatch/logMetricFilter:LogMetricFilter")
    log_group = _loaders(hub_run, "aws:cloudwatch/logGroup:LogGroup")
    assert metric_filter.inputs["logGroupName"] == log_group.outputs["name"]
    assert f'$.message = "{MERGE_FAILED_MESSAGE}"' in MERGE_FAILED_PATTERN
    assert metric_filter.inputs["pattern"] == MERGE_FAILED_PATTERN
    metric = metric_filter.inputs["metricTransformation"]
    (alarm,) = [
        a
        for a in hub_run.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
        if a.inputs["metricName"] == metric["name"]
    ]
    assert (alarm.inputs["namespace"], alarm.inputs["threshold"]) == (metric["namespace"], 0)
