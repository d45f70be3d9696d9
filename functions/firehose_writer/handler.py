"""Lambda entry point: a batch of Kinesis records, written to Firehose as lines.

All or nothing: a record that cannot be written raises, and the event source mapping retries
the batch (bisecting it, so a poison record ends up alone and then in the failure queue).
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import KinesisStreamEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.firehose_writer.settings import WriterSettings
from functions.firehose_writer.writer import FirehoseWriter

logger = Logger(service="firehose-writer")


@cache
def firehose_writer() -> FirehoseWriter:
    """Built on the first invocation and kept: settings and the Firehose client."""
    # Imported here, not with the module: boto3 takes about 130 ms to import.
    import boto3  # noqa: PLC0415

    settings = WriterSettings.from_environment(os.environ)
    return FirehoseWriter(boto3.client("firehose"), settings.delivery_routes)


@logger.inject_lambda_context
@event_source(data_class=KinesisStreamEvent)
def lambda_handler(event: KinesisStreamEvent, context: LambdaContext) -> dict[str, Any]:
    """Writes every record of the batch or raises."""
    written = firehose_writer().write(event.records)
    logger.info("records written to Firehose", extra={"records": written})
    # The event source mapping expects a partial batch response; a failure raised instead.
    return {"batchItemFailures": []}
