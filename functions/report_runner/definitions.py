"""Reads `reports/<name>.yaml`, one report definition per file, into validated definitions.

Errors name the file, the line and the key, e.g.
`reports/maths-weekly.yaml:7: schedule: not a cron expression (Wrong number of fields)`.
The same checks run at `pulumi preview` (the deployment reads the definitions for the reports
bucket's lifecycle) and on the server before any report runs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from cronsim import CronSim, CronSimError

from functions.report_runner.sql_text import QmarkQuery, SqlTextError, to_qmark

# The repository's definitions; the server's copy is named by REPORTS_DIRECTORY.
DEFINITIONS_DIR = Path(__file__).resolve().parents[2] / "reports"
FORMATS = ("csv", "xlsx")
# Bound by the runner for every run: the period the run covers, as the reporting tables store
# time (naive UTC), and the local date the period ends on.
BUILT_IN_PARAMETERS = ("period_start", "period_end", "report_date")
# Reports are periodic summaries: a schedule that fires more often than this is a mistake.
MIN_MINUTES_BETWEEN_RUNS = 60
MAX_RECIPIENTS = 50
MAX_RETENTION_DAYS = 3650
_NAME = re.compile(r"[a-z][a-z0-9-]{0,62}")
_PARAMETER = re.compile(r"[a-z][a-z0-9_]{0,62}")
_EMAIL = re.compile(r"[^@\s,;<>]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")
_KEYS = {
    "name",
    "description",
    "schedule",
    "timezone",
    "format",
    "recipients",
    "retention_days",
    "parameters",
    "sql",
}
_REQUIRED = ("name", "schedule", "recipients", "retention_days", "sql")


class DefinitionError(ValueError):
    """A report definition is invalid; the message names the file, line and key."""


@dataclass(frozen=True)
class ReportDefinition:
    name: str
    description: str
    # Five-field cron, read in `timezone` (daylight saving as cron does it).
    schedule: str
    timezone: str
    format: str
    recipients: tuple[str, ...]
    retention_days: int
    # Declared parameters and their values; the built-in ones are bound per run.
    parameters: Mapping[str, int | str | bool | date]
    query: QmarkQuery
    source: Path


def load_definitions(directory: str | Path) -> tuple[ReportDefinition, ...]:
    """Every `*.yaml` file of `directory`, validated, sorted by name (none is no error: a
    deployment may run no reports yet)."""
    return tuple(read_definition(path) for path in sorted(Path(directory).glob("*.yaml")))


def read_definition(path: Path) -> ReportDefinition:
    """One definition file, validated."""
    text = path.read_text(encoding="utf-8")
    try:
        document = _Document(path, yaml.compose(text), yaml.safe_load(text))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        raise DefinitionError(f"{path}{line}: not valid YAML ({error})") from None
    return document.definition()


class _Document:
    """One parsed file with the YAML nodes that say where each key is written."""

    def __init__(self, path: Path, root: yaml.Node | None, values: Any) -> None:
        self.path = path
        self.root = root
        if not isinstance(values, Mapping):
            raise self.error((), "a report definition is a mapping of keys to values")
        self.values = values

    def error(self, key: tuple[str, ...], message: str) -> DefinitionError:
        label = ".".join(key) if key else "<document>"
        return DefinitionError(f"{self.path}:{self._line(key)}: {label}: {message}")

    def definition(self) -> ReportDefinition:
        unknown = sorted(set(self.values) - _KEYS)
        if unknown:
            raise self.error((unknown[0],), f"unknown key (known: {', '.join(sorted(_KEYS))})")
        for key in _REQUIRED:
            if key not in self.values:
                raise self.error((key,), "is required")
        name = self._text("name")
        if not _NAME.fullmatch(name) or name != self.path.stem:
            raise self.error(
                ("name",), f"must match {_NAME.pattern} and the file name ({self.path.stem!r})"
            )
        timezone = self._timezone()
        parameters = self._parameters()
        return ReportDefinition(
            name=name,
            description=self._text("description", default=""),
            schedule=self._schedule(timezone),
            timezone=timezone,
            format=self._format(),
            recipients=self._recipients(),
            retention_days=self._integer("retention_days", 1, MAX_RETENTION_DAYS),
            parameters=parameters,
            query=self._query(parameters),
            source=self.path,
        )

    def _text(self, key: str, default: str | None = None) -> str:
        value = self.values.get(key, default)
        if not isinstance(value, str) or (not value.strip() and default is None):
            raise self.error((key,), "must be a non-empty string")
        return value.strip()

    def _integer(self, key: str, lowest: int, highest: int) -> int:
        value = self.values.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or not lowest <= value <= highest:
            raise self.error((key,), f"must be a whole number from {lowest} to {highest}")
        return value

    def _timezone(self) -> str:
        timezone = self._text("timezone", default="Europe/London")
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise self.error(("timezone",), f"{timezone!r} is not an IANA time zone") from None
        return timezone

    def _schedule(self, timezone: str) -> str:
        schedule = self._text("schedule")
        if len(schedule.split()) != 5:
            raise self.error(("schedule",), "must be a five-field cron expression")
        try:
            gap = shortest_gap(schedule, timezone)
        except CronSimError as error:
            raise self.error(("schedule",), f"not a cron expression ({error})") from None
        if gap < timedelta(minutes=MIN_MINUTES_BETWEEN_RUNS):
            raise self.error(
                ("schedule",),
                f"runs {gap.total_seconds() / 60:.0f} minutes apart: a report runs at most "
                f"every {MIN_MINUTES_BETWEEN_RUNS} minutes",
            )
        return schedule

    def _format(self) -> str:
        value = self._text("format", default="csv")
        if value not in FORMATS:
            raise self.error(("format",), f"must be one of {', '.join(FORMATS)}")
        return value

    def _recipients(self) -> tuple[str, ...]:
        value = self.values.get("recipients")
        if not isinstance(value, list) or not 1 <= len(value) <= MAX_RECIPIENTS:
            raise self.error(
                ("recipients",), f"must be a list of 1 to {MAX_RECIPIENTS} email addresses"
            )
        for index, address in enumerate(value):
            if not isinstance(address, str) or not _EMAIL.fullmatch(address.strip()):
                raise self.error(("recipients", str(index)), "must be an email address")
        if len({a.strip().lower() for a in value}) != len(value):
            raise self.error(("recipients",), "lists an address twice")
        return tuple(address.strip() for address in value)

    def _parameters(self) -> dict[str, int | str | bool | date]:
        value = self.values.get("parameters", {})
        if not isinstance(value, Mapping):
            raise self.error(("parameters",), "must be a mapping of names to values")
        for name, item in value.items():
            key = ("parameters", str(name))
            if not isinstance(name, str) or not _PARAMETER.fullmatch(name):
                raise self.error(key, f"a parameter name must match {_PARAMETER.pattern}")
            if name in BUILT_IN_PARAMETERS:
                raise self.error(key, "is bound by the runner for every run; choose another name")
            if isinstance(item, datetime) or not isinstance(item, int | str | bool | date):
                raise self.error(key, "must be a whole number, a string, true/false or a date")
        return dict(value)

    def _query(self, parameters: Mapping[str, object]) -> QmarkQuery:
        try:
            query = to_qmark(self._text("sql"))
        except SqlTextError as error:
            raise self.error(("sql",), str(error)) from None
        known = {*BUILT_IN_PARAMETERS, *parameters}
        unknown = [name for name in query.parameter_names if name not in known]
        if unknown:
            raise self.error(
                ("sql",),
                f":{unknown[0]} is neither declared under parameters nor one of "
                f"{', '.join(BUILT_IN_PARAMETERS)}",
            )
        unused = sorted(set(parameters) - set(query.parameter_names))
        if unused:
            raise self.error(("parameters", unused[0]), "is declared but the SQL never uses it")
        return query

    def _line(self, key: tuple[str, ...]) -> int:
        """1-based line of the deepest part of `key` written in the file."""
        node = self.root
        line = 1 if node is None else node.start_mark.line + 1
        for part in key:
            child = _child(node, part)
            if child is None:
                break
            line, node = child
        return line


def _child(node: yaml.Node | None, part: str) -> tuple[int, yaml.Node] | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == part:
                return key.start_mark.line + 1, value
    if isinstance(node, yaml.SequenceNode) and part.isdigit() and int(part) < len(node.value):
        item = node.value[int(part)]
        return item.start_mark.line + 1, item
    return None


def shortest_gap(schedule: str, timezone: str, runs: int = 400) -> timedelta:
    """The shortest time between consecutive runs over the next `runs` runs from a fixed day
    (a year of a weekly schedule, more than two weeks of an hourly one)."""
    start = datetime(2026, 1, 1, tzinfo=ZoneInfo(timezone))
    times = CronSim(schedule, start)
    previous = next(times)
    gap = timedelta.max
    for _ in range(runs):
        current = next(times)
        gap = min(gap, current - previous)
        previous = current
    return gap
