"""Typed, path-aware reading of one mapping of stack config.

Every accessor records the key it read, so `finish()` can reject keys nobody reads (typos), and
every failure is a ConfigError that carries the full key path.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from stack_config.errors import ConfigError, ConfigPath

T = TypeVar("T")
_MISSING: Any = object()


class Section:
    """One mapping of config at a known path."""

    def __init__(self, values: Any, path: ConfigPath) -> None:
        if not isinstance(values, Mapping):
            raise ConfigError(path, f"must be a mapping of keys to values, got {_kind(values)}")
        self._values = values
        self.path = path
        self._read: set[str] = set()

    def error(self, key: str | int, problem: str) -> ConfigError:
        """An error about one of this section's keys."""
        return ConfigError((*self.path, key), problem)

    def written_keys(self) -> list[str]:
        """The keys written in this mapping, for free-form mappings (each read with `scalar`)."""
        return list(self._values)

    def scalar(self, key: str) -> str | int | float | bool:
        """A plain string, number or boolean."""
        value = self._get(key, _MISSING)
        if isinstance(value, (Mapping, list)):
            raise self.error(key, f"must be a plain value, got {_kind(value)}")
        return value

    def text(
        self,
        key: str,
        default: str = _MISSING,
        check: Callable[[str], T] | None = None,
    ) -> Any:
        """A string, optionally converted or validated by `check` (which raises ValueError)."""
        value = self._get(key, default)
        if not isinstance(value, str) or not value.strip():
            raise self.error(key, f"must be a non-empty string, got {_kind(value)}")
        return self._checked(key, value, check)

    def integer(self, key: str, minimum: int, maximum: int, default: int | None = _MISSING) -> Any:
        value = self._get(key, default)
        if value is None:
            return None
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, f"must be a whole number, got {_kind(value)}")
        if not minimum <= value <= maximum:
            raise self.error(key, f"must be between {minimum} and {maximum}, got {value}")
        return value

    def flag(self, key: str, default: bool = _MISSING) -> bool:
        value = self._get(key, default)
        if isinstance(value, str) and value in ("true", "false"):
            value = value == "true"
        if not isinstance(value, bool):
            raise self.error(key, f"must be true or false, got {_kind(value)}")
        return value

    def texts(
        self,
        key: str,
        check: Callable[[str], T] | None = None,
        default: list[str] = _MISSING,
        min_items: int = 1,
    ) -> tuple[Any, ...]:
        """A list of strings, each optionally converted or validated by `check`."""
        items = self._list(key, default, min_items)
        converted = []
        for index, item in enumerate(items):
            if not isinstance(item, str) or not item.strip():
                raise ConfigError(
                    (*self.path, key, index), f"must be a non-empty string, got {_kind(item)}"
                )
            converted.append(self._checked(key, item, check, index))
        return tuple(converted)

    def section(self, key: str, default: Mapping[str, Any] = _MISSING) -> Section:
        return Section(self._get(key, default), (*self.path, key))

    def switchable_section(self, key: str, default: Mapping[str, Any]) -> Section | None:
        """A mapping that `false` turns off (None), `default` when not written."""
        value = self._get(key, default)
        if value is False or value == "false":
            return None
        return Section(value, (*self.path, key))

    def sections(
        self, key: str, default: list[Any] = _MISSING, min_items: int = 1
    ) -> list[Section]:
        items = self._list(key, default, min_items)
        return [Section(item, (*self.path, key, index)) for index, item in enumerate(items)]

    def finish(self) -> None:
        """Reject keys that were never read: a typo must not silently fall back to a default."""
        for key in self._values:
            if key not in self._read:
                hint = difflib.get_close_matches(str(key), sorted(self._read), n=1)
                suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
                raise self.error(str(key), f"is not a known key here{suggestion}")

    def _get(self, key: str, default: Any) -> Any:
        self._read.add(key)
        if key in self._values and self._values[key] is not None:
            return self._values[key]
        if default is _MISSING:
            raise self.error(key, "is required")
        return default

    def _list(self, key: str, default: Any, min_items: int) -> list[Any]:
        value = self._get(key, default)
        if not isinstance(value, list):
            raise self.error(key, f"must be a list, got {_kind(value)}")
        if len(value) < min_items:
            raise self.error(key, f"must have at least {min_items} item(s)")
        return value

    def _checked(self, key: str, value: str, check: Callable[[str], T] | None, index=None) -> Any:
        if check is None:
            return value
        try:
            return check(value)
        except ValueError as problem:
            path = (*self.path, key) if index is None else (*self.path, key, index)
            raise ConfigError(path, str(problem)) from None


def _kind(value: Any) -> str:
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)
