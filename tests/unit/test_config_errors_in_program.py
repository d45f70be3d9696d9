"""A bad stack file stops the real program before any resource, naming file, line and key."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from offline.engine import run_stack
from offline.stack_files import PROJECT_DIR
from stack_config import ConfigError
from stack_config.locate import key_line


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for name in ("Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.dev-maths.yaml", "__main__.py"):
        shutil.copy(PROJECT_DIR / name, tmp_path / name)
    return tmp_path


def _line_of(path: Path, text: str) -> int:
    return next(
        number for number, line in enumerate(path.read_text().splitlines(), 1) if text in line
    )


def test_a_bad_value_is_reported_with_file_line_and_key(project):
    stack_file = project / "Pulumi.dev.yaml"
    stack_file.write_text(
        stack_file.read_text().replace("vpcCidr: 10.100.0.0/20", "vpcCidr: 10.100.0.0/33")
    )
    with pytest.raises(ConfigError) as caught:
        run_stack("dev", project_dir=project)
    line = _line_of(stack_file, "vpcCidr: 10.100.0.0/33")
    assert str(caught.value).startswith(f"Pulumi.dev.yaml:{line}: reporting:network.vpcCidr: ")


def test_an_error_inside_a_list_points_at_the_item(project):
    stack_file = project / "Pulumi.dev-maths.yaml"
    stack_file.write_text(stack_file.read_text().replace("engine: postgres", "engine: db2"))
    with pytest.raises(ConfigError) as caught:
        run_stack("dev-maths", {"example-edu/reporting/dev": {}}, project_dir=project)
    line = _line_of(stack_file, "engine: db2")
    assert str(caught.value).startswith(
        f"Pulumi.dev-maths.yaml:{line}: reporting:platform.databases[0].engine: "
    )


def test_an_unknown_top_level_key_is_refused(project):
    stack_file = project / "Pulumi.dev.yaml"
    stack_file.write_text(stack_file.read_text() + "  reporting:officeCidr: 203.0.113.1/32\n")
    with pytest.raises(ConfigError) as caught:
        run_stack("dev", project_dir=project)
    line = _line_of(stack_file, "reporting:officeCidr:")
    assert str(caught.value) == (
        f"Pulumi.dev.yaml:{line}: reporting:officeCidr: "
        "is not a known key here (did you mean 'officeCidrs'?)"
    )


def test_a_missing_key_points_at_its_parent(project):
    stack_file = project / "Pulumi.dev.yaml"
    stack_file.write_text(stack_file.read_text().replace("    archiveExpiryDays: 30\n", ""))
    with pytest.raises(ConfigError) as caught:
        run_stack("dev", project_dir=project)
    line = _line_of(stack_file, "reporting:landing:")
    assert (
        str(caught.value)
        == f"Pulumi.dev.yaml:{line}: reporting:landing.archiveExpiryDays: is required"
    )


def test_key_line_finds_nested_keys_and_list_items():
    path = PROJECT_DIR / "Pulumi.prod.yaml"
    assert key_line(path, "reporting:platforms", ("platforms", 2, "vpcCidr")) == _line_of(
        path, "vpcCidr: 10.13.0.0/16"
    )
    assert key_line(path, "reporting:nothing", ("nothing",)) == _line_of(path, "config:")
