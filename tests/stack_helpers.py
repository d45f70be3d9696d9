"""Helpers shared by the Pulumi program tests: the real stack files, parsed."""

from __future__ import annotations

from offline.stack_files import raw_stack_config, stack_names
from stack_config import StackConfig, parse_stack_config

ENVIRONMENTS = ("dev", "prod")
ALL_STACKS = stack_names()
HUB_STACKS = [stack for stack in ALL_STACKS if "-" not in stack]
SPOKE_STACKS = [stack for stack in ALL_STACKS if "-" in stack]


def plain_config(stack: str) -> dict:
    """A stack file's `reporting:*` keys without their namespace, as the parser takes them."""
    return {
        key.split(":", 1)[1]: value
        for key, value in raw_stack_config(stack).items()
        if key.startswith("reporting:")
    }


def parsed_config(stack: str) -> StackConfig:
    return parse_stack_config(stack, plain_config(stack))
