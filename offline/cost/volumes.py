"""The stated monthly workload (volumes.yaml): what the graph cannot say, such as GB stored,
requests and invocations. Parsed into frozen dataclasses; a bad value names its key."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

VOLUMES = Path(__file__).resolve().parent / "volumes.yaml"


class VolumesError(ValueError):
    """The volumes file cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class BucketVolume:
    stored_gb: float
    put_requests: float
    get_requests: float


@dataclass(frozen=True)
class FunctionVolume:
    """One function kind's month: invocations (None: the default's), duration and logs."""

    invocations: float | None
    average_ms: float
    log_gb: float


@dataclass(frozen=True)
class Volumes:
    hub_bucket: BucketVolume
    spoke_bucket: BucketVolume
    reports_bucket: BucketVolume
    default_function: FunctionVolume
    function_kinds: dict[str, FunctionVolume]
    other_log_group_gb: float
    logs_compressed_fraction: float
    replica_storage_gb: float
    gb_per_interface_endpoint: float
    requests_per_key: float
    api_calls_per_secret: float
    requests_per_queue: float
    publishes_per_topic: float
    records_per_stream: float
    average_record_kb: float
    readers_per_stream: float

    def function(self, kind: str) -> tuple[FunctionVolume, bool]:
        """The volume of function `kind`, and whether it is the default (kind not listed)."""
        stated = self.function_kinds.get(kind)
        if stated is None:
            return self.default_function, True
        invocations = (
            stated.invocations
            if stated.invocations is not None
            else self.default_function.invocations
        )
        return FunctionVolume(invocations, stated.average_ms, stated.log_gb), False


def load_volumes(path: Path = VOLUMES) -> Volumes:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as problem:
        raise VolumesError(f"{path.name}: {problem}") from None
    return parse_volumes(path.name, document)


def parse_volumes(name: str, document: Any) -> Volumes:
    top = _Section(name, "", document)
    s3, functions = top.section("s3"), top.section("lambda")
    logs, streams = top.section("logs"), top.section("streams")
    default = _function(functions.section("default"), invocations_required=True)
    kinds = functions.section("kinds")
    return Volumes(
        hub_bucket=_bucket(s3.section("hub")),
        spoke_bucket=_bucket(s3.section("spoke")),
        reports_bucket=_bucket(s3.section("reports")),
        default_function=default,
        function_kinds={
            kind: _function(kinds.section(kind), invocations_required=False) for kind in kinds.keys
        },
        other_log_group_gb=logs.number("otherGroupGb"),
        logs_compressed_fraction=logs.number("compressedFraction", maximum=1),
        replica_storage_gb=top.section("rds").number("replicaStorageGb"),
        gb_per_interface_endpoint=top.section("vpcEndpoints").number("gbPerInterfaceEndpoint"),
        requests_per_key=top.section("kms").number("requestsPerKey"),
        api_calls_per_secret=top.section("secretsManager").number("apiCallsPerSecret"),
        requests_per_queue=top.section("sqs").number("requestsPerQueue"),
        publishes_per_topic=top.section("sns").number("publishesPerTopic"),
        records_per_stream=streams.number("recordsPerStream"),
        average_record_kb=streams.number("averageRecordKb"),
        readers_per_stream=streams.number("readersPerStream"),
    )


def _bucket(section: _Section) -> BucketVolume:
    return BucketVolume(
        stored_gb=section.number("storedGb"),
        put_requests=section.number("putRequests"),
        get_requests=section.number("getRequests"),
    )


def _function(section: _Section, *, invocations_required: bool) -> FunctionVolume:
    return FunctionVolume(
        invocations=section.number("invocations")
        if invocations_required or "invocations" in section.keys
        else None,
        average_ms=section.number("averageMs"),
        log_gb=section.number("logGb"),
    )


class _Section:
    """One mapping of the file, for error messages that name the full key."""

    def __init__(self, file: str, path: str, value: Any) -> None:
        if not isinstance(value, Mapping):
            raise VolumesError(f"{file}: {path or 'the document'} must be a mapping")
        self._file, self._path, self._value = file, path, value

    @property
    def keys(self) -> list[str]:
        return [str(key) for key in self._value]

    def section(self, key: str) -> _Section:
        return _Section(self._file, self._where(key), self._required(key))

    def number(self, key: str, maximum: float | None = None) -> float:
        value = self._required(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise VolumesError(f"{self._file}: {self._where(key)} must be a number >= 0")
        if maximum is not None and value > maximum:
            raise VolumesError(f"{self._file}: {self._where(key)} must be at most {maximum}")
        return float(value)

    def _required(self, key: str) -> Any:
        if key not in self._value:
            raise VolumesError(f"{self._file}: {self._where(key)} is required")
        return self._value[key]

    def _where(self, key: str) -> str:
        return f"{self._path}.{key}" if self._path else key
