"""Lambda entry point: a batch of DynamoDB stream records, forwarded to Kinesis as envelopes.

Thin on purpose: powertools turns each record into a change (a poison record is reported alone
in `batchItemFailures`), then the changes go to Kinesis together, in as few PutRecords calls as
the limits allow. A change Kinesis still refuses after the retries is reported too.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.catalog import load_catalog_bundle
from functions.stream_forwarder.forwarder import OutgoingChange, StreamForwarder
from functions.stream_forwarder.settings import ForwarderSettings

logger = Logger(service="stream-forwarder")
processor = BatchProcessor(event_type=EventType.DynamoDBStreams, logger=logger)


@cache
def stream_forwarder() -> StreamForwarder:
    """Built on the first invocation and kept: settings, catalog and the Kinesis client."""
    # Imported here, not with the module: boto3 takes about 130 ms to import.
    import boto3  # noqa: PLC0415

    settings = ForwarderSettings.from_environment(os.environ)
    return StreamForwarder.build(
        boto3.client("kinesis"), settings, load_catalog_bundle(settings.catalog_file)
    )


def record_handler(record: DynamoDBRecord) -> OutgoingChange:
    """One stream record as a Kinesis entry; a poison record raises and is reported alone."""
    return stream_forwarder().change_of(record.raw_event)


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Forwards the batch; returns the records to retry as `batchItemFailures`."""
    forwarder = stream_forwarder()
    with processor(records=event["Records"], handler=record_handler, lambda_context=context):
        outcomes = processor.process()
    changes = [result for status, result, _ in outcomes if status == "success"]
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
    refused = [{"itemIdentifier": failure.entry.sequence_number} for failure in undelivered]
    return {"batchItemFailures": [*processor.response()["batchItemFailures"], *refused]}
