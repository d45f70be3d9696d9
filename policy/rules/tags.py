"""Tags: every AWS resource that can carry tags carries Project, Environment, Platform and Owner
(components/tags.py `base_tags`), so cost and ownership can be read off AWS."""

from __future__ import annotations

import importlib
import inspect
import keyword
from collections.abc import Mapping
from functools import cache
from typing import Any

from policy.rules.values import is_unknown

REQUIRED_TAGS = ("Project", "Environment", "Platform", "Owner")


@cache
def is_taggable(resource_type: str) -> bool:
    """Whether the pulumi_aws class for `aws:<module>/<x>:<Class>` takes a `tags` argument.

    Read off the installed provider SDK rather than a list that goes stale; a type it does not
    know (a newer provider, a non-AWS type) counts as untaggable. The program sets tags on each
    resource (it uses no provider `defaultTags`), so `tags` in the inputs is the whole story.
    """
    if not resource_type.startswith("aws:") or resource_type.count(":") != 2:
        return False
    module = resource_type.split(":")[1].split("/", 1)[0]
    class_name = resource_type.rsplit(":", 1)[1]
    # Python keywords get a trailing underscore: aws:lambda/... lives in pulumi_aws.lambda_.
    python_module = f"{module}_" if keyword.iskeyword(module) else module
    try:
        cls = getattr(importlib.import_module(f"pulumi_aws.{python_module}"), class_name)
    except (ImportError, AttributeError):
        return False
    init = getattr(cls, "_internal_init", None)
    return init is not None and "tags" in inspect.signature(init).parameters


def required_tags(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """A taggable resource carries each of `REQUIRED_TAGS` with a value."""
    if not is_taggable(resource_type):
        return []
    tags = props.get("tags")
    if is_unknown(tags):
        return []
    tags = tags if isinstance(tags, Mapping) else {}
    missing = [
        key
        for key in REQUIRED_TAGS
        if not is_unknown(tags.get(key)) and not (isinstance(tags.get(key), str) and tags[key])
    ]
    return [f"tags lack {', '.join(missing)}"] if missing else []
