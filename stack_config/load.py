"""Read the running stack's config from Pulumi and parse it, naming file and line on error."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pulumi
import yaml

from functions.catalog import Catalog, UnknownDatasetError, load_catalog
from functions.report_runner.definitions import (
    DEFINITIONS_DIR,
    ReportDefinition,
    load_definitions,
)
from stack_config.errors import ConfigError
from stack_config.locate import key_line
from stack_config.model import HubConfig, SpokeConfig, StackConfig
from stack_config.parse import parse_stack_config
from stack_config.reports import check_catch_up_window

NAMESPACE = "reporting"
# Keys whose values are YAML objects or lists; Pulumi hands those to the program as JSON text.
STRUCTURED_KEYS = (
    "account",
    "network",
    "officeCidrs",
    "landing",
    "reportingDatabase",
    "loader",
    "platforms",
    "platform",
    "changeStreams",
    "extractor",
    "schedules",
    "scheduler",
    "alerts",
    "freshness",
    "access",
    "reports",
)
SCALAR_KEYS = ("role", "environment", "owner", "schedule", "hubStack")


@cache
def project_definitions() -> tuple[ReportDefinition, ...]:
    """The report definitions the runner bundle ships (`reports/*.yaml`), validated once per
    run: the config's checks and the report server's lifecycle rules read the same."""
    return load_definitions(DEFINITIONS_DIR)


def load_stack_config(project_dir: Path) -> StackConfig:
    """The parsed config of the stack Pulumi is running (`pulumi.get_stack()`)."""
    stack = pulumi.get_stack()
    stack_file = project_dir / f"Pulumi.{stack}.yaml"
    raw = _read_raw(pulumi.Config(NAMESPACE), stack_file)
    try:
        config = parse_stack_config(stack, raw)
        catalog = load_catalog(project_dir / "datasets")
        if isinstance(config, SpokeConfig):
            check_streamed_datasets(config, catalog)
        else:
            check_freshness_datasets(config, catalog)
            if config.reports is not None:
                # A bad definition raises DefinitionError, naming its own file, line and key.
                check_catch_up_window(config, project_definitions())
        return config
    except ConfigError as error:
        line = (
            key_line(stack_file, f"{NAMESPACE}:{error.path[0]}", error.path) if error.path else None
        )
        raise error.locate(f"{stack_file.name}:{line}" if line else stack_file.name) from None


def check_streamed_datasets(config: SpokeConfig, catalog: Catalog) -> None:
    """Every streamed table feeds a `dynamodb-stream` dataset the catalog declares for this
    platform: the functions project changes onto its columns and the loader loads them."""
    if config.change_streams is None:
        return
    for index, streamed in enumerate(config.change_streams.tables):
        path = ("changeStreams", "tables", index, "dataset")
        try:
            dataset = catalog.dataset(config.platform.name, streamed.dataset)
        except UnknownDatasetError:
            raise ConfigError(
                path,
                f"datasets/{config.platform.name}.yaml declares no dataset '{streamed.dataset}'",
            ) from None
        if not dataset.is_change_stream:
            raise ConfigError(
                path,
                f"dataset '{dataset.qualified_name}' has format '{dataset.file_format}'; "
                "a streamed table needs 'dynamodb-stream'",
            )


def check_freshness_datasets(config: HubConfig, catalog: Catalog) -> None:
    """Every dataset the freshness check names is a catalog dataset of a platform of this hub
    (it watches those of attached platforms only)."""
    if config.freshness is None:
        return
    known = {link.name for link in config.platforms}
    for name, _ in config.freshness.datasets:
        platform, dataset = name.split("/")
        path = ("freshness", "datasets", name)
        if platform not in known:
            raise ConfigError(path, f"'{platform}' is not one of this hub's platforms")
        try:
            catalog.dataset(platform, dataset)
        except UnknownDatasetError as problem:
            raise ConfigError(path, str(problem)) from None


def _read_raw(config: pulumi.Config, stack_file: Path) -> dict[str, Any]:
    raw: dict[str, Any] = {key: config.get(key) for key in SCALAR_KEYS}
    for key in STRUCTURED_KEYS:
        text = config.get(key)
        raw[key] = None if text is None else _decode(key, text)
    # Pulumi.yaml gives role-specific keys empty defaults; an empty value means "not set".
    raw = {key: value for key, value in raw.items() if value not in (None, "", {}, [])}
    raw.update({key: True for key in _unknown_keys(stack_file)})
    return raw


def _decode(key: str, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise ConfigError((key,), "must be a YAML mapping or list, not a plain string") from None


def _unknown_keys(stack_file: Path) -> list[str]:
    """`reporting:*` keys written in the stack file that no reader knows: typos fail loudly."""
    try:
        document = yaml.safe_load(stack_file.read_text(encoding="utf-8")) or {}
    except OSError:
        return []
    known = set(STRUCTURED_KEYS) | set(SCALAR_KEYS)
    prefix = f"{NAMESPACE}:"
    return [
        key.removeprefix(prefix)
        for key in (document.get("config") or {})
        if key.startswith(prefix) and key.removeprefix(prefix) not in known
    ]
