"""One staging-bucket object, end to end: copied or converted into the landing bucket, once.

Idempotent: the destination of a source version is always the same key, and it is written only
after a HEAD finds no object there from that version. Two deliveries racing past the HEAD write
the same bytes twice, as two versions; a delivery after the landing loader has moved the file
away writes it again. Either way the loader adds no rows: a stream dataset's staging table holds
each (item keys, sequence number) once, and its inserts skip a repeat.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from tempfile import SpooledTemporaryFile
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from botocore.exceptions import ClientError

from functions.catalog import Catalog
from functions.cross_account_copier.conversion import convert_records
from functions.cross_account_copier.landing_requests import add_landing_conditions
from functions.cross_account_copier.routing import Route, StagingFileError, route
from functions.cross_account_copier.settings import CopierSettings
from functions.streams.envelope import Projection
from functions.streams.environment import SettingsError

if TYPE_CHECKING:
    from boto3.s3.transfer import TransferConfig

# CopyObject's limit; the managed copy switches to a multipart copy of parts at and above it.
COPY_OBJECT_LIMIT = 5 * 1024**3
COPY_PART_BYTES = 256 * 1024**2
# A converted file is built in memory up to this size, then in /tmp; uploaded once complete.
SPOOL_MEMORY_BYTES = 32 * 1024**2
# s3transfer's default, named: the upload reads up to ten parts of this size into memory at once.
UPLOAD_PART_BYTES = 8 * 1024**2
READ_BUFFER_BYTES = 1024**2
# What the converter writes: JSON Lines, compressed.
ENVELOPES_CONTENT_TYPE = "application/x-ndjson"
ENVELOPES_CONTENT_ENCODING = "gzip"


@dataclass
class CrossAccountCopier:
    """Moves staging files of one platform with the source account's S3 client."""

    s3: Any
    catalog: Catalog
    settings: CopierSettings

    def __post_init__(self) -> None:
        if self.settings.platform not in self.catalog.platforms:
            raise SettingsError(
                f"environment variable PLATFORM: {self.settings.platform!r} has no datasets in "
                f"{self.settings.catalog_file}"
            )
        add_landing_conditions(
            self.s3,
            self.settings.landing_bucket,
            self.settings.landing_account_id,
            self.settings.landing_key_arn,
        )

    def process(self, bucket: str, key: str, version_id: str | None) -> dict[str, Any]:
        """Copies or converts one object named by an S3 event; the dict says what happened."""
        source = f"s3://{bucket}/{key}"
        staged = route(key, self.settings.platform, self.catalog)
        if staged is None:
            return {"status": "skipped", "source": source}
        if not version_id:
            # Without a version the copy could take a newer object than the event's.
            raise StagingFileError(f"{source}: no version id; the staging bucket is not versioned")
        result = {
            "source": source,
            "version": version_id,
            "destination": f"s3://{self.settings.landing_bucket}/{staged.landing_key}",
        }
        # S3 metadata is ASCII: the key is kept percent-encoded.
        origin = {
            "source-bucket": bucket,
            "source-key": quote(key, safe="/"),
            "source-version": version_id,
        }
        landed = self._landed_metadata(staged.landing_key)
        if landed is not None and all(landed.get(name) == value for name, value in origin.items()):
            return {**result, "status": "already_copied"}
        copy_source = {"Bucket": bucket, "Key": key, "VersionId": version_id}
        if staged.needs_conversion:
            envelopes = self._convert(copy_source, staged, origin, source)
            return {**result, "status": "converted", "envelopes": envelopes}
        self._copy(copy_source, staged, origin)
        return {**result, "status": "copied"}

    def _landed_metadata(self, landing_key: str) -> dict[str, str] | None:
        """The metadata of the landing object at `landing_key`, or None if there is none."""
        try:
            response = self.s3.head_object(Bucket=self.settings.landing_bucket, Key=landing_key)
        except ClientError as error:
            # S3 answers a missing key with 404 only to callers that may list the bucket; the
            # copier may not (it would see other platforms' file names), so it gets 403. Taking
            # 403 as "not there" is safe: if access really is denied, the copy that follows
            # fails with AccessDenied itself.
            if error.response.get("Error", {}).get("Code") in ("403", "404", "NoSuchKey"):
                return None
            raise
        return response.get("Metadata", {})

    def _copy(self, copy_source: dict[str, str], staged: Route, origin: dict[str, str]) -> None:
        """Server side: no bytes pass through the function."""
        head = self.s3.head_object(**copy_source)
        # Replacing the metadata replaces the content headers too: they are carried over.
        content = {
            name: head[name] for name in ("ContentType", "ContentEncoding") if head.get(name)
        }
        self.s3.copy(
            CopySource=copy_source,
            Bucket=self.settings.landing_bucket,
            Key=staged.landing_key,
            ExtraArgs={**content, "Metadata": origin, "MetadataDirective": "REPLACE"},
            Config=_transfer_config(COPY_OBJECT_LIMIT, COPY_PART_BYTES),
        )

    def _convert(
        self, copy_source: dict[str, str], staged: Route, origin: dict[str, str], source: str
    ) -> int:
        """Streams the records through a spooled file; the projection drops every attribute
        the dataset does not declare, so those never leave the source account."""
        body = self.s3.get_object(**copy_source)["Body"]
        with (
            io.BufferedReader(body, buffer_size=READ_BUFFER_BYTES) as records,
            SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES) as spool,
        ):
            envelopes = convert_records(records, spool, Projection.of(staged.dataset), source)
            spool.seek(0)
            self.s3.upload_fileobj(
                spool,
                self.settings.landing_bucket,
                staged.landing_key,
                ExtraArgs={
                    "ContentType": ENVELOPES_CONTENT_TYPE,
                    "ContentEncoding": ENVELOPES_CONTENT_ENCODING,
                    "Metadata": origin,
                },
                Config=_transfer_config(UPLOAD_PART_BYTES, UPLOAD_PART_BYTES),
            )
        return envelopes


def _transfer_config(multipart_threshold: int, part_bytes: int) -> TransferConfig:
    # Imported on first use, as boto3 is (see handler.py).
    from boto3.s3.transfer import TransferConfig  # noqa: PLC0415

    # The CRT transfer client sends no botocore events: the landing conditions would be left out.
    return TransferConfig(
        multipart_threshold=multipart_threshold,
        multipart_chunksize=part_bytes,
        preferred_transfer_client="classic",
    )
