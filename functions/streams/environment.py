"""Reading the stream functions' environment, with errors naming the variable."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


class SettingsError(ValueError):
    """A required environment variable is missing or invalid; the message names it."""


def required(environment: Mapping[str, str], name: str) -> str:
    """The non-empty text of variable `name`."""
    text = environment.get(name, "").strip()
    if not text:
        raise SettingsError(f"environment variable {name} is required")
    return text


def json_object(environment: Mapping[str, str], name: str) -> dict[str, Any]:
    """The non-empty JSON object in variable `name`."""
    text = required(environment, name)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise SettingsError(f"environment variable {name} is not JSON: {error}") from None
    if not isinstance(value, dict) or not value:
        raise SettingsError(f"environment variable {name} must be a non-empty JSON object")
    return value
