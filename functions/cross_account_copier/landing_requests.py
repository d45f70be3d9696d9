"""The landing bucket's conditions, added to every request the copier's S3 client sends it.

Added per request by a botocore event rather than passed by each caller, because the managed
transfers make requests of their own: s3transfer refuses `BucketKeyEnabled` among its extra
arguments, and would send a copy's `ExpectedBucketOwner` on its HEAD of the source object too
(boto/s3transfer#232), where the source account owns the bucket.
"""

from __future__ import annotations

from typing import Any

# The requests that create an object, and so take its encryption.
OBJECT_WRITES = frozenset({"PutObject", "CopyObject", "CreateMultipartUpload"})


def add_landing_conditions(s3: Any, bucket: str, account_id: str, key_arn: str) -> None:
    """From now on, `s3`'s requests to `bucket` check that `account_id` owns it (confused-deputy
    protection: a bucket of that name in another account is refused), and its writes encrypt
    with `key_arn` behind an S3 Bucket Key."""

    def add_conditions(params: dict[str, Any], model: Any, **_: Any) -> None:
        if params.get("Bucket") != bucket:
            return
        params["ExpectedBucketOwner"] = account_id
        if model.name in OBJECT_WRITES:
            params["ServerSideEncryption"] = "aws:kms"
            params["SSEKMSKeyId"] = key_arn
            params["BucketKeyEnabled"] = True

    s3.meta.events.register("before-parameter-build.s3", add_conditions)
