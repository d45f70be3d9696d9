"""Report definitions: the samples are valid, and each mistake is named with file, line and
key."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from functions.report_runner.definitions import (
    DEFINITIONS_DIR,
    DefinitionError,
    load_definitions,
    read_definition,
)

VALID = """\
name: weekly
description: A weekly count.
schedule: "0 7 * * MON"
format: csv
recipients:
  - team@example.org
retention_days: 30
parameters:
  deleted: false
sql: |
  SELECT COUNT(*) AS n FROM maths_pupils_current
  WHERE _deleted = :deleted AND enrolled_at < :period_end
"""


def write(tmp_path: Path, text: str, name: str = "weekly") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_the_sample_definitions_are_valid() -> None:
    reports = load_definitions(DEFINITIONS_DIR)

    assert [r.name for r in reports] == ["maths-weekly-attainment", "reading-daily-progress"]
    assert {r.format for r in reports} == {"csv", "xlsx"}


def test_a_valid_definition_reads_with_defaults(tmp_path: Path) -> None:
    report = read_definition(write(tmp_path, VALID))

    assert report.timezone == "Europe/London"
    assert report.recipients == ("team@example.org",)
    assert report.parameters == {"deleted": False}
    assert report.query.parameter_names == ("deleted", "period_end")


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ("format: csv", "format: pdf", ":4: format: must be one of csv, xlsx"),
        ("format: csv", "fromat: csv", ":4: fromat: unknown key"),
        ('"0 7 * * MON"', '"0 7 * MON"', ":3: schedule: must be a five-field cron"),
        ('"0 7 * * MON"', '"0 7 * * FUNDAY"', ":3: schedule: not a cron expression"),
        ('"0 7 * * MON"', '"*/15 * * * *"', ":3: schedule: runs 15 minutes apart"),
        ("  - team@example.org", "  - team", ":6: recipients.0: must be an email address"),
        ("retention_days: 30", "retention_days: 0", ":7: retention_days: must be a whole"),
        ("  deleted: false", "  period_end: false", ":9: parameters.period_end: is bound"),
        ("  deleted: false", "  deleted: false\n  spare: 1", ":10: parameters.spare: is declared"),
        (":deleted AND", ":deletd AND", ":10: sql: :deletd is neither declared"),
        ("SELECT COUNT(*)", "DELETE", ":10: sql: must be a query"),
        ("name: weekly", "name: monthly", ":1: name: must match"),
        ("description: A weekly count.\n", "timezone: Mars/Olympus\n", ":2: timezone:"),
    ],
)
def test_a_mistake_names_file_line_and_key(tmp_path: Path, old: str, new: str, where: str) -> None:
    assert old in VALID
    path = write(tmp_path, VALID.replace(old, new))

    with pytest.raises(DefinitionError) as raised:
        read_definition(path)

    assert str(raised.value).startswith(f"{path}{where}")


def test_a_missing_key_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, VALID.replace("retention_days: 30\n", ""))

    with pytest.raises(DefinitionError, match=r"weekly.yaml:1: retention_days: is required"):
        read_definition(path)


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, VALID.replace("format: csv", "format: [csv"))

    with pytest.raises(DefinitionError, match=r"weekly.yaml:\d+: not valid YAML"):
        read_definition(path)


def test_a_repeated_recipient_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, VALID.replace("  - team@example.org", "  - a@x.org\n  - A@x.org"))

    with pytest.raises(DefinitionError, match="recipients: lists an address twice"):
        read_definition(path)


def test_the_check_command_exits_2_naming_the_bad_file(tmp_path: Path, capsys) -> None:
    from functions.report_runner.cli import main

    path = write(tmp_path, VALID.replace("format: csv", "format: pdf"))

    status = main(["check", str(tmp_path)])

    assert status == 2
    assert f"{path}:4: format: must be one of csv, xlsx" in capsys.readouterr().err


def test_the_check_command_lists_valid_reports(capsys) -> None:
    from functions.report_runner.cli import main

    assert main(["check", str(DEFINITIONS_DIR)]) == 0
    assert "2 report definition(s) valid" in capsys.readouterr().out
