"""The copier's settings, read once from its environment."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from functions.catalog import bundle_file
from functions.streams.environment import SettingsError, required

ACCOUNT_ID = re.compile(r"[0-9]{12}")
# A key ARN, never a key id or alias: S3 resolves those in the caller's (the source) account.
KMS_KEY_ARN = re.compile(r"arn:aws[a-z-]*:kms:[a-z0-9-]+:([0-9]{12}):key/[A-Za-z0-9-]+")


@dataclass(frozen=True)
class CopierSettings:
    """Everything the handler takes from its environment."""

    landing_bucket: str
    landing_account_id: str
    landing_key_arn: str
    platform: str
    catalog_file: Path

    @classmethod
    def from_environment(cls, environment: Mapping[str, str]) -> CopierSettings:
        """Reads LANDING_BUCKET, LANDING_ACCOUNT_ID, LANDING_KEY_ARN, PLATFORM, CATALOG_FILE."""
        account_id = required(environment, "LANDING_ACCOUNT_ID")
        if not ACCOUNT_ID.fullmatch(account_id):
            raise SettingsError("environment variable LANDING_ACCOUNT_ID must be 12 digits")
        key_arn = required(environment, "LANDING_KEY_ARN")
        key_match = KMS_KEY_ARN.fullmatch(key_arn)
        if key_match is None:
            raise SettingsError("environment variable LANDING_KEY_ARN must be a KMS key ARN")
        if key_match[1] != account_id:
            raise SettingsError(
                "environment variable LANDING_KEY_ARN must be a key of LANDING_ACCOUNT_ID"
            )
        return cls(
            landing_bucket=required(environment, "LANDING_BUCKET"),
            landing_account_id=account_id,
            landing_key_arn=key_arn,
            platform=required(environment, "PLATFORM"),
            catalog_file=bundle_file(environment),
        )
