"""Shared fixtures: mocked runs of the real program with the real stack files."""

from __future__ import annotations

import pytest

from offline.engine import StackRun
from offline.estate import Estate, run_environment
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


@pytest.fixture(scope="session")
def estates() -> dict[str, Estate]:
    """Every environment run under mocks in the documented deployment order (once per session)."""
    return {environment: run_environment(environment) for environment in ENVIRONMENTS}


@pytest.fixture(params=ALL_STACKS)
def stack_run(request, estates) -> StackRun:
    """The final mocked run of each stack file in turn."""
    return estates[request.param.split("-", 1)[0]].run_of(request.param)


@pytest.fixture(params=HUB_STACKS)
def hub_run(request, estates) -> StackRun:
    return estates[request.param].hub


@pytest.fixture(params=SPOKE_STACKS)
def spoke_run(request, estates) -> StackRun:
    return estates[request.param.split("-", 1)[0]].spokes[request.param]
