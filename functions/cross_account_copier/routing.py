"""Where a staging-bucket file goes in the landing bucket, and whether it needs converting.

    envelopes/<dataset>/<file>   change envelopes the Lambda pipeline wrote: copied as they are
    records/<dataset>/<file>     DynamoDB's Kinesis-destination records: converted to envelopes
    anything else                (Firehose's errors/ among them) never leaves the account

Both go to `incoming/<platform>/<dataset>/<file>` of the landing bucket, where the landing
loader picks them up. `<file>` may contain slashes (Firehose adds its own date folders).
"""

from __future__ import annotations

from dataclasses import dataclass

from functions.catalog import Catalog, Dataset, UnknownDatasetError

ENVELOPES = "envelopes/"
RECORDS = "records/"
# The landing loader's `functions.loader.layout.INCOMING`; not imported, so that the copier's
# package does not carry the loader.
INCOMING = "incoming/"


class StagingFileError(ValueError):
    """A staging file cannot go to the landing bucket; the message names the file and why."""


@dataclass(frozen=True)
class Route:
    """What becomes of one staging file."""

    dataset: Dataset
    landing_key: str
    needs_conversion: bool


def route(key: str, platform: str, catalog: Catalog) -> Route | None:
    """The route of staging key `key`, or None for a key the copier leaves alone.

    Raises StagingFileError when the dataset is not a change-stream dataset of `platform`.
    """
    if key.startswith(ENVELOPES):
        needs_conversion, rest = False, key.removeprefix(ENVELOPES)
    elif key.startswith(RECORDS):
        needs_conversion, rest = True, key.removeprefix(RECORDS)
    else:
        return None
    name, _, file = rest.partition("/")
    # A key ending in "/" is a folder marker (the console's "Create folder"), not a file.
    if not name or not file or file.endswith("/"):
        return None
    try:
        dataset = catalog.dataset(platform, name)
    except UnknownDatasetError:
        raise StagingFileError(f"{key}: no dataset {platform}/{name} in the catalog") from None
    if not dataset.is_change_stream:
        raise StagingFileError(
            f"{key}: dataset {dataset.qualified_name} is {dataset.file_format}, not dynamodb-stream"
        )
    return Route(dataset, f"{INCOMING}{platform}/{name}/{file}", needs_conversion)
