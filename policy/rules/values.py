"""Resource properties as the rules read them: plain data (camelCase input names, policy
documents as JSON text), with one marker for what `pulumi preview` cannot know yet.

A value computed from another resource's output (a key ARN, a bucket policy built from the
bucket's ARN) is unknown until that resource exists. The policy pack turns each such value into
`UNKNOWN`; a rule that meets it cannot tell yet and reports nothing, and the same rule judges
the real value at `pulumi up`. A setting that is absent is different: nothing will fill it in,
so a rule that needs it reports it as missing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Final


class Unknown:
    """The type of `UNKNOWN`, the one marker for a value the engine computes only when the
    resource is created."""

    def __repr__(self) -> str:
        return "<unknown until deployed>"


UNKNOWN: Final = Unknown()
# An IAM, key or bucket policy document, parsed.
Document = Mapping[str, Any]


def is_unknown(value: Any) -> bool:
    return value is UNKNOWN


def lookup(value: Any, *keys: str) -> Any:
    """`value[k1][k2]...`: UNKNOWN as soon as a step is unknown, None when a step is absent."""
    for key in keys:
        if is_unknown(value):
            return UNKNOWN
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def as_list(value: Any) -> list[Any]:
    """IAM's "one or many": a single value as a one-element list, None as an empty one."""
    if value is None:
        return []
    if isinstance(value, Sequence) and not isinstance(value, str):
        return list(value)
    return [value]


def is_set(value: Any) -> bool:
    """Present and not empty (an unknown value counts: it will be something)."""
    return is_unknown(value) or value not in (None, "", [], {})


def document(value: Any) -> Document | Unknown | None:
    """A policy document given as JSON text (or already as a mapping); None if absent or not
    valid JSON."""
    if is_unknown(value) or isinstance(value, Mapping):
        return value
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = json.loads(value)
    except ValueError:
        return None
    return parsed if isinstance(parsed, Mapping) else None


def statements(doc: Document) -> list[Mapping[str, Any]]:
    """The statements of a document (`Statement` may be one object or a list)."""
    return [s for s in as_list(doc.get("Statement")) if isinstance(s, Mapping)]


def label(statement: Mapping[str, Any], index: int) -> str:
    """How a message names a statement: its Sid, else its position."""
    sid = statement.get("Sid")
    return f"statement {sid!r}" if isinstance(sid, str) and sid else f"statement #{index + 1}"


def port(value: Any) -> int | None:
    """A port number (the engine may hand numbers over as floats); None if unknown or absent."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


def shown(value: Any) -> str:
    """A setting's value in a message: "not set", a whole number without its ".0" (the engine
    hands numbers over as floats), else its repr."""
    if value is None:
        return "not set"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value)
