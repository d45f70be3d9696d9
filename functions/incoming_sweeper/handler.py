"""Lambda entry point: an EventBridge Scheduler event every 15 minutes (its content is not read).

Thin on purpose: `IncomingSweeper` lists `incoming/` and invokes the loader once per file left
there, only while the reporting database is up. Runs outside the VPC: it needs S3 and Lambda's
APIs, never the database.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.incoming_sweeper.settings import SweeperSettings
from functions.incoming_sweeper.sweeper import IncomingSweeper, LoaderInvoker

logger = Logger(service="incoming-sweeper")


@cache
def incoming_sweeper() -> IncomingSweeper:
    """Built on the first invocation and kept: settings and clients."""
    # Imported here, not with the module: boto3 takes about 130 ms to import.
    import boto3  # noqa: PLC0415

    settings = SweeperSettings.from_environment(os.environ)
    return IncomingSweeper(
        s3=boto3.client("s3"),
        send=LoaderInvoker(boto3.client("lambda"), settings.loader_function_name),
        settings=settings,
    )


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Sweeps once; returns (and logs) the counts."""
    summary = incoming_sweeper().sweep()
    if summary["status"] == "skipped":
        logger.info(
            "incoming/ not swept: the reporting database is stopped or starting", extra=summary
        )
    else:
        logger.info("incoming/ swept", extra=summary)
    return summary
