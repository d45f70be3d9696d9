"""Queues, topics and streams: SQS, SNS, Kinesis Data Streams and Data Firehose."""

from __future__ import annotations

import math

from offline.cost.context import PricingContext, RuleError
from offline.cost.model import LineItem, Pricing
from offline.mocks import RegisteredResource

KB_PER_GB = 1024 * 1024
# Kinesis bills PUT payload units of 25 KB; Firehose rounds each record up to 5 KB.
KINESIS_PAYLOAD_UNIT_KB = 25
FIREHOSE_RECORD_STEP_KB = 5
DEFAULT_RETENTION_HOURS = 24
# Deliveries to these protocols cost nothing; others have a price per notification.
FREE_PROTOCOLS = ("lambda", "sqs", "firehose")
PRICED_PROTOCOLS = {"email": "sns/email-deliveries", "email-json": "sns/email-deliveries"}
PRICED_PROTOCOLS |= {"http": "sns/https-deliveries", "https": "sns/https-deliveries"}


def sqs_queue(resource: RegisteredResource, context: PricingContext) -> Pricing:
    queue = "fifo" if resource.inputs.get("fifoQueue") else "standard"
    return Pricing(
        items=(
            LineItem(
                resource.name,
                f"{queue} queue requests (stated volume)",
                context.volumes.requests_per_queue,
                context.price(f"sqs/{queue}-requests"),
            ),
        )
    )


def sns_topic(resource: RegisteredResource, context: PricingContext) -> Pricing:
    return Pricing(
        items=(
            LineItem(
                resource.name,
                "publishes (stated volume)",
                context.volumes.publishes_per_topic,
                context.price("sns/publishes"),
            ),
        )
    )


def sns_subscription(resource: RegisteredResource, context: PricingContext) -> Pricing:
    """One notification per publish to the topic, priced by protocol."""
    protocol = str(resource.inputs.get("protocol") or "")
    if protocol in FREE_PROTOCOLS:
        return Pricing(free=f"SNS deliveries to {protocol} have no charge")
    if protocol not in PRICED_PROTOCOLS:
        # SMS prices vary by destination country.
        raise RuleError(f"no rule for SNS {protocol or 'unknown'} deliveries")
    return Pricing(
        items=(
            LineItem(
                resource.name,
                f"{protocol} notifications (one per publish)",
                context.volumes.publishes_per_topic,
                context.price(PRICED_PROTOCOLS[protocol]),
            ),
        )
    )


def kinesis_stream(resource: RegisteredResource, context: PricingContext) -> Pricing:
    inputs = resource.inputs
    volumes = context.volumes
    hours = context.period.hours_per_month
    mode = (inputs.get("streamModeDetails") or {}).get("streamMode") or (
        "PROVISIONED" if inputs.get("shardCount") else "ON_DEMAND"
    )
    written_gb = volumes.records_per_stream * volumes.average_record_kb / KB_PER_GB
    notes = ()
    retention = float(inputs.get("retentionPeriod") or DEFAULT_RETENTION_HOURS)
    if retention > DEFAULT_RETENTION_HOURS:
        notes = (f"retention of {retention:,.0f} h beyond 24 h is not priced",)
    if mode == "ON_DEMAND":
        items = (
            LineItem(
                resource.name,
                "on-demand stream",
                hours,
                context.price("kinesis/on-demand-stream-hour"),
            ),
            LineItem(
                resource.name,
                "data written (stated volume)",
                written_gb,
                context.price("kinesis/on-demand-ingested"),
            ),
            LineItem(
                resource.name,
                f"data read by {volumes.readers_per_stream:g} consumer(s)",
                written_gb * volumes.readers_per_stream,
                context.price("kinesis/on-demand-retrieved"),
            ),
        )
    else:
        shards = float(inputs.get("shardCount") or 0)
        if shards < 1:
            raise RuleError("a provisioned stream with no shardCount")
        units = math.ceil(volumes.average_record_kb / KINESIS_PAYLOAD_UNIT_KB)
        items = (
            LineItem(
                resource.name,
                f"{shards:g} shard(s)",
                shards * hours,
                context.price("kinesis/shard-hour"),
            ),
            LineItem(
                resource.name,
                "PUT payload units (stated records)",
                volumes.records_per_stream * units,
                context.price("kinesis/put-payload-units"),
            ),
        )
    return Pricing(items=items, notes=notes)


def firehose_delivery_stream(resource: RegisteredResource, context: PricingContext) -> Pricing:
    volumes = context.volumes
    billed_kb = (
        math.ceil(volumes.average_record_kb / FIREHOSE_RECORD_STEP_KB) * FIREHOSE_RECORD_STEP_KB
    )
    source = "Kinesis stream" if resource.inputs.get("kinesisSourceConfiguration") else "Direct PUT"
    return Pricing(
        items=(
            LineItem(
                resource.name,
                f"{source} ingestion, records billed in {FIREHOSE_RECORD_STEP_KB} KB steps",
                volumes.records_per_stream * billed_kb / KB_PER_GB,
                context.price("firehose/ingested"),
            ),
        )
    )
