"""The README's promises table names rules and tests that exist: it cannot point at a rule that
was renamed or a test that was removed."""

from __future__ import annotations

import re
from pathlib import Path

from policy.rules import RESOURCE_RULES, STACK_RULES

PROJECT_DIR = Path(__file__).resolve().parents[2]


def _promise_rows() -> list[str]:
    readme = (PROJECT_DIR / "README.md").read_text()
    section = readme.split("## Access and security promises", 1)[1].split("\n## ", 1)[0]
    return [line for line in section.splitlines() if line.startswith("| ") and "---" not in line][
        1:
    ]


def test_every_promise_names_rules_or_tests_that_exist():
    rules = {rule.name for rule in (*RESOURCE_RULES, *STACK_RULES)}
    tests = "\n".join(path.read_text() for path in (PROJECT_DIR / "tests").rglob("test_*.py"))
    rows = _promise_rows()
    assert len(rows) >= 10
    for row in rows:
        names = re.findall(r"`([^`]+)`", row.split("|")[2])
        assert names, row
        for name in names:
            if name.startswith("test_"):
                assert f"def {name.removesuffix('...')}" in tests, name
            elif name.startswith("tests/"):
                assert (PROJECT_DIR / name).is_file(), name
            elif re.fullmatch(r"[a-z0-9-]+", name):
                assert name in rules, name


def test_every_rule_backs_a_promise():
    promised = "\n".join(_promise_rows())
    for rule in (*RESOURCE_RULES, *STACK_RULES):
        assert f"`{rule.name}`" in promised, rule.name
