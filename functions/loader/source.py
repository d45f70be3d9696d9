"""The object a load reads: an S3 object version, or a local file."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SourceObject:
    """Identifies one version of a file; the ledger records each version at most once."""

    bucket: str
    key: str
    # The S3 version id, `etag:<ETag>` where the bucket is not versioned, or `sha256:<hex>`
    # for a local file.
    version: str

    @classmethod
    def s3(cls, bucket: str, key: str, version_id: str | None, etag: str) -> SourceObject:
        """An S3 object: its version id if the bucket is versioned, else its ETag."""
        if version_id:
            return cls(bucket=bucket, key=key, version=version_id)
        return cls(bucket=bucket, key=key, version="etag:" + etag.strip('"'))

    @classmethod
    def local(cls, path: Path) -> SourceObject:
        """A local file, identified by its absolute path and content."""
        digest = hashlib.sha256()
        with path.open("rb") as stream:
            for block in iter(lambda: stream.read(1 << 20), b""):
                digest.update(block)
        return cls(bucket="", key=str(path.resolve()), version=f"sha256:{digest.hexdigest()}")

    @property
    def uri(self) -> str:
        """`s3://bucket/key`, or the local file's `file://` URI."""
        return f"s3://{self.bucket}/{self.key}" if self.bucket else Path(self.key).as_uri()

    @property
    def ledger_key(self) -> str:
        """The ledger's primary key: a digest, since the parts can exceed an index key's size."""
        identity = "\0".join((self.bucket, self.key, self.version))
        return hashlib.sha256(identity.encode("utf-8")).hexdigest()
