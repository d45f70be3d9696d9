"""The cost estimate of a small fixed graph, against figures computed by hand from the test's
own price table and volumes (so a refresh of the real table cannot change them)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, time

import pytest

from functions.working_hours.working_time import Period, Schedule
from offline.cost.context import StackSettings
from offline.cost.estimate import estimate
from offline.cost.prices import MissingPriceError, parse_price_table
from offline.cost.volumes import parse_volumes
from offline.mocks import RegisteredResource

# 2025 starts on a Wednesday and has 365 days: 52 weeks and one Wednesday, so 261 weekdays.
EFFECTIVE = date(2025, 1, 1)
WEEKDAYS = 52 * 5 + 1
HOURS_PER_MONTH = 365 * 24 / 12  # 730

PRICES = {
    "rds/instance-hour/postgres/db.t4g.large": 0.151,
    "rds/instance-hour/mysql/db.t4g.medium": 0.074,
    "rds/instance-hour/sqlserver-se/db.m6i.xlarge": 1.52,
    "rds/storage-gb-month/gp3": 0.133,
    "secretsmanager/secret-month": 0.40,
    "secretsmanager/api-calls": 0.05,  # per 10,000
    "lambda/requests": 0.20,  # per 1,000,000
    "lambda/gb-second/x86_64": 0.0000166667,
    "lambda/gb-second/arm64": 0.0000133334,
    "scheduler/invocations": 1.00,  # per 1,000,000
    "s3/standard-gb-month": 0.024,
    "s3/put-requests": 0.0053,  # per 1,000
    "s3/get-requests": 0.00042,  # per 1,000
    "logs/ingested": 0.5985,
    "logs/stored": 0.0315,
    "cloudwatch/alarm-metric-month": 0.10,
    "cloudwatch/custom-metric-month": 0.30,
    "sqs/standard-requests": 0.40,
    "sns/publishes": 0.50,
    "kinesis/on-demand-stream-hour": 0.047,
    "kinesis/on-demand-ingested": 0.094,
    "kinesis/on-demand-retrieved": 0.047,
    "kinesis/shard-hour": 0.0176,
    "kinesis/put-payload-units": 0.0164,
    "firehose/ingested": 0.033,
    "vpc/interface-endpoint-hour": 0.011,
    "vpc/interface-endpoint-data": 0.01,
    "kms/key-month": 1.00,
    "kms/requests": 0.03,  # per 10,000
}
PER = {
    "secretsmanager/api-calls": 10_000,
    "lambda/requests": 1_000_000,
    "scheduler/invocations": 1_000_000,
    "s3/put-requests": 1_000,
    "s3/get-requests": 1_000,
    "sqs/standard-requests": 1_000_000,
    "sns/publishes": 1_000_000,
    "kinesis/put-payload-units": 1_000_000,
    "kms/requests": 10_000,
}
VOLUMES = {
    "s3": {
        "hub": {"storedGb": 100, "putRequests": 10_000, "getRequests": 20_000},
        "spoke": {"storedGb": 1, "putRequests": 1, "getRequests": 1},
        "reports": {"storedGb": 1, "putRequests": 1, "getRequests": 1},
    },
    "lambda": {
        "default": {"invocations": 1_000, "averageMs": 100, "logGb": 0.1},
        "kinds": {
            "loader": {"invocations": 10_000, "averageMs": 5_000, "logGb": 1.0},
            "extractor": {"averageMs": 20_000, "logGb": 0.5},
        },
    },
    "logs": {"otherGroupGb": 0.1, "compressedFraction": 0.15},
    "rds": {"replicaStorageGb": 50},
    "vpcEndpoints": {"gbPerInterfaceEndpoint": 2},
    "kms": {"requestsPerKey": 100_000},
    "secretsManager": {"apiCallsPerSecret": 3_000},
    "sqs": {"requestsPerQueue": 5_000},
    "sns": {"publishesPerTopic": 200},
    "streams": {"recordsPerStream": 1_000_000, "averageRecordKb": 1.0, "readersPerStream": 1},
}
# Weekdays 08:00-18:00 UTC, no holidays: 10 h on each of the 261 weekdays of 2025.
OFFICE = Schedule(
    name="office",
    timezone="UTC",
    periods=(Period(frozenset(range(5)), time(8), time(18)),),
    holidays=None,
    enforced=False,
    maintenance_lead_minutes=0,
)
HUB = StackSettings(role="hub", schedules={"office": OFFICE}, stops_compute=True)


def price_document(prices: dict[str, float] = PRICES) -> dict:
    tree: dict = {}
    for key, usd in prices.items():
        *parents, leaf = key.split("/")
        node = tree
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = {"usd": usd, "per": PER.get(key, 1), "unit": "unit", "source": "page"}
    return {
        "region": "eu-west-2",
        "currency": "USD",
        "effective": EFFECTIVE,
        "sources": {"page": "https://aws.amazon.com/pricing/"},
        "services": {service: service for service in tree},
        "prices": tree,
    }


def resource(
    typ: str, resource_name: str, outputs: dict | None = None, /, **inputs
) -> RegisteredResource:
    """A registration as the mocks record it; `inputs` as the engine names them (camelCase)."""
    return RegisteredResource(
        urn=f"urn:pulumi:test::reporting::{typ}::{resource_name}",
        id=f"{resource_name}-id",
        type=typ,
        name=resource_name,
        parent="",
        provider="",
        custom=True,
        inputs=inputs,
        outputs=outputs or {},
    )


def small_graph() -> list[RegisteredResource]:
    return [
        # Stoppable, on the office schedule.
        resource(
            "aws:rds/instance:Instance",
            "db",
            engine="postgres",
            instanceClass="db.t4g.large",
            allocatedStorage=100.0,
            storageType="gp3",
            multiAz=False,
            tags={"Schedule": "office"},
        ),
        # A replica: always on, engine from its parameter group's family.
        resource(
            "aws:rds/parameterGroup:ParameterGroup",
            "replica-params",
            {"name": "replica-params-1a2b"},
            family="mysql8.0",
        ),
        resource(
            "aws:rds/instance:Instance",
            "replica",
            replicateSourceDb="arn:aws:rds:eu-west-2:222200000001:db:source",
            instanceClass="db.t4g.medium",
            parameterGroupName="replica-params-1a2b",
            tags={"Schedule": "office"},
        ),
        # Invoked by S3 events: invocations from the volumes.
        resource(
            "aws:lambda/function:Function",
            "loader",
            {"arn": "arn:aws:lambda:eu-west-2:1:function:loader"},
            name="loader",
            handler="functions.loader.handler.lambda_handler",
            memorySize=512.0,
            architectures=["arm64"],
        ),
        # Invoked by the schedule below: invocations from its rate.
        resource(
            "aws:lambda/function:Function",
            "extractor",
            {"arn": "arn:aws:lambda:eu-west-2:1:function:extractor"},
            name="extractor",
            handler="functions.extractor.handler.lambda_handler",
            memorySize=1024.0,
        ),
        resource(
            "aws:scheduler/schedule:Schedule",
            "extracts",
            scheduleExpression="rate(15 minutes)",
            target={"arn": "arn:aws:lambda:eu-west-2:1:function:extractor"},
        ),
        resource(
            "aws:ec2/vpcEndpoint:VpcEndpoint",
            "sns-endpoint",
            vpcEndpointType="Interface",
            serviceName="com.amazonaws.eu-west-2.sns",
            subnetIds=["subnet-a", "subnet-b"],
        ),
        resource(
            "aws:ec2/vpcEndpoint:VpcEndpoint",
            "s3-endpoint",
            vpcEndpointType="Gateway",
            serviceName="com.amazonaws.eu-west-2.s3",
        ),
        resource("aws:kms/key:Key", "key", enableKeyRotation=True),
        resource("aws:ec2/subnet:Subnet", "subnet-a"),
        resource("aws:dynamodb/table:Table", "table"),
    ]


def run_estimate(graph, settings=HUB, prices=None):
    table = parse_price_table("test-prices.yaml", prices or price_document())
    return estimate("test", graph, settings, table, parse_volumes("test-volumes.yaml", VOLUMES))


def test_small_graph_costs_what_the_hand_computation_says():
    result = run_estimate(small_graph())

    scheduled_hours = WEEKDAYS * 10 / 12  # 217.5
    expected = (
        # db: scheduled hours, 100 GB gp3
        scheduled_hours * 0.151
        + 100 * 0.133
        # replica: always on, the stated 50 GB
        + HOURS_PER_MONTH * 0.074
        + 50 * 0.133
        # loader: 10,000 requests; 10,000 x 5 s x 0.5 GB on arm64
        + 10_000 * 0.20 / 1_000_000
        + 10_000 * 5 * 0.5 * 0.0000133334
        # extractor: every 15 minutes of 365 days, a twelfth a month; x 20 s x 1 GB on x86_64
        + (365 * 24 * 4 / 12) * 0.20 / 1_000_000
        + (365 * 24 * 4 / 12) * 20 * 1 * 0.0000166667
        # the schedule's own invocations
        + (365 * 24 * 4 / 12) * 1.00 / 1_000_000
        # interface endpoint in 2 AZs, always; 2 GB processed (the gateway endpoint is free)
        + 2 * HOURS_PER_MONTH * 0.011
        + 2 * 0.01
        # key and 100,000 requests
        + 1.00
        + 100_000 * 0.03 / 10_000
    )
    assert result.total == pytest.approx(expected, rel=1e-12)
    # 32.8425 + 13.30 + 54.02 + 6.65 + 0.002 + 0.3333 + 0.0006 + 0.9733 + 0.0029 + 16.06
    # + 0.02 + 1.00 + 0.30
    assert result.total == pytest.approx(125.5047, abs=1e-4)


def test_small_graph_compute_hours_count_the_replica_as_always_on():
    result = run_estimate(small_graph())

    hours = {c.resource: (c.scheduled, c.always_on) for c in result.compute}
    assert hours == {
        "db": (pytest.approx(217.5), pytest.approx(730)),
        "replica": (pytest.approx(730), pytest.approx(730)),
    }
    # 1 - (217.5 + 730) / (730 + 730) = 35.1%, rounded down.
    assert result.compute_hours_off == 35


def test_unknown_and_free_types_are_listed_never_dropped():
    result = run_estimate(small_graph())

    unpriced = {u.resource: u for u in result.unpriced}
    assert set(unpriced) == {"table", "subnet-a", "replica-params", "s3-endpoint"}
    assert unpriced["table"].costly and "no pricing rule" in unpriced["table"].reason
    assert not unpriced["subnet-a"].costly
    assert not unpriced["s3-endpoint"].costly and "gateway" in unpriced["s3-endpoint"].reason
    assert [u.resource for u in result.costly_unpriced] == ["table"]


def test_sql_server_multi_az_and_untagged_compute_run_every_hour():
    graph = [
        resource(
            "aws:rds/instance:Instance",
            "multi-az",
            engine="sqlserver-se",
            instanceClass="db.m6i.xlarge",
            allocatedStorage=200.0,
            multiAz=True,
            tags={"Schedule": "office"},
        ),
        resource(
            "aws:rds/instance:Instance",
            "untagged",
            engine="postgres",
            instanceClass="db.t4g.large",
            allocatedStorage=20.0,
        ),
    ]
    result = run_estimate(graph)

    assert {c.resource: c.scheduled for c in result.compute} == {
        "multi-az": pytest.approx(730),
        "untagged": pytest.approx(730),
    }
    assert "SQL Server Multi-AZ" in result.compute[0].reason
    assert result.compute_hours_off == 0
    # Multi-AZ bills two instances and stores twice.
    instance, storage = result.items[0], result.items[1]
    assert instance.monthly == pytest.approx(2 * 730 * 1.52)
    assert storage.monthly == pytest.approx(2 * 200 * 0.133)


def test_a_stack_whose_scheduler_never_stops_compute_keeps_it_on():
    settings = StackSettings(role="hub", schedules={"office": OFFICE}, stops_compute=False)
    result = run_estimate(small_graph()[:1], settings)

    assert result.compute[0].scheduled == pytest.approx(730)
    assert "no scheduler" in result.compute[0].reason


def test_an_instance_class_missing_from_the_table_is_named_and_not_priced():
    graph = [
        resource(
            "aws:rds/instance:Instance",
            "big",
            engine="postgres",
            instanceClass="db.r6i.8xlarge",
            allocatedStorage=20.0,
            tags={"Schedule": "office"},
        )
    ]
    result = run_estimate(graph)

    (missing,) = result.costly_unpriced
    assert (
        missing.reason == "test-prices.yaml has no price rds/instance-hour/postgres/db.r6i.8xlarge"
    )
    # Its hours still count towards the share switched off.
    assert result.compute[0].scheduled == pytest.approx(217.5)


def test_a_price_every_estimate_needs_fails_the_estimate_with_its_key():
    prices = {key: usd for key, usd in PRICES.items() if key != "logs/stored"}
    with pytest.raises(MissingPriceError, match="has no price logs/stored"):
        run_estimate(small_graph(), prices=price_document(prices))


def monthly(result, resource_name: str) -> dict[str, float]:
    """The monthly USD of each line item of one resource, by price key."""
    return {i.price.key: i.monthly for i in result.items if i.resource == resource_name}


def test_kinesis_provisioned_shards_and_firehose_five_kb_steps():
    graph = [
        resource(
            "aws:kinesis/stream:Stream",
            "provisioned",
            shardCount=2.0,
            streamModeDetails={"streamMode": "PROVISIONED"},
        ),
        resource(
            "aws:kinesis/stream:Stream", "on-demand", streamModeDetails={"streamMode": "ON_DEMAND"}
        ),
        resource("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream", "delivery"),
    ]
    result = run_estimate(graph)

    gb_written = 1_000_000 * 1.0 / 1024 / 1024
    assert monthly(result, "provisioned") == pytest.approx(
        {
            "kinesis/shard-hour": 2 * 730 * 0.0176,
            # 1 KB records: one 25 KB payload unit each.
            "kinesis/put-payload-units": 1_000_000 * 0.0164 / 1_000_000,
        }
    )
    assert monthly(result, "on-demand") == pytest.approx(
        {
            "kinesis/on-demand-stream-hour": 730 * 0.047,
            "kinesis/on-demand-ingested": gb_written * 0.094,
            "kinesis/on-demand-retrieved": gb_written * 0.047,
        }
    )
    # Each 1 KB record is billed as 5 KB.
    assert monthly(result, "delivery") == pytest.approx(
        {"firehose/ingested": 5 * gb_written * 0.033}
    )


def test_log_groups_take_their_functions_volume_and_keep_compressed_logs_for_their_retention():
    graph = [
        resource(
            "aws:lambda/function:Function",
            "loader",
            name="reporting-loader",
            handler="functions.loader.handler.lambda_handler",
            loggingConfig={"logGroup": "/aws/lambda/reporting-loader"},
        ),
        resource(
            "aws:cloudwatch/logGroup:LogGroup",
            "loader-logs",
            name="/aws/lambda/reporting-loader",
            retentionInDays=365.0,
        ),
        resource(
            "aws:cloudwatch/logGroup:LogGroup", "other-logs", name="/other", retentionInDays=30.0
        ),
    ]
    result = run_estimate(graph)

    # The loader's 1 GB a month, kept 12 months at 15% of its size.
    assert monthly(result, "loader-logs") == pytest.approx(
        {"logs/ingested": 1.0 * 0.5985, "logs/stored": 1.0 * 12 * 0.15 * 0.0315}
    )
    # 0.1 GB from no function, kept 30 days (30 / (365 / 12) months).
    assert monthly(result, "other-logs") == pytest.approx(
        {"logs/ingested": 0.1 * 0.5985, "logs/stored": 0.1 * (30 / (365 / 12)) * 0.15 * 0.0315}
    )


def test_alarms_sns_deliveries_and_buckets_by_stack_role():
    graph = [
        resource(
            "aws:cloudwatch/metricAlarm:MetricAlarm", "alarm", metricName="Errors", period=300.0
        ),
        resource(
            "aws:cloudwatch/metricAlarm:MetricAlarm",
            "math",
            metricQueries=[
                {"id": "e", "expression": "a+b"},
                {"id": "a", "metric": {}},
                {"id": "b", "metric": {}},
            ],
        ),
        resource("aws:sns/topic:Topic", "topic"),
        resource("aws:sns/topicSubscription:TopicSubscription", "mail", protocol="email"),
        resource("aws:sns/topicSubscription:TopicSubscription", "mailer", protocol="lambda"),
        resource("aws:s3/bucket:Bucket", "bucket"),
    ]
    result = run_estimate(graph, StackSettings(role="spoke", schedules={}, stops_compute=False))

    assert monthly(result, "alarm") == pytest.approx({"cloudwatch/alarm-metric-month": 0.10})
    assert monthly(result, "math") == pytest.approx({"cloudwatch/alarm-metric-month": 2 * 0.10})
    assert monthly(result, "topic") == pytest.approx({"sns/publishes": 200 * 0.50 / 1_000_000})
    # Deliveries to a function are free; email ones need a price the test table lacks.
    assert [(u.resource, u.costly) for u in result.unpriced] == [("mail", True), ("mailer", False)]
    assert result.costly_unpriced[0].reason.endswith("has no price sns/email-deliveries")
    assert monthly(result, "bucket") == pytest.approx(
        {
            "s3/standard-gb-month": 1 * 0.024,
            "s3/put-requests": 0.0053 / 1000,
            "s3/get-requests": 0.00042 / 1000,
        }
    )


@pytest.mark.parametrize(
    ("window", "extra_hours"),
    [
        # In working hours (Tuesday 08:30-09:00 UTC): no hours beyond the schedule's.
        ("tue:08:30-tue:09:00", 0),
        # At night: started 30 minutes ahead, run through the 30-minute window, every week.
        ("sun:02:00-sun:02:30", (30 + 30) / 60 * 730 / 168),
        # Not set: RDS picks a night window of 30 minutes.
        (None, (30 + 30) / 60 * 730 / 168),
    ],
)
def test_a_maintenance_start_adds_hours_only_outside_the_schedule(window, extra_hours):
    leading = replace(OFFICE, maintenance_lead_minutes=30)
    settings = StackSettings(role="hub", schedules={"office": leading}, stops_compute=True)
    (database,) = small_graph()[:1]
    if window:
        database = replace(database, inputs={**database.inputs, "maintenanceWindow": window})
    result = run_estimate([database], settings)

    assert result.compute[0].scheduled == pytest.approx(217.5 + extra_hours)
