"""The stream forwarder's settings, read once from its environment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from functions.catalog import bundle_file
from functions.streams.environment import SettingsError, json_object, required


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
    dead_letter_queue_url: str

    @classmethod
    def from_environment(cls, environment: Mapping[str, str]) -> ForwarderSettings:
        """Reads CATALOG_FILE (optional), STREAM_ROUTES (JSON: table -> dataset, stream) and
        DEAD_LETTER_QUEUE_URL."""
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
            catalog_file=bundle_file(environment),
            routes=routes,
            dead_letter_queue_url=required(environment, "DEAD_LETTER_QUEUE_URL"),
        )
