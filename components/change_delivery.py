"""One streamed table's way to the staging bucket: its Kinesis stream and the Firehose delivery
stream that writes it, gzip JSON Lines under a time-partitioned prefix, into S3.

In `lambda` mode the writer function puts the forwarder's envelopes into Firehose (Direct PUT);
in `native` mode DynamoDB writes its own records into the Kinesis stream and Firehose reads the
stream itself, adding the newline DynamoDB's records lack.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.alarms import Metric, metric_alarm
from components.stream_policies import DeliveryGrants, delivery_policy, firehose_trust_policy
from stack_config import ChangeStreams, StreamedTable

# Where each mode's files land in the staging bucket; the copier converts `records/` files.
SOURCE_PREFIXES = {"lambda": "envelopes/", "native": "records/"}
ERRORS_PREFIX = "errors/"
# Firehose retries a failing delivery for up to 24 hours; data older than the buffer interval
# plus this means it is retrying, not buffering.
DELIVERY_GRACE_SECONDS = 900
_DELIVERY_LOG_STREAM = "DestinationDelivery"


@dataclass(frozen=True)
class ChangeDeliveryArgs:
    resource_prefix: str
    streamed: StreamedTable
    settings: ChangeStreams
    account_id: str
    bucket_arn: pulumi.Input[str]
    key_arn: pulumi.Input[str]
    alert_topic_arn: pulumi.Input[str]
    tags: dict[str, str]


class ChangeDelivery(pulumi.ComponentResource):
    """The Kinesis stream and Firehose delivery stream of one table."""

    kinesis_stream_name: pulumi.Output[str]
    kinesis_stream_arn: pulumi.Output[str]
    delivery_stream_name: pulumi.Output[str]
    delivery_stream_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: ChangeDeliveryArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("reporting:streams:ChangeDelivery", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        settings = args.settings
        native = settings.pipeline == "native"
        dataset = args.streamed.dataset
        # Kinesis and Firehose names take '_', but the account's other names use '-'.
        resource_name = f"{args.resource_prefix}-{dataset.replace('_', '-')}"
        stream = aws.kinesis.Stream(
            f"{name}-kinesis",
            name=resource_name,
            retention_period=settings.kinesis_retention_hours,
            encryption_type="KMS",
            kms_key_id=args.key_arn,
            shard_count=settings.kinesis_shards,
            stream_mode_details={
                "stream_mode": "ON_DEMAND" if settings.kinesis_shards is None else "PROVISIONED"
            },
            tags=args.tags,
            opts=child,
        )
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-firehose-logs",
            name=f"/aws/kinesisfirehose/{resource_name}",
            retention_in_days=settings.functions.log_retention_days,
            kms_key_id=args.key_arn,
            tags=args.tags,
            opts=child,
        )
        aws.cloudwatch.LogStream(
            f"{name}-firehose-delivery-log",
            name=_DELIVERY_LOG_STREAM,
            log_group_name=log_group.name,
            opts=child,
        )
        source_prefix = SOURCE_PREFIXES[settings.pipeline]
        role = aws.iam.Role(
            f"{name}-firehose-role",
            assume_role_policy=pulumi.Output.json_dumps(firehose_trust_policy(args.account_id)),
            tags=args.tags,
            opts=child,
        )
        grants = pulumi.Output.all(
            args.bucket_arn, args.key_arn, log_group.arn, stream.arn if native else None
        ).apply(
            lambda values: DeliveryGrants(
                bucket_arn=values[0],
                prefixes=[f"{source_prefix}{dataset}/", f"{ERRORS_PREFIX}{dataset}/"],
                key_arn=values[1],
                log_group_arn=values[2],
                source_stream_arn=values[3],
            )
        )
        role_policy = aws.iam.RolePolicy(
            f"{name}-firehose-policy",
            role=role.id,
            policy=pulumi.Output.json_dumps(grants.apply(delivery_policy)),
            opts=child,
        )
        delivery = aws.kinesis.FirehoseDeliveryStream(
            f"{name}-firehose",
            name=resource_name,
            destination="extended_s3",
            # Firehose encrypts what it buffers only for Direct PUT; a Kinesis source is
            # encrypted by the stream itself.
            server_side_encryption=None
            if native
            else {"enabled": True, "key_type": "CUSTOMER_MANAGED_CMK", "key_arn": args.key_arn},
            kinesis_source_configuration={"kinesis_stream_arn": stream.arn, "role_arn": role.arn}
            if native
            else None,
            extended_s3_configuration={
                "role_arn": role.arn,
                "bucket_arn": args.bucket_arn,
                "prefix": f"{source_prefix}{dataset}/!{{timestamp:yyyy/MM/dd/HH}}/",
                "error_output_prefix": (
                    f"{ERRORS_PREFIX}{dataset}/!{{firehose:error-output-type}}/"
                    "!{timestamp:yyyy/MM/dd}/"
                ),
                "custom_time_zone": "UTC",
                "buffering_interval": settings.firehose_buffer_seconds,
                "buffering_size": settings.firehose_buffer_mb,
                "compression_format": "GZIP",
                "file_extension": ".jsonl.gz",
                "kms_key_arn": args.key_arn,
                "cloudwatch_logging_options": {
                    "enabled": True,
                    "log_group_name": log_group.name,
                    "log_stream_name": _DELIVERY_LOG_STREAM,
                },
                # DynamoDB's records carry no line break; the envelopes already end with one.
                "processing_configuration": {
                    "enabled": True,
                    "processors": [{"type": "AppendDelimiterToRecord"}],
                }
                if native
                else None,
            },
            tags=args.tags,
            # Firehose checks its role's access when the stream is created.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[role_policy]),
        )
        metric_alarm(
            f"{name}-delivery-late",
            description=(
                f"Firehose {resource_name} holds records longer than its buffer allows: "
                "delivery to the staging bucket is failing"
            ),
            metric=Metric(
                "AWS/Firehose",
                "DeliveryToS3.DataFreshness",
                "Maximum",
                {"DeliveryStreamName": delivery.name},
            ),
            topic_arn=args.alert_topic_arn,
            tags=args.tags,
            opts=child,
            threshold=settings.firehose_buffer_seconds + DELIVERY_GRACE_SECONDS,
        )
        metric_alarm(
            f"{name}-delivery-failing",
            description=f"Firehose {resource_name} fails to put objects into the staging "
            "bucket for 15 minutes",
            metric=Metric(
                "AWS/Firehose",
                "DeliveryToS3.Success",
                "Average",
                {"DeliveryStreamName": delivery.name},
            ),
            topic_arn=args.alert_topic_arn,
            tags=args.tags,
            opts=child,
            # The share of successful puts: under 1 is a failed put, and Firehose retries one;
            # failures through three periods are not a blip.
            threshold=1,
            below=True,
            periods=3,
        )
        if native:
            # Nothing else watches the stream: Firehose falling behind shows here.
            metric_alarm(
                f"{name}-iterator-age",
                description=f"Firehose reads {resource_name} more than half its retention late",
                metric=Metric(
                    "AWS/Kinesis",
                    "GetRecords.IteratorAgeMilliseconds",
                    "Maximum",
                    {"StreamName": stream.name},
                ),
                topic_arn=args.alert_topic_arn,
                tags=args.tags,
                opts=child,
                threshold=half_retention_ms(settings.kinesis_retention_hours),
            )
        self.kinesis_stream_name = stream.name
        self.kinesis_stream_arn = stream.arn
        self.delivery_stream_name = delivery.name
        self.delivery_stream_arn = delivery.arn
        self.register_outputs(
            {
                "kinesis_stream_name": self.kinesis_stream_name,
                "kinesis_stream_arn": self.kinesis_stream_arn,
                "delivery_stream_name": self.delivery_stream_name,
                "delivery_stream_arn": self.delivery_stream_arn,
            }
        )


def half_retention_ms(hours: int) -> int:
    """Half a retention period in milliseconds: late enough to be real, early enough to act."""
    return hours * 3600 * 1000 // 2
