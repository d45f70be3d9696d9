"""Which AWS emulator the function and end-to-end tests run against (REPORTING_EMULATOR), what
it lacks, and the tests that are therefore not applicable on it.

- `moto` (the default): a moto server the session starts (service_fixtures); lacks nothing.
- `localstack`: LocalStack started on this host by scripts/localstack.sh, at LOCALSTACK_HOST;
  lacks what it cannot serve offline.
- `external`: whatever answers at LOCALSTACK_HOST=host:port; a LocalStack lacks what its
  /_localstack/health does not list as available, anything else is taken as a moto server.

A test marked `emulator_needs(...)` that needs what the emulator lacks is skipped before any
fixture runs, its reason starting "not applicable on". With REPORTING_REQUIRE_SERVICES=1 any
other skip fails the run.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.request import urlopen

import pytest

# What a test may need beyond what every emulator serves: the names `emulator_needs` takes.
NEEDS = {
    "dynamodb": "DynamoDB and DynamoDB Streams",
    "rds": "RDS",
    "sesv2": "SES v2",
    "cross-account-part-copy": "UploadPartCopy between accounts",
    "moto": "moto in this process",
}
# The services of LocalStack's /_localstack/health that each need stands for.
HEALTH_SERVICES = {
    "dynamodb": ("dynamodb", "dynamodbstreams"),
    "rds": ("rds",),
    "sesv2": ("sesv2",),
}
# What no LocalStack serves, wherever it runs. The demo's emulator is moto in its own process,
# by design: on a LocalStack lane it would only repeat the moto lane's run.
LOCALSTACK_LACKS = {
    "cross-account-part-copy": "UploadPartCopy between accounts (LocalStack 2026.3.0 looks "
    "both buckets up in the caller's account, unlike its CopyObject)",
    "moto": "moto (the demo runs its own moto in this process, by design)",
}
# What LocalStack started on this host (scripts/localstack.sh) cannot serve offline, and why.
LOCALSTACK_ON_HOST_LACKS = {
    "dynamodb": "DynamoDB (LocalStack runs DynamoDB Local, which it downloads with a Java 21 "
    "runtime at first use)",
    "rds": "RDS (not in open-source LocalStack)",
    "sesv2": "SES v2 (not in open-source LocalStack)",
    **LOCALSTACK_LACKS,
}
NOT_APPLICABLE = "not applicable on "


@dataclass(frozen=True)
class Emulator:
    """The AWS emulator of this session, as REPORTING_EMULATOR chose it."""

    kind: str  # moto, localstack or external
    software: str  # moto or localstack: how sent emails are read back
    label: str  # as skip reasons name it
    host: str  # host:port; empty for the moto server the session starts
    lacks: Mapping[str, str]  # need -> what is missing, and why

    @property
    def url(self) -> str:
        scheme = "https" if os.environ.get("USE_SSL") in ("1", "true") else "http"
        return f"{scheme}://{self.host}"

    def not_applicable(self, needs: tuple[str, ...]) -> str | None:
        """Why a test with these needs cannot run here, or None when it can."""
        unknown = sorted(set(needs) - NEEDS.keys())
        if unknown:
            raise pytest.UsageError(f"emulator_needs: unknown {unknown}, not one of {list(NEEDS)}")
        missing = [self.lacks[need] for need in needs if need in self.lacks]
        return f"{NOT_APPLICABLE}{self.label}: needs {'; '.join(missing)}" if missing else None


def read_json(url: str) -> Any:
    """The JSON document at `url`, or None when nothing answers there with one."""
    try:
        with urlopen(url, timeout=10) as response:
            return json.load(response)
    except (OSError, ValueError):
        return None


@cache
def chosen_emulator() -> Emulator:
    """The emulator REPORTING_EMULATOR names (an external one is asked what it serves)."""
    kind = os.environ.get("REPORTING_EMULATOR", "moto")
    if kind == "moto":
        return Emulator("moto", "moto", "moto", "", {})
    if kind not in ("localstack", "external"):
        raise pytest.UsageError(f"REPORTING_EMULATOR={kind}: one of moto, localstack, external")
    host = os.environ.get("LOCALSTACK_HOST", "")
    if not host:
        raise pytest.UsageError(
            f"REPORTING_EMULATOR={kind} needs LOCALSTACK_HOST=host:port"
            " (make test-localstack sets both)"
        )
    if kind == "localstack":
        return Emulator(kind, "localstack", "LocalStack", host, LOCALSTACK_ON_HOST_LACKS)
    external = Emulator(kind, "moto", f"the emulator at {host}", host, {})
    health = read_json(f"{external.url}/_localstack/health")
    if not isinstance(health, dict):
        # Not LocalStack: a moto server, say (or nothing: the `emulator_url` fixture says so).
        return external
    services = health.get("services", {})
    lacks = {
        need: f"{NEEDS[need]} (this LocalStack does not serve {', '.join(names)})"
        for need, names in HEALTH_SERVICES.items()
        if any(services.get(name) not in ("available", "running") for name in names)
    }
    return Emulator(kind, "localstack", f"LocalStack at {host}", host, lacks | LOCALSTACK_LACKS)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skips, before any fixture runs, the tests the chosen emulator cannot serve."""
    marked = [item for item in items if item.get_closest_marker("emulator_needs")]
    if not marked:
        return
    emulator = chosen_emulator()
    for item in marked:
        needs = tuple(arg for m in item.iter_markers("emulator_needs") for arg in m.args)
        reason = emulator.not_applicable(needs)
        if reason:
            item.add_marker(pytest.mark.skip(reason=reason))


def skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return reason.removeprefix("Skipped: ")


class SkipAudit:
    """Counts the tests not applicable on this emulator, and fails a run whose services are
    required when any other test skipped."""

    def __init__(self) -> None:
        self.not_applicable: list[str] = []
        self.other: list[tuple[str, str]] = []

    @pytest.hookimpl
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.skipped:
            reason = skip_reason(report)
            if reason.startswith(NOT_APPLICABLE):
                self.not_applicable.append(report.nodeid)
            else:
                self.other.append((report.nodeid, reason))

    @staticmethod
    def required() -> bool:
        return os.environ.get("REPORTING_REQUIRE_SERVICES") == "1"

    @pytest.hookimpl
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.required() and self.other and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    @pytest.hookimpl
    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.not_applicable:
            terminalreporter.write_line(
                f"{len(self.not_applicable)} tests not applicable on {chosen_emulator().label}"
                ": the SKIPPED lines say what each needs"
            )
        if self.required() and self.other:
            terminalreporter.write_sep("=", "skipped, but REPORTING_REQUIRE_SERVICES=1", red=True)
            for nodeid, reason in self.other:
                terminalreporter.write_line(f"{nodeid}: {reason}")


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(SkipAudit(), "reporting-skip-audit")
