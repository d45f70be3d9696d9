"""The one error type bad stack config raises, naming the key (and, once located, file and line)."""

from __future__ import annotations

ConfigPath = tuple[str | int, ...]


def render_path(namespace: str, path: ConfigPath) -> str:
    """Render a key path the way `pulumi config get --path` spells it: `ns:a.b[0].c`."""
    text = f"{namespace}:{path[0]}" if path else namespace
    for part in path[1:]:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


class ConfigError(ValueError):
    """A stack config value that cannot be used; `path` is the key path inside the namespace."""

    def __init__(self, path: ConfigPath, problem: str, namespace: str = "reporting") -> None:
        self.path = path
        self.problem = problem
        self.namespace = namespace
        self.location = ""
        super().__init__(self._message())

    @property
    def key(self) -> str:
        return render_path(self.namespace, self.path)

    def locate(self, location: str) -> ConfigError:
        """Prefix the message with `file:line` once the caller knows where the key lives."""
        self.location = location
        self.args = (self._message(),)
        return self

    def _message(self) -> str:
        prefix = f"{self.location}: " if self.location else ""
        return f"{prefix}{self.key}: {self.problem}"
