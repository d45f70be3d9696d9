"""Lambda entry point: a batch of DynamoDB stream records, forwarded to Kinesis as envelopes.

Thin on purpose: powertools turns each record into a change, then the changes go to Kinesis
together, in as few PutRecords calls as the limits allow. A poison record (one that can never
become an envelope) goes to the dead-letter queue and the batch moves on; a change Kinesis still
refuses after the retries, or a poison record the queue refuses, is reported in
`batchItemFailures` for Lambda to retry.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError

from functions.catalog import load_catalog_bundle
from functions.stream_forwarder.dead_letters import DeadLetters
from functions.stream_forwarder.forwarder import (
    OutgoingChange,
    OversizedChangeError,
    StreamForwarder,
    UnroutedTableError,
)
from functions.stream_forwarder.settings import ForwarderSettings
from functions.streams.envelope import EnvelopeError

# What makes a record poison: it can never become an envelope, however often it is retried.
POISON = (EnvelopeError, UnroutedTableError, OversizedChangeError)
logger = Logger(service="stream-forwarder")
# A batch of nothing but poison is parked like any other, not failed as a whole.
processor = BatchProcessor(
    event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False, logger=logger
)


@cache
def settings() -> ForwarderSettings:
    return ForwarderSettings.from_environment(os.environ)


@cache
def stream_forwarder() -> StreamForwarder:
    """Built on the first invocation and kept: settings, catalog and the Kinesis client."""
    # Imported here, not with the module: boto3 takes about 130 ms to import.
    import boto3  # noqa: PLC0415

    found = settings()
    return StreamForwarder.build(
        boto3.client("kinesis"), found, load_catalog_bundle(found.catalog_file)
    )


@cache
def dead_letters() -> DeadLetters:
    """The dead-letter queue, made on the first poison record."""
    import boto3  # noqa: PLC0415

    return DeadLetters(boto3.client("sqs"), settings().dead_letter_queue_url)


def record_handler(record: DynamoDBRecord) -> OutgoingChange:
    """One stream record as a Kinesis entry; a poison record raises."""
    return stream_forwarder().change_of(record.raw_event)


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Forwards the batch; returns the records to retry as `batchItemFailures`."""
    forwarder = stream_forwarder()
    with processor(records=event["Records"], handler=record_handler, lambda_context=context):
        outcomes = processor.process()
    changes = [result for status, result, _ in outcomes if status == "success"]
    failures = [
        (record.raw_event, error)
        for record, (_, error, _) in zip(processor.fail_messages, processor.exceptions, strict=True)
    ]
    for _, error in failures:
        if not isinstance(error, POISON):
            # A bug or an outage, not a bad record: parking would empty the stream into the
            # queue. Failing the invocation makes Lambda retry (and bisect) the batch.
            raise error
    unparked = [
        record.get("dynamodb", {}).get("SequenceNumber", "")
        for record, error in failures
        if not _parked(record, f"{type(error).__name__}: {error}")
    ]
    undelivered = forwarder.forward(changes)
    for failure in undelivered:
        logger.warning(
            "change not accepted by Kinesis",
            extra={
                "sequence_number": failure.entry.sequence_number,
                "error_code": failure.error_code,
                "error_message": failure.error_message,
            },
        )
    # Lambda resumes the shard at the lowest failed sequence number, so the records after it
    # are delivered again even if they reached Kinesis: at least once, and the loader dedupes
    # on keys and sequence number.
    retry = [*unparked, *(failure.entry.sequence_number for failure in undelivered)]
    return {"batchItemFailures": [{"itemIdentifier": number} for number in retry]}


def _parked(record: dict[str, Any], reason: str) -> bool:
    """Sends a poison record to the dead-letter queue; False if the queue refused it."""
    sequence_number = record.get("dynamodb", {}).get("SequenceNumber")
    try:
        dead_letters().park(record, reason)
    except (BotoCoreError, ClientError) as error:
        logger.error(
            "poison record not parked; retrying it",
            extra={"sequence_number": sequence_number, "error": str(error)},
        )
        return False
    logger.error(
        "poison record parked in the dead-letter queue",
        extra={"sequence_number": sequence_number, "reason": reason},
    )
    return True
