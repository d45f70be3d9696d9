"""`make diagram ENV=<env>`: the architecture of one environment, from mocked runs of its hub
and spoke stack files, as docs/architecture-<env>.png and .svg and as the README's Mermaid block.

    python -m offline.diagram dev prod          pictures and README blocks
    python -m offline.diagram --readme-only dev  the README block only (no Graphviz needed)
    python -m offline.diagram --check-readme     fails if a README block is stale (`make lint`)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from offline.diagram import mermaid
from offline.diagram.build import environment_architecture
from offline.stack_files import PROJECT_DIR, stack_names


def environments(project_dir: Path = PROJECT_DIR) -> list[str]:
    """Every environment: each hub stack (`dev`, `prod`) names one."""
    return [stack for stack in stack_names(project_dir) if "-" not in stack]


def regenerate_command(environment: str) -> str:
    return f"make diagram ENV={environment}"


def stale_blocks(readme: str, project_dir: Path = PROJECT_DIR) -> list[str]:
    """What is wrong with the README's architecture blocks, one line per environment."""
    problems = []
    for environment in environments(project_dir):
        start, end = mermaid.markers(environment)
        found = mermaid.block_in(readme, environment)
        expected = mermaid.readme_block(environment_architecture(environment, project_dir))
        if found is None:
            problems.append(f"README.md has no {start} ... {end} block for {environment}")
        elif found != expected:
            problems.append(
                f"README.md's architecture block for {environment} does not match its stack "
                f"files: run `{regenerate_command(environment)}` (without Graphviz: "
                f"`python -m offline.diagram --readme-only {environment}`)"
            )
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("environments", nargs="*", help="default: every environment")
    parser.add_argument("--readme", type=Path, default=PROJECT_DIR / "README.md")
    parser.add_argument("--output", type=Path, default=PROJECT_DIR / "docs", help="picture folder")
    parser.add_argument("--readme-only", action="store_true", help="no pictures (no Graphviz)")
    parser.add_argument("--check-readme", action="store_true", help="fail if a block is stale")
    args = parser.parse_args(argv)
    readme = args.readme.read_text(encoding="utf-8")
    if args.check_readme:
        problems = stale_blocks(readme)
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1 if problems else 0
    known = environments()
    chosen = args.environments or known
    unknown = sorted(set(chosen) - set(known))
    if unknown:
        parser.error(f"no hub stack file for {', '.join(unknown)} (have: {', '.join(known)})")
    for environment in chosen:
        architecture = environment_architecture(environment)
        readme = mermaid.with_block(readme, environment, mermaid.readme_block(architecture))
        if not args.readme_only:
            # Imported here: the README alone needs neither `diagrams` nor Graphviz.
            from offline.diagram.picture import draw  # noqa: PLC0415

            for path in draw(architecture, args.output / f"architecture-{environment}"):
                print(f"wrote {_shown(path)}")
    args.readme.write_text(readme, encoding="utf-8")
    print(f"wrote the architecture block of {', '.join(chosen)} in {_shown(args.readme)}")
    return 0


def _shown(path: Path) -> Path:
    return path.relative_to(PROJECT_DIR) if path.is_relative_to(PROJECT_DIR) else path


if __name__ == "__main__":
    sys.exit(main())
