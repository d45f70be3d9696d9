"""`reporting:reports`: parsed into frozen settings with defaults; each bad value fails naming its
key (and, through the real program, file and line); the catch-up window must be shorter than
every report's retention."""

from __future__ import annotations

import copy
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from stack_helpers import HUB_STACKS, parsed_config, plain_config

from functions.report_runner.definitions import DEFINITIONS_DIR, load_definitions
from offline.engine import run_stack
from offline.stack_files import PROJECT_DIR
from stack_config import ConfigError, ReportServer, ReportSettings, parse_stack_config
from stack_config.reports import check_catch_up_window


@pytest.mark.parametrize("stack", HUB_STACKS)
def test_the_sample_hubs_run_a_report_server(stack):
    reports = parsed_config(stack).reports
    assert isinstance(reports, ReportSettings)
    assert reports.server == ReportServer(instance_type="t4g.small", check_every_minutes=15)
    assert (reports.link_expiry_hours, reports.catch_up_days) == (6, 7)
    assert reports.sender.endswith("@example.org")


def _with_reports(reports: dict | None) -> dict:
    raw = copy.deepcopy(plain_config("dev"))
    raw.pop("reports", None)
    if reports is not None:
        raw["reports"] = reports
    return raw


def test_absent_reports_means_no_report_server():
    assert parse_stack_config("dev", _with_reports(None)).reports is None


def test_only_the_sender_is_required():
    reports = parse_stack_config("dev", _with_reports({"sender": "example.org"})).reports
    assert reports == ReportSettings(
        sender="example.org",
        link_expiry_hours=6,
        catch_up_days=7,
        server=ReportServer(instance_type="t4g.small", check_every_minutes=15),
    )


@pytest.mark.parametrize(
    ("reports", "key", "words"),
    [
        ({"linkExpiryHours": 6}, "reporting:reports.sender", "is required"),
        ({"sender": "reports"}, "reporting:reports.sender", "an email address or a domain"),
        (
            {"sender": "a@b.org", "linkExpiryHours": 13},
            "reporting:reports.linkExpiryHours",
            "1 and 12",
        ),
        (
            {"sender": "a@b.org", "linkExpiryHours": 0},
            "reporting:reports.linkExpiryHours",
            "1 and 12",
        ),
        ({"sender": "a@b.org", "catchUpDays": 31}, "reporting:reports.catchUpDays", "1 and 30"),
        ({"sender": "a@b.org", "catchUpDays": 0}, "reporting:reports.catchUpDays", "1 and 30"),
        (
            {"sender": "a@b.org", "server": {"checkEveryMinutes": 4}},
            "reporting:reports.server.checkEveryMinutes",
            "between 5 and 60",
        ),
        (
            {"sender": "a@b.org", "server": {"checkEveryMinutes": 7}},
            "reporting:reports.server.checkEveryMinutes",
            "must divide the hour",
        ),
        (
            {"sender": "a@b.org", "server": {"instanceType": "small"}},
            "reporting:reports.server.instanceType",
            "an EC2 instance type",
        ),
        (
            {"sender": "a@b.org", "linkExpiryHour": 6},
            "reporting:reports.linkExpiryHour",
            "did you mean 'linkExpiryHours'?",
        ),
        (
            {"sender": "a@b.org", "server": {"instance": "t4g.small"}},
            "reporting:reports.server.instance",
            "is not a known key here",
        ),
    ],
)
def test_a_bad_reports_value_names_its_key(reports, key, words):
    with pytest.raises(ConfigError) as caught:
        parse_stack_config("dev", _with_reports(reports))
    assert caught.value.key == key
    assert words in str(caught.value)


def test_reports_is_a_hub_key():
    raw = copy.deepcopy(plain_config("dev-maths"))
    raw["reports"] = {"sender": "a@b.org"}
    with pytest.raises(ConfigError) as caught:
        parse_stack_config("dev-maths", raw)
    assert caught.value.key == "reporting:reports"


@dataclass(frozen=True)
class Retained:
    name: str
    retention_days: int


def test_the_catch_up_window_must_be_shorter_than_every_retention():
    config = parse_stack_config("dev", _with_reports({"sender": "a@b.org", "catchUpDays": 14}))
    check_catch_up_window(config, [Retained("weekly", 15), Retained("monthly", 400)])
    with pytest.raises(ConfigError) as caught:
        check_catch_up_window(config, [Retained("weekly", 15), Retained("daily", 14)])
    assert caught.value.key == "reporting:reports.catchUpDays"
    assert "the retention of report 'daily' (retention_days: 14 in reports/daily.yaml)" in str(
        caught.value
    )


def test_the_sample_catch_up_windows_fit_the_real_definitions():
    definitions = load_definitions(DEFINITIONS_DIR)
    assert definitions, "the repository defines reports"
    for stack in HUB_STACKS:
        check_catch_up_window(parsed_config(stack), definitions)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for name in ("Pulumi.yaml", "Pulumi.dev.yaml", "__main__.py"):
        shutil.copy(PROJECT_DIR / name, tmp_path / name)
    shutil.copytree(PROJECT_DIR / "datasets", tmp_path / "datasets")
    return tmp_path


def test_the_program_names_file_line_and_the_report_a_long_catch_up_outlives(project):
    shortest = min(load_definitions(DEFINITIONS_DIR), key=lambda d: d.retention_days)
    stack_file = project / "Pulumi.dev.yaml"
    text = stack_file.read_text()
    assert "    catchUpDays: 7\n" in text
    stack_file.write_text(
        text.replace("    catchUpDays: 7\n", f"    catchUpDays: {shortest.retention_days}\n")
    )
    line = next(
        number
        for number, written in enumerate(stack_file.read_text().splitlines(), 1)
        if "catchUpDays:" in written
    )
    with pytest.raises(ConfigError) as caught:
        run_stack("dev", project_dir=project)
    assert str(caught.value).startswith(
        f"Pulumi.dev.yaml:{line}: reporting:reports.catchUpDays: {shortest.retention_days} is "
        f"not less than the retention of report '{shortest.name}'"
    )
