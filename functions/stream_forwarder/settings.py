"""The stream forwarder's settings, read once from its environment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from functions.catalog import BUNDLE_NAME
from functions.streams.environment import SettingsError, json_object

# Where the deployment puts the catalog bundle in the function's package: beside `functions/`.
DEFAULT_CATALOG_FILE = Path(__file__).resolve().parents[2] / BUNDLE_NAME


@dataclass(frozen=True)
class StreamRoute:
    """Where one table's changes go: the dataset they belong to and the Kinesis stream."""

    dataset: str  # "<platform>/<dataset>"
    stream: str


@dataclass(frozen=True)
class ForwarderSettings:
    """Everything the handler takes from its environment."""

    catalog_file: Path
    routes: Mapping[str, StreamRoute]  # by DynamoDB table name

    @classmethod
    def from_environment(cls, environment: Mapping[str, str]) -> ForwarderSettings:
        """Reads CATALOG_FILE (optional) and STREAM_ROUTES (JSON: table -> dataset, stream)."""
        routes = {}
        for table, route in json_object(environment, "STREAM_ROUTES").items():
            if not (
                isinstance(route, dict)
                and isinstance(route.get("dataset"), str)
                and route["dataset"].count("/") == 1
                and isinstance(route.get("stream"), str)
                and route["stream"]
            ):
                raise SettingsError(
                    f"environment variable STREAM_ROUTES: table {table!r} needs"
                    ' {"dataset": "<platform>/<dataset>", "stream": "<kinesis stream name>"}'
                )
            routes[table] = StreamRoute(route["dataset"], route["stream"])
        return cls(
            catalog_file=Path(environment.get("CATALOG_FILE") or DEFAULT_CATALOG_FILE),
            routes=routes,
        )
