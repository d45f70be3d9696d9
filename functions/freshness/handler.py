"""Lambda entry point: an EventBridge Scheduler event (its content is not read).

Thin on purpose: `FreshnessCheck` reads the load ledger and publishes one alert listing every
stale dataset. A database or SNS failure raises, so the function's error alarm fires: a check
that cannot look must not pass for one that found everything fresh.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.freshness.check import FreshnessCheck
from functions.freshness.settings import FreshnessSettings

logger = Logger(service="freshness")


@cache
def freshness_check() -> FreshnessCheck:
    """Built on the first invocation and kept: settings and clients."""
    # Imported here, not with the module: boto3 takes about 130 ms to import.
    import boto3  # noqa: PLC0415

    settings = FreshnessSettings.from_environment(os.environ)
    return FreshnessCheck(
        settings=settings,
        open_database=settings.database_opener(lambda: boto3.client("secretsmanager")),
        sns=boto3.client("sns"),
    )


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Checks every watched dataset; returns (and logs) what it found."""
    summary = freshness_check().run()
    if summary["status"] == "skipped":
        logger.info("freshness not checked: the database is stopped or starting", extra=summary)
    elif summary["stale"]:
        logger.warning("stale datasets alerted", extra=summary)
    else:
        logger.info("every dataset is fresh", extra=summary)
    return summary
