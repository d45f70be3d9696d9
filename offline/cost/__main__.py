"""`make cost STACK=<name>`: the monthly cost of what one stack creates, from a mocked run of
its real stack file, priced from a dated price table (no network call) at stated volumes."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from offline.cost.context import stack_settings
from offline.cost.estimate import estimate
from offline.cost.prices import PRICE_TABLE, PriceTableError, load_price_table
from offline.cost.render import render
from offline.cost.volumes import VOLUMES, VolumesError, load_volumes
from offline.estate import environment_of, run_environment
from offline.stack_files import raw_stack_config, stack_names
from stack_config import parse_stack_config

NAMESPACE = "reporting"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m offline.cost", description=__doc__)
    parser.add_argument("stack", help="a stack with a Pulumi.<stack>.yaml file, e.g. prod")
    parser.add_argument("--prices", type=Path, default=PRICE_TABLE, help="price table YAML")
    parser.add_argument("--volumes", type=Path, default=VOLUMES, help="volumes YAML")
    args = parser.parse_args(argv)
    if args.stack not in stack_names():
        parser.error(f"no stack file for {args.stack} (have: {', '.join(stack_names())})")
    try:
        prices = load_price_table(args.prices)
        volumes = load_volumes(args.volumes)
    except (PriceTableError, VolumesError) as problem:
        parser.exit(1, f"cost: {problem}\n")
    config = parse_stack_config(args.stack, plain_stack_config(args.stack))
    run = run_environment(environment_of(args.stack)).run_of(args.stack)
    try:
        result = estimate(args.stack, run.resources, stack_settings(config), prices, volumes)
    except PriceTableError as problem:
        parser.exit(1, f"cost: {problem}\n")
    print(render(result, prices, args.volumes.name))
    return 0


def plain_stack_config(stack: str) -> dict:
    """A stack file's `reporting:*` keys without their namespace, as the parser takes them."""
    prefix = f"{NAMESPACE}:"
    return {
        key.removeprefix(prefix): value
        for key, value in raw_stack_config(stack).items()
        if key.startswith(prefix)
    }


if __name__ == "__main__":
    sys.exit(main())
