"""The Firehose writer's settings, read once from its environment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from functions.streams.environment import SettingsError, json_object


@dataclass(frozen=True)
class WriterSettings:
    """Everything the handler takes from its environment."""

    delivery_routes: Mapping[str, str]  # Kinesis stream name -> Firehose stream name

    @classmethod
    def from_environment(cls, environment: Mapping[str, str]) -> WriterSettings:
        """Reads DELIVERY_ROUTES (JSON: Kinesis stream name -> Firehose stream name)."""
        routes = json_object(environment, "DELIVERY_ROUTES")
        for stream, delivery_stream in routes.items():
            if not isinstance(delivery_stream, str) or not delivery_stream:
                raise SettingsError(
                    f"environment variable DELIVERY_ROUTES: stream {stream!r} needs the name"
                    " of a Firehose stream"
                )
        return cls(delivery_routes=routes)
