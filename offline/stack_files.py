"""Read the project's Pulumi.yaml and stack files the way the Pulumi engine does."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

PROJECT_DIR = Path(__file__).resolve().parent.parent


class MissingConfigError(ValueError):
    """A key the project declares without a default is absent from the stack file."""


def project_settings(project_dir: Path = PROJECT_DIR) -> dict[str, Any]:
    return yaml.safe_load((project_dir / "Pulumi.yaml").read_text(encoding="utf-8"))


def project_name(project_dir: Path = PROJECT_DIR) -> str:
    return project_settings(project_dir)["name"]


def stack_names(project_dir: Path = PROJECT_DIR) -> list[str]:
    """Every stack with a `Pulumi.<stack>.yaml` file, sorted."""
    return sorted(
        path.name[len("Pulumi.") : -len(".yaml")] for path in project_dir.glob("Pulumi.*.yaml")
    )


def stack_file(stack: str, project_dir: Path = PROJECT_DIR) -> Path:
    return project_dir / f"Pulumi.{stack}.yaml"


def raw_stack_config(stack: str, project_dir: Path = PROJECT_DIR) -> dict[str, Any]:
    """The `config:` mapping of one stack file, values as YAML wrote them."""
    document = yaml.safe_load(stack_file(stack, project_dir).read_text(encoding="utf-8")) or {}
    return dict(document.get("config") or {})


def engine_config(
    stack: str, project_dir: Path = PROJECT_DIR, raw: dict[str, Any] | None = None
) -> dict[str, str]:
    """What the engine hands the program: stack values merged with the project's declared
    values and defaults, objects JSON-encoded, keys namespaced."""
    name = project_name(project_dir)
    merged = dict(raw_stack_config(stack, project_dir) if raw is None else raw)
    missing = []
    for key, declaration in (project_settings(project_dir).get("config") or {}).items():
        full_key = key if ":" in key else f"{name}:{key}"
        if full_key in merged:
            continue
        declared = declaration if isinstance(declaration, dict) else {"default": declaration}
        if "value" in declared:
            merged[full_key] = declared["value"]
        elif declared.get("default") is not None:
            merged[full_key] = declared["default"]
        elif full_key.startswith(f"{name}:"):
            missing.append(key)
    if missing:
        raise MissingConfigError(
            f"Stack '{stack}' is missing configuration value(s) {', '.join(sorted(missing))}"
        )
    return {key: _engine_value(value) for key, value in merged.items()}


def _engine_value(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value)
