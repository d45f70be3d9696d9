"""Find where a config key is written in a stack file, so errors can say `file:line`."""

from __future__ import annotations

from pathlib import Path

import yaml

from stack_config.errors import ConfigPath


def key_line(stack_file: Path, namespaced_key: str, path: ConfigPath) -> int | None:
    """1-based line of the deepest part of `path` written under `config:` in `stack_file`
    (for a missing key, the line of its nearest parent)."""
    try:
        root = yaml.compose(stack_file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return None
    found = _child(root, "config")
    if found is None:
        return None
    line, node = found
    parts: list[str | int] = [namespaced_key, *path[1:]] if path else []
    for part in parts:
        found = _child(node, part)
        if found is None:
            break
        line, node = found
    return line


def _child(node: yaml.Node | None, part: str | int) -> tuple[int, yaml.Node] | None:
    """The line where `part` is written inside `node`, and its value."""
    if isinstance(node, yaml.MappingNode) and isinstance(part, str):
        for key, value in node.value:
            if key.value == part:
                return key.start_mark.line + 1, value
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        item = node.value[part]
        return item.start_mark.line + 1, item
    return None
