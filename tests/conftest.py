"""Shared fixtures: mocked runs of the real program with the real stack files here; the
choice of AWS emulator in `emulator_choice`; the emulator, databases and account fixtures of
the function and end-to-end tests in `service_fixtures`, and a PostgreSQL source replica for
the extractor's in `source_replica`."""

from __future__ import annotations

import pytest
from stack_helpers import ALL_STACKS, ENVIRONMENTS, HUB_STACKS, SPOKE_STACKS

from offline.engine import StackRun
from offline.estate import Estate, run_environment

pytest_plugins = ["emulator_choice", "service_fixtures", "source_replica"]


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
