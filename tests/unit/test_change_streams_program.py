"""Example 2 under mocks: what the spoke creates in each pipeline mode, and how the hub admits the
spoke's copier. dev-languages runs `pipeline: lambda`, prod-languages `pipeline: native`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from stack_helpers import parsed_config

from offline.engine import StackRun, run_stack
from offline.estate import existing_table, peering_requests, source_tables
from offline.mocks import GET_TABLE, UnknownInvokeError
from offline.stack_files import PROJECT_DIR, engine_config
from stack_config import ConfigError

FUNCTION = "aws:lambda/function:Function"
MAPPING = "aws:lambda/eventSourceMapping:EventSourceMapping"
KINESIS = "aws:kinesis/stream:Stream"
FIREHOSE = "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream"
DESTINATION = "aws:dynamodb/kinesisStreamingDestination:KinesisStreamingDestination"
QUEUE = "aws:sqs/queue:Queue"
TABLE = "languages-lesson-progress"
LAMBDA_STACK, NATIVE_STACK = "dev-languages", "prod-languages"


@pytest.fixture
def lambda_run(estates) -> StackRun:
    return estates["dev"].spokes[LAMBDA_STACK]


@pytest.fixture
def native_run(estates) -> StackRun:
    return estates["prod"].spokes[NATIVE_STACK]


def _function(run: StackRun, role: str):
    (function,) = [f for f in run.of_type(FUNCTION) if f.inputs["name"].endswith(role)]
    return function


def _policy_of(run: StackRun, function) -> dict:
    (policy,) = [
        p
        for p in run.of_type("aws:iam/rolePolicy:RolePolicy")
        if p.parent == function.parent and "-policy" in p.name
    ]
    return json.loads(policy.inputs["policy"])


def _queue_of(run: StackRun, function):
    (queue,) = [q for q in run.of_type(QUEUE) if q.parent == function.parent]
    return queue


def test_every_pipeline_resource_is_in_the_platform_account(lambda_run, native_run):
    for run in (lambda_run, native_run):
        account = parsed_config(run.stack).deployment.account.account_id
        pipeline = [r for r in run.aws_resources() if "-streams" in r.name]
        assert len(pipeline) > 30
        assert {run.account_of(r) for r in pipeline} == {account}


def test_lambda_mode_reads_the_tables_stream_found_in_the_platform_account(lambda_run):
    (lookup,) = [i for i in lambda_run.invocations if i.token == GET_TABLE]
    assert lookup.args["name"] == TABLE
    assert "languages-aws" in lookup.provider
    forwarder = _function(lambda_run, "stream-forwarder")
    (mapping,) = [m for m in lambda_run.of_type(MAPPING) if m.name.endswith("-changes")]
    arn = f"arn:aws:dynamodb:eu-west-2:444400000001:table/{TABLE}"
    assert mapping.inputs["eventSourceArn"] == existing_table(arn, TABLE)["streamArn"]
    assert mapping.inputs["functionName"] == forwarder.outputs["arn"]


@pytest.mark.parametrize("suffix", ["-changes", "-envelopes"])
def test_stream_mappings_report_partial_failures_and_give_up_into_the_failure_queue(
    lambda_run, suffix
):
    functions = parsed_config(LAMBDA_STACK).change_streams.functions
    (mapping,) = [m for m in lambda_run.of_type(MAPPING) if m.name.endswith(suffix)]
    function = next(
        f
        for f in lambda_run.of_type(FUNCTION)
        if f.outputs["arn"] == mapping.inputs["functionName"]
    )
    assert mapping.inputs["functionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping.inputs["bisectBatchOnFunctionError"] is True
    assert mapping.inputs["startingPosition"] == "TRIM_HORIZON"
    assert mapping.inputs["batchSize"] == functions.batch_size
    assert mapping.inputs["maximumRetryAttempts"] == functions.maximum_retry_attempts
    assert mapping.inputs["maximumRecordAgeInSeconds"] == functions.maximum_record_age_seconds
    queue = _queue_of(lambda_run, function)
    assert mapping.inputs["destinationConfig"] == {
        "onFailure": {"destinationArn": queue.outputs["arn"]}
    }
    grants = _policy_of(lambda_run, function)["Statement"]
    assert {
        "Sid": "SendFailureRecords",
        "Effect": "Allow",
        "Action": "sqs:SendMessage",
        "Resource": queue.outputs["arn"],
    } in grants


def test_the_functions_learn_their_routes_from_the_environment(lambda_run):
    kinesis = lambda_run.one(KINESIS)
    firehose = lambda_run.one(FIREHOSE)
    forwarder = _function(lambda_run, "stream-forwarder")
    writer = _function(lambda_run, "firehose-writer")
    routes = json.loads(forwarder.inputs["environment"]["variables"]["STREAM_ROUTES"])
    assert routes == {
        TABLE: {"dataset": "languages/lesson_progress", "stream": kinesis.outputs["name"]}
    }
    deliveries = json.loads(writer.inputs["environment"]["variables"]["DELIVERY_ROUTES"])
    assert deliveries == {kinesis.outputs["name"]: firehose.outputs["name"]}
    # Only the forwarder parks poison records itself, in its own failure queue.
    variables = forwarder.inputs["environment"]["variables"]
    assert variables["DEAD_LETTER_QUEUE_URL"] == _queue_of(lambda_run, forwarder).outputs["url"]
    assert "DEAD_LETTER_QUEUE_URL" not in writer.inputs["environment"]["variables"]
    assert forwarder.inputs["handler"] == "functions.stream_forwarder.handler.lambda_handler"
    assert writer.inputs["handler"] == "functions.firehose_writer.handler.lambda_handler"


def test_forwarder_and_writer_touch_only_their_streams(lambda_run):
    kinesis = lambda_run.one(KINESIS).outputs["arn"]
    firehose = lambda_run.one(FIREHOSE).outputs["arn"]
    forwarder = {
        s["Sid"]: s
        for s in _policy_of(lambda_run, _function(lambda_run, "stream-forwarder"))["Statement"]
    }
    writer = {
        s["Sid"]: s
        for s in _policy_of(lambda_run, _function(lambda_run, "firehose-writer"))["Statement"]
    }
    assert forwarder["PutIntoTheKinesisStreams"]["Resource"] == [kinesis]
    assert forwarder["ReadTheTableStreams"]["Resource"][0].endswith(
        f"table/{TABLE}/stream/2026-01-05T09:00:00.000"
    )
    assert writer["ReadTheKinesisStreams"]["Resource"] == [kinesis]
    assert writer["PutIntoTheDeliveryStreams"]["Resource"] == [firehose]
    for statements in (forwarder, writer):
        for statement in statements.values():
            if statement["Resource"] == "*":
                assert statement["Action"] == "kinesis:ListStreams"


def test_native_mode_has_no_forwarder_or_writer_and_streams_from_the_table(native_run):
    names = [f.inputs["name"] for f in native_run.of_type(FUNCTION)]
    assert names == ["reporting-prod-languages-cross-account-copier"]
    assert native_run.of_type(MAPPING) == []
    assert [i for i in native_run.invocations if i.token == GET_TABLE] == []
    destination = native_run.one(DESTINATION)
    kinesis = native_run.one(KINESIS)
    assert destination.inputs == {
        "tableName": TABLE,
        "streamArn": kinesis.outputs["arn"],
        "approximateCreationDateTimePrecision": "MICROSECOND",
    }
    firehose = native_run.one(FIREHOSE)
    assert (
        firehose.inputs["kinesisSourceConfiguration"]["kinesisStreamArn"] == kinesis.outputs["arn"]
    )
    s3 = firehose.inputs["extendedS3Configuration"]
    assert s3["processingConfiguration"] == {
        "enabled": True,
        "processors": [{"type": "AppendDelimiterToRecord"}],
    }
    assert s3["prefix"] == "records/lesson_progress/!{timestamp:yyyy/MM/dd/HH}/"


@pytest.mark.parametrize("stack", [LAMBDA_STACK, NATIVE_STACK])
def test_kinesis_and_firehose_are_encrypted_and_buffer_as_configured(estates, stack):
    run = estates[stack.split("-")[0]].spokes[stack]
    settings = parsed_config(stack).change_streams
    (key,) = [k for k in run.of_type("aws:kms/key:Key") if "streams" in k.name]
    kinesis = run.one(KINESIS)
    assert (kinesis.inputs["encryptionType"], kinesis.inputs["kmsKeyId"]) == (
        "KMS",
        key.outputs["arn"],
    )
    assert kinesis.inputs["streamModeDetails"] == {"streamMode": "ON_DEMAND"}
    assert kinesis.inputs["retentionPeriod"] == settings.kinesis_retention_hours
    firehose = run.one(FIREHOSE)
    s3 = firehose.inputs["extendedS3Configuration"]
    assert s3["kmsKeyArn"] == key.outputs["arn"]
    assert s3["compressionFormat"] == "GZIP"
    assert (s3["bufferingInterval"], s3["bufferingSize"]) == (
        settings.firehose_buffer_seconds,
        settings.firehose_buffer_mb,
    )
    assert s3["errorOutputPrefix"].startswith("errors/lesson_progress/")
    assert s3["cloudwatchLoggingOptions"]["enabled"] is True
    if settings.pipeline == "lambda":
        assert firehose.inputs["serverSideEncryption"] == {
            "enabled": True,
            "keyType": "CUSTOMER_MANAGED_CMK",
            "keyArn": key.outputs["arn"],
        }
        assert s3["prefix"] == "envelopes/lesson_progress/!{timestamp:yyyy/MM/dd/HH}/"


@pytest.mark.parametrize("stack", [LAMBDA_STACK, NATIVE_STACK])
def test_the_copier_runs_in_the_vpc_and_reaches_only_s3_through_the_endpoint(estates, stack):
    environment = stack.split("-")[0]
    run = estates[environment].spokes[stack]
    hub = estates[environment].first_hub.exports
    copier = _function(run, "cross-account-copier")
    replica_subnets = sorted(s.id for s in run.of_type("aws:ec2/subnet:Subnet"))
    assert sorted(copier.inputs["vpcConfig"]["subnetIds"]) == replica_subnets
    endpoint = run.one("aws:ec2/vpcEndpoint:VpcEndpoint")
    (group,) = [g for g in run.of_type("aws:ec2/securityGroup:SecurityGroup") if "copier" in g.name]
    assert copier.inputs["vpcConfig"]["securityGroupIds"] == [group.id]
    assert group.inputs["ingress"] == []
    assert [(r["prefixListIds"], r["fromPort"]) for r in group.inputs["egress"]] == [
        ([endpoint.outputs["prefixListId"]], 443)
    ]
    assert endpoint.inputs["routeTableIds"] == [run.one("aws:ec2/routeTable:RouteTable").id]
    environment_variables = copier.inputs["environment"]["variables"]
    assert {
        k: environment_variables[k]
        for k in ("LANDING_BUCKET", "LANDING_ACCOUNT_ID", "LANDING_KEY_ARN", "PLATFORM")
    } == {
        "LANDING_BUCKET": hub["landingBucketName"],
        "LANDING_ACCOUNT_ID": hub["accountId"],
        "LANDING_KEY_ARN": hub["landingKeyArn"],
        "PLATFORM": "languages",
    }


def test_the_endpoint_admits_only_the_two_buckets_of_their_two_accounts(lambda_run, estates):
    hub = estates["dev"].first_hub.exports
    staging = next(b for b in lambda_run.of_type("aws:s3/bucket:Bucket") if "staging" in b.name)
    (statement,) = json.loads(lambda_run.one("aws:ec2/vpcEndpoint:VpcEndpoint").inputs["policy"])[
        "Statement"
    ]
    buckets = sorted([staging.outputs["arn"], hub["landingBucketArn"]])
    assert statement["Resource"] == [*buckets, *(f"{b}/*" for b in buckets)]
    assert statement["Condition"] == {
        "StringEquals": {"aws:ResourceAccount": sorted(["444400000001", hub["accountId"]])}
    }
    assert "s3:DeleteObject" not in statement["Action"]


def test_the_copier_writes_only_under_its_platforms_landing_prefix(lambda_run, estates):
    hub = estates["dev"].first_hub.exports
    statements = {
        s["Sid"]: s
        for s in _policy_of(lambda_run, _function(lambda_run, "cross-account-copier"))["Statement"]
    }
    assert statements["WriteThePlatformsLandingPrefix"]["Resource"] == (
        f"{hub['landingBucketArn']}/incoming/languages/*"
    )
    assert statements["EncryptWithTheLandingKey"]["Resource"] == hub["landingKeyArn"]
    staging_reads = statements["ReadStagedFiles"]["Resource"]
    assert [r.rsplit("/", 1)[0].split(":::")[1].split("/", 1)[1] for r in staging_reads] == [
        "envelopes",
        "records",
    ]


def test_the_staging_bucket_triggers_the_copier_and_expires_as_configured(native_run):
    days = parsed_config(NATIVE_STACK).change_streams.staging_expiry_days
    copier = _function(native_run, "cross-account-copier")
    notification = native_run.one("aws:s3/bucketNotification:BucketNotification")
    assert [
        (n["filterPrefix"], n["lambdaFunctionArn"]) for n in notification.inputs["lambdaFunctions"]
    ] == [
        ("envelopes/", copier.outputs["arn"]),
        ("records/", copier.outputs["arn"]),
    ]
    lifecycle = native_run.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
    expiring = {
        r["filter"].get("prefix"): r.get("expiration", {}).get("days")
        for r in lifecycle.inputs["rules"]
    }
    assert expiring == {"envelopes/": days, "records/": days, "errors/": days, None: None}
    invoke_config = native_run.one("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig")
    assert invoke_config.inputs["maximumRetryAttempts"] == 2
    assert (
        invoke_config.inputs["destinationConfig"]["onFailure"]["destination"]
        == _queue_of(native_run, copier).outputs["arn"]
    )


def test_alarms_watch_iterator_age_delivery_failures_errors_and_failure_queues(
    lambda_run, native_run
):
    def alarms(run):
        return {
            (a.inputs["namespace"], a.inputs["metricName"], a.inputs["threshold"])
            for a in run.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
            if "-streams" in a.name
        }

    half_day_ms = 12 * 3600 * 1000
    assert alarms(lambda_run) == {
        ("AWS/Lambda", "Errors", 0),
        ("AWS/Lambda", "Throttles", 0),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible", 0),
        ("AWS/Lambda", "IteratorAge", half_day_ms),
        ("AWS/Firehose", "DeliveryToS3.DataFreshness", 60 + 900),
        ("AWS/Firehose", "DeliveryToS3.Success", 1),
    }
    assert ("AWS/Kinesis", "GetRecords.IteratorAgeMilliseconds", half_day_ms) in alarms(native_run)
    topic = lambda_run.one("aws:sns/topic:Topic")
    for alarm in lambda_run.of_type("aws:cloudwatch/metricAlarm:MetricAlarm"):
        if "-streams" in alarm.name:
            assert alarm.inputs["alarmActions"] == [topic.outputs["arn"]]


def _landing_policy(hub: StackRun):
    """The landing bucket's policy (the report server's bucket has one too)."""
    (policy,) = [p for p in hub.of_type("aws:s3/bucketPolicy:BucketPolicy") if "landing" in p.name]
    return policy


def _admitted(hub: StackRun, spoke: dict) -> None:
    """The hub's landing bucket and key admit the spoke's copier, and only as they should."""
    policy = json.loads(_landing_policy(hub).inputs["policy"])
    copier = [
        s for s in policy["Statement"] if s.get("Principal") == {"AWS": spoke["copierRoleArn"]}
    ]
    bucket = hub.exports["landingBucketArn"]
    endpoint = spoke["copierEndpointId"]
    assert [(s["Effect"], s["Resource"], s["Condition"]) for s in copier] == [
        ("Allow", f"{bucket}/incoming/languages/*", {"StringEquals": {"aws:SourceVpce": endpoint}}),
        ("Deny", [bucket, f"{bucket}/*"], {"StringNotEquals": {"aws:SourceVpce": endpoint}}),
    ]
    assert "s3:DeleteObject" not in copier[0]["Action"]
    (storage_key,) = [k for k in hub.of_type("aws:kms/key:Key") if "storage" in k.name]
    key_statements = json.loads(storage_key.inputs["policy"])["Statement"]
    (grant,) = [s for s in key_statements if s["Sid"] == "PlatformCopiersEncryptThroughS3"]
    assert grant["Principal"] == {"AWS": [spoke["copierRoleArn"]]}
    assert grant["Condition"] == {
        "StringEquals": {
            "kms:CallerAccount": [spoke["accountId"]],
            "kms:ViaService": "s3.eu-west-2.amazonaws.com",
        }
    }


def test_the_hub_admits_the_copier_only_through_its_endpoint(estates):
    _admitted(estates["dev"].hub, estates["dev"].first_spokes[LAMBDA_STACK].exports)


def _attached_prod_hub(estates, languages_exports: dict) -> StackRun:
    """The prod hub with languages attached (its sample file leaves it detached)."""
    estate = estates["prod"]
    config = _with_platforms(
        engine_config("prod"),
        lambda p: {**p, "attached": p["attached"] or p["name"] == "languages"},
    )
    references = {
        f"example-edu/reporting/{stack}": run.exports for stack, run in estate.first_spokes.items()
    }
    references["example-edu/reporting/prod-languages"] = languages_exports
    return run_stack(
        "prod", references, config=config, peering_connections=peering_requests(estate.first_spokes)
    )


def _with_platforms(config: dict, change) -> dict:
    platforms = json.loads(config["reporting:platforms"])
    return {**config, "reporting:platforms": json.dumps([change(p) for p in platforms])}


def test_a_hub_admits_a_native_mode_copier_the_same_way(estates):
    spoke = estates["prod"].first_spokes[NATIVE_STACK].exports
    _admitted(_attached_prod_hub(estates, spoke), spoke)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            {"copierRoleArn": "arn:aws:iam::999900000001:role/copier"},
            "is a role of account 999900000001, not of the platform's account 444400000002",
        ),
        (
            {"copierEndpointId": "vpce-nope"},
            "copierEndpointId 'vpce-nope' is not a VPC endpoint id",
        ),
    ],
)
def test_a_hub_refuses_a_copier_that_cannot_be_the_platforms(estates, change, problem):
    spoke = {**estates["prod"].first_spokes[NATIVE_STACK].exports, **change}
    with pytest.raises(
        ValueError, match="platform 'languages': refusing to admit its copier"
    ) as caught:
        _attached_prod_hub(estates, spoke)
    assert problem in str(caught.value)


def test_a_hub_without_streaming_platforms_admits_no_copier(estates):
    # prod-languages streams, but the prod hub does not attach it yet.
    hub = estates["prod"].hub
    policy = json.loads(_landing_policy(hub).inputs["policy"])
    assert all(s["Principal"] == "*" for s in policy["Statement"])
    (storage_key,) = [k for k in hub.of_type("aws:kms/key:Key") if "storage" in k.name]
    assert "PlatformCopiersEncryptThroughS3" not in storage_key.inputs["policy"]


def test_spokes_without_change_streams_export_empty_copier_outputs(estates):
    maths = estates["dev"].spokes["dev-maths"].exports
    assert (maths["copierRoleArn"], maths["copierEndpointId"]) == ("", "")
    assert estates["dev"].spokes["dev-maths"].of_type(KINESIS) == []


def _run_languages(estates, tables):
    return run_stack(
        LAMBDA_STACK,
        {"example-edu/reporting/dev": estates["dev"].first_hub.exports},
        dynamodb_tables=tables,
    )


def test_a_table_without_a_stream_of_new_images_stops_the_deployment(estates):
    arn = f"arn:aws:dynamodb:eu-west-2:444400000001:table/{TABLE}"
    for view_type in (None, "KEYS_ONLY", "OLD_IMAGE"):
        with pytest.raises(ValueError, match="has no stream of new images") as caught:
            _run_languages(
                estates, {f"444400000001/{TABLE}": existing_table(arn, TABLE, view_type)}
            )
        assert "aws dynamodb update-table --table-name languages-lesson-progress" in str(
            caught.value
        )


def test_a_missing_table_stops_the_deployment(estates):
    with pytest.raises(
        UnknownInvokeError, match=f"no DynamoDB table {TABLE} in account 444400000001"
    ):
        _run_languages(estates, {})


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for name in ("Pulumi.yaml", "Pulumi.dev-languages.yaml", "__main__.py"):
        shutil.copy(PROJECT_DIR / name, tmp_path / name)
    shutil.copytree(PROJECT_DIR / "datasets", tmp_path / "datasets")
    return tmp_path


@pytest.mark.parametrize(
    ("written", "problem"),
    [
        ("dataset: lessons", "datasets/languages.yaml declares no dataset 'lessons'"),
        (
            "dataset: learners",
            "dataset 'languages/learners' has format 'csv'; "
            "a streamed table needs 'dynamodb-stream'",
        ),
    ],
)
def test_a_streamed_table_must_feed_a_change_stream_dataset_of_the_catalog(
    project, written, problem
):
    stack_file = project / "Pulumi.dev-languages.yaml"
    stack_file.write_text(stack_file.read_text().replace("dataset: lesson_progress", written))
    with pytest.raises(ConfigError) as caught:
        run_stack(LAMBDA_STACK, {"example-edu/reporting/dev": {}}, project_dir=project)
    line = next(
        n for n, text in enumerate(stack_file.read_text().splitlines(), 1) if written in text
    )
    assert str(caught.value) == (
        f"Pulumi.dev-languages.yaml:{line}: reporting:changeStreams.tables[0].dataset: {problem}"
    )


def test_pipeline_mode_is_lambda_or_native(project):
    stack_file = project / "Pulumi.dev-languages.yaml"
    stack_file.write_text(stack_file.read_text().replace("pipeline: lambda", "pipeline: glue"))
    with pytest.raises(ConfigError, match=r"changeStreams.pipeline: must be one of lambda, native"):
        run_stack(LAMBDA_STACK, {"example-edu/reporting/dev": {}}, project_dir=project)


def test_a_hub_in_another_region_stops_the_spoke(estates):
    hub = {**estates["dev"].first_hub.exports, "region": "eu-west-1"}
    with pytest.raises(ValueError, match="is in eu-west-2 and its hub in eu-west-1"):
        run_stack(
            LAMBDA_STACK,
            {"example-edu/reporting/dev": hub},
            dynamodb_tables=source_tables([LAMBDA_STACK]),
        )


def test_the_forwarder_may_decrypt_the_stream_of_a_table_with_its_own_key(estates):
    arn = f"arn:aws:dynamodb:eu-west-2:444400000001:table/{TABLE}"
    key = "arn:aws:kms:eu-west-2:444400000001:key/11111111-2222-4333-a444-555555555555"
    run = _run_languages(
        estates, {f"444400000001/{TABLE}": existing_table(arn, TABLE, key_arn=key)}
    )
    statements = {
        s["Sid"]: s for s in _policy_of(run, _function(run, "stream-forwarder"))["Statement"]
    }
    assert statements["DecryptTheTableStreams"] == {
        "Sid": "DecryptTheTableStreams",
        "Effect": "Allow",
        "Action": "kms:Decrypt",
        "Resource": [key],
    }


def test_a_table_with_dynamodbs_own_key_needs_no_key_grant(lambda_run):
    sids = {
        s["Sid"]
        for s in _policy_of(lambda_run, _function(lambda_run, "stream-forwarder"))["Statement"]
    }
    assert "DecryptTheTableStreams" not in sids
