"""Lambda entry point: S3 `ObjectCreated` events of the landing bucket's `incoming/` prefix.

Thin on purpose: the event is parsed by powertools and each record handed to `LandingLoader`.
A database that cannot be reached raises, so Lambda retries the event; everything else about a
file is settled inside (loaded and archived, or quarantined with an alert). The exception: a
database its DATABASE_SCHEDULE has stopped (out of hours) or still starting. Then the files stay
in `incoming/`, the invocation succeeds, and the incoming sweeper sends them again once the
database is up.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from functools import cache
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import S3Event, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.catalog import load_catalog_bundle
from functions.loader.database import ReusedDatabase
from functions.loader.errors import DatabaseStoppedError
from functions.loader.landing import LandingLoader
from functions.loader.merge import merge_failed
from functions.loader.settings import LoaderSettings

logger = Logger(service="landing-loader")
# The deployment alarms on this log line (components/landing_loader.py).
MERGE_FAILED_MESSAGE = "landing object loaded, merge failed"
# Logged at warning level, once per object, when the database is stopped out of hours.
DATABASE_STOPPED_MESSAGE = (
    "reporting database stopped out of hours; {key} stays in incoming/ for the sweeper"
)


def utc_now() -> datetime:
    """The time a failed connection is checked against DATABASE_SCHEDULE."""
    return datetime.now(UTC)


@cache
def landing_loader() -> LandingLoader:
    """Built on the first invocation and kept: clients, catalog and the database connection."""
    # Imported here, not with the module: boto3 takes about 130 ms to import (the functions
    # keep their module import, Lambda's init phase, short; the first event pays it instead).
    import boto3  # noqa: PLC0415

    settings = LoaderSettings.from_environment(os.environ)
    return LandingLoader(
        s3=boto3.client("s3"),
        sns=boto3.client("sns"),
        catalog=load_catalog_bundle(settings.catalog_file),
        database=ReusedDatabase(
            settings.database_opener(lambda: boto3.client("secretsmanager"), clock=utc_now)
        ),
        alert_topic_arn=settings.alert_topic_arn,
    )


@logger.inject_lambda_context
@event_source(data_class=S3Event)
def lambda_handler(event: S3Event, context: LambdaContext) -> dict[str, Any]:
    """Loads each object of the event; returns what happened to each."""
    loader = landing_loader()
    results = []
    stopped: DatabaseStoppedError | None = None
    for record in event.records:
        bucket = record.s3.bucket.name
        s3_object = record.s3.get_object
        # Keys arrive URL-encoded in S3 events ("a b.csv" is "a+b.csv").
        key = unquote_plus(s3_object.key)
        if stopped is None:
            try:
                result = loader.process(
                    bucket=bucket, key=key, version_id=s3_object.version_id, etag=s3_object.etag
                )
            except DatabaseStoppedError as error:
                # Not an error, so not retried: the sweeper sends the object again once the
                # database is up. The event's later objects wait too, without a login each.
                stopped = error
        if stopped is not None:
            result = {
                "status": "deferred",
                "source": f"s3://{bucket}/{key}",
                "reason": str(stopped),
            }
            logger.warning(DATABASE_STOPPED_MESSAGE.format(key=key), extra=result)
        elif merge_failed(result):
            # The load stands; an error log (unlike the result) can raise an alarm.
            logger.error(MERGE_FAILED_MESSAGE, extra=result)
        else:
            logger.info("landing object processed", extra=result)
        results.append(result)
    return {"results": results}
