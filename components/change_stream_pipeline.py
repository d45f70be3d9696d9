"""Example 2 in a platform account: the changes of its DynamoDB tables reach the staging bucket
(through the forwarder and writer functions, or natively), and the copier sends each file across
the account boundary, through the VPC's S3 endpoint, into the hub's landing bucket.

    table stream -> forwarder -> Kinesis -> writer -> Firehose -> staging  (pipeline: lambda)
    table -> Kinesis (DynamoDB's destination) -> Firehose -> staging        (pipeline: native)
    staging -> copier (in the VPC) -> S3 endpoint -> hub landing incoming/<platform>/<dataset>/
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.alarms import Metric, metric_alarm
from components.change_delivery import (
    ERRORS_PREFIX,
    SOURCE_PREFIXES,
    ChangeDelivery,
    ChangeDeliveryArgs,
    half_retention_ms,
)
from components.dataset_catalog import catalog_assets
from components.lambda_function import FunctionSpec, LambdaFunction, LambdaFunctionArgs
from components.policy_documents import operations_key_policy
from components.s3_trigger import s3_trigger
from components.secure_bucket import ExpiringPrefix, SecureBucket, SecureBucketArgs
from components.security_rules import HTTPS, tcp_rule
from components.service_key import ServiceKey, ServiceKeyArgs
from components.stream_policies import (
    CopierGrants,
    ForwarderGrants,
    WriterGrants,
    copier_policy,
    forwarder_policy,
    staging_endpoint_policy,
    writer_policy,
)
from contract import HubOutputs
from stack_config import ChangeStreams, StreamedTable

FORWARDER_PACKAGES = ["functions.stream_forwarder", "functions.streams", "functions.catalog"]
WRITER_PACKAGES = ["functions.firehose_writer", "functions.streams"]
COPIER_PACKAGES = ["functions.cross_account_copier", "functions.streams", "functions.catalog"]
# DynamoDB keeps stream records for 24 hours, whatever the table.
DYNAMODB_STREAM_RETENTION_HOURS = 24
# A table's stream must carry the item after the change: the envelope's new image.
STREAM_VIEW_TYPES = ("NEW_IMAGE", "NEW_AND_OLD_IMAGES")
# Firehose names (hence the staging keys) are unique per delivery; noncurrent versions only
# arise from the bucket's own housekeeping.
STAGING_NONCURRENT_DAYS = 1


@dataclass(frozen=True)
class ChangeStreamPipelineArgs:
    platform: str
    environment: str
    account_id: str
    region: str
    settings: ChangeStreams
    hub: HubOutputs
    vpc_id: str
    subnet_ids: list[pulumi.Input[str]]
    route_table_id: pulumi.Input[str]
    # Looks the platform's tables up in its own account.
    provider: aws.Provider
    tags: dict[str, str]
    # The platform account's alert topic.
    alert_topic_arn: pulumi.Input[str]


class ChangeStreamPipeline(pulumi.ComponentResource):
    """Staging bucket, deliveries per table, functions, the copier and its S3 endpoint."""

    copier_role_arn: pulumi.Output[str]
    copier_endpoint_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: ChangeStreamPipelineArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("reporting:streams:ChangeStreamPipeline", name, None, opts)
        self._name = name
        self._args = args
        child = pulumi.ResourceOptions(parent=self)
        settings = args.settings
        self._prefix = f"reporting-{args.environment}-{args.platform}"
        key = ServiceKey(
            f"{name}-key",
            ServiceKeyArgs(
                "Change streams: Kinesis, Firehose, staging objects, queues and logs",
                operations_key_policy(
                    args.account_id, args.region, ("firehose", "kinesis", "s3", "sns", "sqs")
                ),
                args.tags,
            ),
            opts=child,
        )
        self._key_arn = key.arn
        self._alert_topic_arn = args.alert_topic_arn
        staging = SecureBucket(
            f"{name}-staging",
            SecureBucketArgs(
                key_arn=key.arn,
                expiring_prefixes=[
                    ExpiringPrefix(prefix, settings.staging_expiry_days)
                    for prefix in (*SOURCE_PREFIXES.values(), ERRORS_PREFIX)
                ],
                noncurrent_version_expiry_days=STAGING_NONCURRENT_DAYS,
                tags=args.tags,
            ),
            opts=child,
        )
        deliveries = {
            streamed.table: ChangeDelivery(
                f"{name}-{_dashed(streamed.dataset)}",
                ChangeDeliveryArgs(
                    resource_prefix=self._prefix,
                    streamed=streamed,
                    settings=settings,
                    account_id=args.account_id,
                    bucket_arn=staging.arn,
                    key_arn=key.arn,
                    alert_topic_arn=args.alert_topic_arn,
                    tags=args.tags,
                ),
                opts=child,
            )
            for streamed in settings.tables
        }
        if settings.pipeline == "native":
            for streamed in settings.tables:
                aws.dynamodb.KinesisStreamingDestination(
                    f"{name}-{_dashed(streamed.dataset)}-destination",
                    table_name=streamed.table,
                    stream_arn=deliveries[streamed.table].kinesis_stream_arn,
                    # The copier orders changes by this time: the finest DynamoDB offers.
                    approximate_creation_date_time_precision="MICROSECOND",
                    # Firehose starts reading its Kinesis source at LATEST: it must be reading
                    # before the first change arrives.
                    opts=pulumi.ResourceOptions(
                        parent=self, depends_on=[deliveries[streamed.table]]
                    ),
                )
        else:
            self._forwarder(deliveries)
            self._writer(deliveries)
        endpoint = aws.ec2.VpcEndpoint(
            f"{name}-s3-endpoint",
            vpc_id=args.vpc_id,
            service_name=f"com.amazonaws.{args.region}.s3",
            vpc_endpoint_type="Gateway",
            route_table_ids=[args.route_table_id],
            policy=pulumi.Output.json_dumps(
                pulumi.Output.all(
                    staging.arn, args.hub.landing_bucket_arn, args.hub.account_id, args.hub.region
                ).apply(lambda values: _endpoint_policy(args, *values))
            ),
            tags={**args.tags, "Name": f"{name}-s3"},
            opts=child,
        )
        copier = self._copier(staging, endpoint)
        self.copier_role_arn = copier.role_arn
        self.copier_endpoint_id = endpoint.id
        self.register_outputs(
            {
                "copier_role_arn": self.copier_role_arn,
                "copier_endpoint_id": self.copier_endpoint_id,
            }
        )

    def _function_args(self, spec: FunctionSpec) -> LambdaFunctionArgs:
        functions = self._args.settings.functions
        return LambdaFunctionArgs(
            spec=spec,
            account_id=self._args.account_id,
            architecture=functions.architecture,
            memory_mb=functions.memory_mb,
            timeout_seconds=functions.timeout_seconds,
            layer_arns=[functions.powertools_layer_arn],
            log_retention_days=functions.log_retention_days,
            key_arn=self._key_arn,
            alert_topic_arn=self._alert_topic_arn,
            tags=self._args.tags,
        )

    def _stream_mapping(
        self, name: str, source_arn: pulumi.Input[str], function: LambdaFunction
    ) -> aws.lambda_.EventSourceMapping:
        """A stream trigger that reports partial failures, halves a failing batch to isolate
        a poison record, gives up after bounded retries and sends what it gave up on to the
        function's failure queue. TRIM_HORIZON: changes made before the first deployment
        (within the stream's retention) are not lost."""
        functions = self._args.settings.functions
        return aws.lambda_.EventSourceMapping(
            name,
            event_source_arn=source_arn,
            function_name=function.function_arn,
            starting_position="TRIM_HORIZON",
            batch_size=functions.batch_size,
            function_response_types=["ReportBatchItemFailures"],
            bisect_batch_on_function_error=True,
            maximum_retry_attempts=functions.maximum_retry_attempts,
            maximum_record_age_in_seconds=functions.maximum_record_age_seconds,
            destination_config={"on_failure": {"destination_arn": function.failure_queue_arn}},
            tags=self._args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _iterator_age_alarm(self, name: str, function: LambdaFunction, hours: int) -> None:
        metric_alarm(
            name,
            description="Stream records wait more than half their retention for the function",
            metric=Metric(
                "AWS/Lambda", "IteratorAge", "Maximum", {"FunctionName": function.function_name}
            ),
            topic_arn=self._alert_topic_arn,
            tags=self._args.tags,
            opts=pulumi.ResourceOptions(parent=self),
            threshold=half_retention_ms(hours),
        )

    def _forwarder(self, deliveries: dict[str, ChangeDelivery]) -> None:
        args = self._args
        tables = args.settings.tables
        table_streams = [self._table_stream(streamed) for streamed in tables]
        stream_arns = [found.apply(lambda t: t.stream_arn) for found in table_streams]
        table_keys = pulumi.Output.all(*table_streams).apply(
            lambda found: [t.key_arn for t in found if t.key_arn]
        )
        routes = {
            streamed.table: {
                "dataset": f"{args.platform}/{streamed.dataset}",
                "stream": deliveries[streamed.table].kinesis_stream_name,
            }
            for streamed in tables
        }
        kinesis_arns = [delivery.kinesis_stream_arn for delivery in deliveries.values()]
        forwarder = LambdaFunction(
            f"{self._name}-forwarder",
            self._function_args(
                FunctionSpec(
                    function_name=f"{self._prefix}-stream-forwarder",
                    description="Stream forwarder (DynamoDB stream to Kinesis)",
                    handler="functions.stream_forwarder.handler.lambda_handler",
                    packages=FORWARDER_PACKAGES,
                    environment={
                        "STREAM_ROUTES": pulumi.Output.json_dumps(routes),
                        "POWERTOOLS_SERVICE_NAME": "stream-forwarder",
                    },
                    policy=lambda logs, queue: pulumi.Output.all(
                        pulumi.Output.all(*stream_arns),
                        pulumi.Output.all(*kinesis_arns),
                        self._key_arn,
                        table_keys,
                    ).apply(
                        lambda arns: forwarder_policy(
                            ForwarderGrants(arns[0], arns[1], arns[2], queue, logs, arns[3])
                        )
                    ),
                    code_assets=catalog_assets(),
                    parks_poison=True,
                )
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        for streamed, stream_arn in zip(tables, stream_arns, strict=True):
            self._stream_mapping(
                f"{self._name}-{_dashed(streamed.dataset)}-changes", stream_arn, forwarder
            )
        self._iterator_age_alarm(
            f"{self._name}-forwarder-iterator-age", forwarder, DYNAMODB_STREAM_RETENTION_HOURS
        )

    def _writer(self, deliveries: dict[str, ChangeDelivery]) -> None:
        pairs = [
            pulumi.Output.all(d.kinesis_stream_name, d.delivery_stream_name)
            for d in deliveries.values()
        ]
        kinesis_arns = [delivery.kinesis_stream_arn for delivery in deliveries.values()]
        delivery_arns = [delivery.delivery_stream_arn for delivery in deliveries.values()]
        writer = LambdaFunction(
            f"{self._name}-writer",
            self._function_args(
                FunctionSpec(
                    function_name=f"{self._prefix}-firehose-writer",
                    description="Firehose writer (Kinesis to Firehose)",
                    handler="functions.firehose_writer.handler.lambda_handler",
                    packages=WRITER_PACKAGES,
                    environment={
                        "DELIVERY_ROUTES": pulumi.Output.all(*pairs).apply(
                            lambda rows: json.dumps(dict(rows), sort_keys=True)
                        ),
                        "POWERTOOLS_SERVICE_NAME": "firehose-writer",
                    },
                    policy=lambda logs, queue: pulumi.Output.all(
                        pulumi.Output.all(*kinesis_arns),
                        pulumi.Output.all(*delivery_arns),
                        self._key_arn,
                    ).apply(
                        lambda arns: writer_policy(
                            WriterGrants(arns[0], arns[1], arns[2], queue, logs)
                        )
                    ),
                )
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        for streamed in self._args.settings.tables:
            self._stream_mapping(
                f"{self._name}-{_dashed(streamed.dataset)}-envelopes",
                deliveries[streamed.table].kinesis_stream_arn,
                writer,
            )
        self._iterator_age_alarm(
            f"{self._name}-writer-iterator-age",
            writer,
            self._args.settings.kinesis_retention_hours,
        )

    def _copier(self, staging: SecureBucket, endpoint: aws.ec2.VpcEndpoint) -> LambdaFunction:
        args = self._args
        security_group = aws.ec2.SecurityGroup(
            f"{self._name}-copier-sg",
            description="Cross-account copier: S3 through the gateway endpoint only",
            vpc_id=args.vpc_id,
            ingress=[],
            egress=endpoint.prefix_list_id.apply(
                lambda prefix_list: [
                    tcp_rule(
                        "S3 through the gateway endpoint", HTTPS, prefix_list_ids=[prefix_list]
                    )
                ]
            ),
            tags={**args.tags, "Name": f"{self._name}-copier-sg"},
            opts=pulumi.ResourceOptions(parent=self),
        )
        source_prefixes = sorted(SOURCE_PREFIXES.values())
        copier = LambdaFunction(
            f"{self._name}-copier",
            self._function_args(
                FunctionSpec(
                    function_name=f"{self._prefix}-cross-account-copier",
                    description="Cross-account copier (staging to the hub's landing bucket)",
                    handler="functions.cross_account_copier.handler.lambda_handler",
                    packages=COPIER_PACKAGES,
                    environment={
                        "LANDING_BUCKET": args.hub.landing_bucket_name,
                        "LANDING_ACCOUNT_ID": args.hub.account_id,
                        "LANDING_KEY_ARN": args.hub.landing_key_arn,
                        "PLATFORM": args.platform,
                        "POWERTOOLS_SERVICE_NAME": "cross-account-copier",
                    },
                    policy=lambda logs, queue: pulumi.Output.all(
                        staging.arn,
                        self._key_arn,
                        args.hub.landing_bucket_arn,
                        args.hub.landing_key_arn,
                    ).apply(
                        lambda arns: copier_policy(
                            CopierGrants(
                                staging_bucket_arn=arns[0],
                                staging_key_arn=arns[1],
                                landing_bucket_arn=arns[2],
                                landing_key_arn=arns[3],
                                platform=args.platform,
                                failure_queue_arn=queue,
                                log_group_arn=logs,
                            ),
                            source_prefixes,
                        )
                    ),
                    code_assets=catalog_assets(),
                    vpc_config={
                        "subnet_ids": args.subnet_ids,
                        "security_group_ids": [security_group.id],
                    },
                )
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        s3_trigger(
            f"{self._name}-copier",
            function=copier,
            bucket_name=staging.bucket_name,
            bucket_arn=staging.arn,
            account_id=args.account_id,
            prefixes=source_prefixes,
            parent=self,
        )
        return copier

    def _table_stream(self, streamed: StreamedTable) -> pulumi.Output[TableStream]:
        """The stream of an existing table, looked up in the platform account; a table without
        a stream of new images stops the deployment with the command that enables one."""
        table = aws.dynamodb.get_table_output(
            name=streamed.table,
            opts=pulumi.InvokeOutputOptions(parent=self, provider=self._args.provider),
        )
        return pulumi.Output.all(
            table.stream_enabled,
            table.stream_view_type,
            table.stream_arn,
            table.server_side_encryption,
        ).apply(lambda found: _checked_stream(streamed.table, *found))


@dataclass(frozen=True)
class TableStream:
    """What the forwarder needs of a table: its stream, and the key encrypting it when the
    table has a customer-managed one."""

    stream_arn: str
    key_arn: str | None


def _endpoint_policy(
    args: ChangeStreamPipelineArgs,
    staging_arn: str,
    landing_arn: str,
    hub_account_id: str,
    hub_region: str,
) -> dict:
    """The S3 endpoint's policy, once the hub is known to be in the platform's region: a gateway
    endpoint reaches buckets of its own region only."""
    if hub_region != args.region:
        raise ValueError(
            f"platform '{args.platform}' is in {args.region} and its hub in {hub_region}: the "
            "copier reaches the landing bucket through an S3 gateway endpoint, which serves "
            "buckets of its own region only"
        )
    return staging_endpoint_policy(staging_arn, landing_arn, [args.account_id, hub_account_id])


def _dashed(dataset: str) -> str:
    """Dataset names take '_'; resource names read better with '-'."""
    return dataset.replace("_", "-")


def _checked_stream(
    table: str,
    enabled: bool | None,
    view_type: str | None,
    stream_arn: str | None,
    encryption: Any,
) -> TableStream:
    if not (enabled and view_type in STREAM_VIEW_TYPES and stream_arn):
        raise ValueError(
            f"DynamoDB table '{table}' has no stream of new images (stream enabled: "
            f"{bool(enabled)}, view type: {view_type or 'none'}); enable one with `aws dynamodb "
            f"update-table --table-name {table} --stream-specification "
            "StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES` (docs/change-streams.md)"
        )
    return TableStream(stream_arn, _customer_key(encryption))


def _customer_key(encryption: dict[str, Any] | None) -> str | None:
    """The KMS key of `get_table`'s server_side_encryption, if a customer-managed one is set."""
    # Through an output invoke the setting arrives as a dict with snake_case keys.
    if not encryption or not encryption.get("enabled"):
        return None
    return encryption.get("kms_key_arn") or None
