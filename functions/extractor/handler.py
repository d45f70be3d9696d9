"""Lambda entry point: an EventBridge Scheduler event, `{"datasets": [...]}` optional.

Runs every extracted dataset of the platforms in REPLICAS, or the `<platform>/<dataset>` names
the event lists, one after the other. A dataset that fails is logged and the others still run;
the invocation then fails, naming them, so the function's error alarm fires (the next scheduled
run starts again from each dataset's stored watermark). A run short of time stops between pages
and stores how far it got ("partial"); the next one goes on from there.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.catalog import load_catalog_bundle
from functions.extractor.connections import ReplicaConnector
from functions.extractor.runs import Extractor
from functions.extractor.settings import ExtractorSettings

logger = Logger(service="extractor")
# No page starts after this share of the invocation's time: the page under way, its upload and
# the state writes finish in the rest. The next run goes on from the stored watermark.
PAGE_TIME_SHARE = 0.8


class ExtractsFailedError(RuntimeError):
    """Some datasets failed; the message names them and why."""


class InvalidEventError(ValueError):
    """The event's `datasets` is not a list of `<platform>/<dataset>` names."""


@cache
def extractor() -> Extractor:
    """Built on the first invocation and kept: settings, catalog and clients."""
    # Imported here, not with the module: boto3 takes about 130 ms to import.
    import boto3  # noqa: PLC0415

    settings = ExtractorSettings.from_environment(os.environ)
    secrets = boto3.client("secretsmanager")
    return Extractor(
        settings=settings,
        catalog=load_catalog_bundle(settings.catalog_file),
        s3=boto3.client("s3"),
        secrets=secrets,
        connector=ReplicaConnector(secrets),
    )


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Extracts the datasets; returns one result per dataset, or raises if any failed."""
    names = event.get("datasets")
    if names is not None and not (
        isinstance(names, list) and all(isinstance(name, str) for name in names)
    ):
        raise InvalidEventError('"datasets" must be a list of "<platform>/<dataset>" names')
    results = extractor().run(names, _page_budget(context))
    for result in results:
        if result["status"] == "failed":
            logger.error("extract failed", extra=result)
        else:
            logger.info(f"extract {result['status']}", extra=result)
    failed = [result for result in results if result["status"] == "failed"]
    if failed:
        raise ExtractsFailedError(
            "; ".join(f"{result['dataset']}: {result['error']}" for result in failed)
        )
    return {"results": results}


def _page_budget(context: LambdaContext) -> Callable[[], bool]:
    """True while a new page may start."""
    deadline = time.monotonic() + context.get_remaining_time_in_millis() / 1000 * PAGE_TIME_SHARE
    return lambda: time.monotonic() < deadline
