"""Lambda entry point: S3 `ObjectCreated` events of a source account's staging bucket.

Runs in the source account, in its VPC (S3 through a gateway endpoint). A file that cannot be
copied raises: Lambda retries the event and then hands it to the on-failure destination.
Nothing reaches the landing bucket before a file has been read whole, so a failure leaves no
partial copy.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import S3Event, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.catalog import load_catalog_bundle
from functions.cross_account_copier.copier import CrossAccountCopier
from functions.cross_account_copier.settings import CopierSettings

logger = Logger(service="cross-account-copier")


@cache
def cross_account_copier() -> CrossAccountCopier:
    """Built on the first invocation and kept: settings, catalog and S3 client."""
    # Imported here, not with the module: boto3 takes about 130 ms to import, and this keeps
    # the module's import (Lambda's init phase) as short as the other stream functions'.
    import boto3  # noqa: PLC0415

    settings = CopierSettings.from_environment(os.environ)
    return CrossAccountCopier(
        s3=boto3.client("s3"),
        catalog=load_catalog_bundle(settings.catalog_file),
        settings=settings,
    )


@logger.inject_lambda_context
@event_source(data_class=S3Event)
def lambda_handler(event: S3Event, context: LambdaContext) -> dict[str, Any]:
    """Copies or converts each object of the event; returns what happened to each."""
    copier = cross_account_copier()
    results = []
    for record in event.records:
        s3_object = record.s3.get_object
        # Keys arrive URL-encoded in S3 events ("a b.gz" is "a+b.gz").
        result = copier.process(
            bucket=record.s3.bucket.name,
            key=unquote_plus(s3_object.key),
            version_id=s3_object.version_id,
        )
        logger.info(f"staging object {result['status']}", extra=result)
        results.append(result)
    return {"results": results}
