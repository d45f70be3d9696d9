"""`privacy: hash` columns: a keyed HMAC-SHA-256 of the value, so joins on it still work but the
value never leaves the source. The key is per environment, in Secrets Manager."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

# A key shorter than the hash's output would weaken the HMAC (RFC 2104, section 3).
MIN_KEY_BYTES = 32


class HashKeyError(ValueError):
    """The hash key secret is missing or too short (its value is never in the message)."""


class ValueHasher:
    """Hashes the text of values with one key."""

    def __init__(self, key: bytes) -> None:
        if len(key) < MIN_KEY_BYTES:
            raise HashKeyError(
                f"the hash key has {len(key)} bytes, at least {MIN_KEY_BYTES} needed"
            )
        self._key = key

    def hash_text(self, text: str) -> str:
        """64 lower-case hex characters: HMAC-SHA-256 of the text's UTF-8 bytes."""
        return hmac.new(self._key, text.encode("utf-8"), hashlib.sha256).hexdigest()

    @classmethod
    def from_secret(cls, secrets: Any, secret_arn: str) -> ValueHasher:
        """The hasher of the key in `secret_arn`: its string's UTF-8 bytes, or its binary."""
        secret = secrets.get_secret_value(SecretId=secret_arn)
        key = secret.get("SecretBinary") or secret.get("SecretString", "").encode("utf-8")
        if not key:
            raise HashKeyError(f"the hash key secret {secret_arn} has no value")
        return cls(key)
