"""The extractor's settings, read once from its environment."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from functions.catalog import bundle_file
from functions.extractor.sql import ENGINES

DEFAULT_OVERLAP_SECONDS = 300
_REPLICA_KEYS = {"engine", "host", "port", "database", "secret_arn", "driver"}


class SettingsError(ValueError):
    """A required environment variable is missing or invalid; the message names it."""


@dataclass(frozen=True)
class Replica:
    """One read replica of a platform: where it is and the secret holding its login."""

    platform: str
    # The name the catalog's `extract.database` uses for it.
    name: str
    engine: str
    host: str
    port: int
    # The database to connect to on that server.
    database: str
    # JSON {"username": ..., "password": ...}; read on every connect (rotations).
    secret_arn: str
    # The ODBC driver's name in the layer's odbcinst.ini; None: the engine's default.
    driver: str | None = None


@dataclass(frozen=True)
class ExtractorSettings:
    """Everything the handler takes from its environment."""

    landing_bucket: str
    catalog_file: Path
    hash_key_secret_arn: str
    # By platform, then by replica name.
    replicas: Mapping[str, Mapping[str, Replica]]
    # Rows whose timestamp watermark is this much older than the stored one are read again.
    overlap: timedelta

    @classmethod
    def from_environment(cls, environment: Mapping[str, str]) -> ExtractorSettings:
        """Reads LANDING_BUCKET, CATALOG_FILE (optional), HASH_KEY_SECRET_ARN, REPLICAS (JSON:
        platform -> replica name -> engine, host, port, database, secret_arn, driver?) and
        OVERLAP_SECONDS (optional, default 300)."""
        overlap = environment.get("OVERLAP_SECONDS", "").strip() or str(DEFAULT_OVERLAP_SECONDS)
        if not overlap.isdecimal() or not overlap.isascii():
            raise SettingsError("environment variable OVERLAP_SECONDS must be whole seconds")
        return cls(
            landing_bucket=_required(environment, "LANDING_BUCKET"),
            catalog_file=bundle_file(environment),
            hash_key_secret_arn=_required(environment, "HASH_KEY_SECRET_ARN"),
            replicas=_replicas(_required(environment, "REPLICAS")),
            overlap=timedelta(seconds=int(overlap)),
        )


def _replicas(text: str) -> dict[str, dict[str, Replica]]:
    try:
        platforms = json.loads(text)
    except json.JSONDecodeError as error:
        raise SettingsError(f"environment variable REPLICAS is not JSON: {error}") from None
    if not isinstance(platforms, dict) or not all(
        isinstance(replicas, dict) for replicas in platforms.values()
    ):
        raise SettingsError(
            "environment variable REPLICAS must map platforms to {replica name: replica}"
        )
    return {
        platform: {name: _replica(platform, name, entry) for name, entry in replicas.items()}
        for platform, replicas in platforms.items()
    }


def _replica(platform: str, name: str, entry: Any) -> Replica:
    where = f"environment variable REPLICAS: {platform}.{name}"
    if not isinstance(entry, dict) or set(entry) - _REPLICA_KEYS:
        raise SettingsError(f"{where} takes only {', '.join(sorted(_REPLICA_KEYS))}")
    if entry.get("engine") not in ENGINES:
        raise SettingsError(f"{where}.engine must be one of {', '.join(ENGINES)}")
    texts = {key: entry.get(key) for key in ("host", "database", "secret_arn")}
    for key, value in texts.items():
        if not isinstance(value, str) or not value:
            raise SettingsError(f"{where}.{key} must be a non-empty string")
    port = entry.get("port")
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        raise SettingsError(f"{where}.port must be a TCP port")
    driver = entry.get("driver")
    if driver is not None and (not isinstance(driver, str) or not driver):
        raise SettingsError(f"{where}.driver must be a non-empty string")
    return Replica(
        platform=platform,
        name=name,
        engine=entry["engine"],
        host=texts["host"],
        port=port,
        database=texts["database"],
        secret_arn=texts["secret_arn"],
        driver=driver,
    )


def _required(environment: Mapping[str, str], name: str) -> str:
    value = environment.get(name, "").strip()
    if not value:
        raise SettingsError(f"environment variable {name} is required")
    return value
