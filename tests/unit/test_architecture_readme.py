"""The README's Mermaid blocks are the generated text of each environment, `make lint` says
which command regenerates a stale one, and the flowchart holds every flow and peering."""

from __future__ import annotations

import pytest
from stack_helpers import ENVIRONMENTS

from offline.diagram import __main__ as cli
from offline.diagram import mermaid
from offline.diagram.build import build_architecture
from offline.stack_files import PROJECT_DIR

README = PROJECT_DIR / "README.md"


@pytest.fixture
def from_session_runs(estates, monkeypatch):
    """The CLI's environment runs answered from the session's (same stack files)."""
    monkeypatch.setattr(
        cli,
        "environment_architecture",
        lambda env, project_dir=None: build_architecture(estates[env]),
    )


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_the_readme_block_is_the_generated_text(estates, environment):
    found = mermaid.block_in(README.read_text(encoding="utf-8"), environment)
    assert found == mermaid.readme_block(build_architecture(estates[environment])), (
        f"stale: run `{cli.regenerate_command(environment)}`"
    )


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_the_flowchart_draws_every_flow_and_peering_in_its_colour(estates, environment):
    architecture = build_architecture(estates[environment])
    text = mermaid.render(architecture)
    assert text.startswith("flowchart LR\n")
    for path, flow in architecture.flows():
        label = mermaid.flow_label(path.step_label(flow), flow)
        assert (
            f'{flow.source} {"-->" if flow.admitted else "-.->"}|"{label}"| {flow.target}' in text
        )
    for peering in architecture.peerings:
        assert f'{peering.spoke_vpc} -.-|"{peering.title}"| {peering.hub_vpc}' in text
    styled = [line for line in text.splitlines() if line.strip().startswith("linkStyle")]
    indexes = sorted(int(i) for line in styled for i in line.split()[1].split(","))
    assert indexes == list(range(len(architecture.flows()) + len(architecture.peerings)))


def test_lint_names_the_command_that_regenerates_a_stale_block(from_session_runs, capsys, tmp_path):
    stale = README.read_text(encoding="utf-8").replace("E1.2 writes", "E1.2 copies", 1)
    readme = tmp_path / "README.md"
    readme.write_text(stale, encoding="utf-8")

    assert cli.main(["--check-readme", "--readme", str(readme)]) == 1

    assert "run `make diagram ENV=" in capsys.readouterr().err


def test_the_readme_only_mode_rewrites_just_the_block(from_session_runs, tmp_path):
    start, end = mermaid.markers("dev")
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\n{start}\nold\n{end}\n\nAfter.\n", encoding="utf-8")

    assert cli.main(["dev", "--readme-only", "--readme", str(readme)]) == 0

    text = readme.read_text(encoding="utf-8")
    assert text.startswith(f"# Title\n\n{start}\n```mermaid\nflowchart LR\n")
    assert text.endswith(f"{end}\n\nAfter.\n") and "old" not in text


def test_a_readme_without_markers_is_refused():
    with pytest.raises(ValueError, match="architecture:dev:start"):
        mermaid.with_block("# no markers\n", "dev", "text")
