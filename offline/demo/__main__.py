"""`python -m offline.demo` (`make demo`): the dev estate end to end on this machine."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from offline.demo.run import DEFAULT_OUTPUT, run_demo


def main(arguments: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m offline.demo", description=__doc__)
    parser.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        help="where the SQLite files, logs and the report's copy go (emptied first; default .demo)",
    )
    parser.add_argument("--environment", default="dev", help="the hub stack (default dev)")
    options = parser.parse_args(arguments)
    run_demo(options.output, sys.stdout, options.environment)
    return 0


if __name__ == "__main__":
    sys.exit(main())
