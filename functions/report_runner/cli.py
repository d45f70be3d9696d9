"""`python -m functions.report_runner`: the report runner's command line.

    python -m functions.report_runner check [DIRECTORY]   validate the report definitions
    python -m functions.report_runner due                 list the runs a pass would deliver
    python -m functions.report_runner run                 deliver the due runs (the timer's job)

`run` and `due` read their settings from the environment (docs/reports.md). Exit status: 0 when
the pass delivered everything due (or waited for a stopped database), 1 when a report failed
(it was alerted on the ops topic), 2 for invalid definitions or settings.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict

import boto3
from botocore.config import Config

from functions.report_runner.definitions import (
    DEFINITIONS_DIR,
    DefinitionError,
    load_definitions,
)
from functions.report_runner.deliveries import ReportsBucket
from functions.report_runner.runner import ReportRunner
from functions.report_runner.settings import RunnerSettings

EXIT_FAILED = 1
EXIT_USAGE = 2


def main(arguments: Sequence[str] | None = None) -> int:
    options = _parser().parse_args(arguments)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        if options.command == "check":
            reports = load_definitions(
                options.directory or os.environ.get("REPORTS_DIRECTORY") or DEFINITIONS_DIR
            )
            for report in reports:
                print(f"{report.name}: {report.schedule} ({report.timezone}), {report.format}")
            print(f"{len(reports)} report definition(s) valid")
            return 0
        runner = runner_from_environment(os.environ)
    except (DefinitionError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    if options.command == "due":
        for run in runner.due():
            print(f"{run.report.name} {run.stamp} {run.period_start} -> {run.period_end}")
        return 0
    summary = runner.run_pass()
    print(json.dumps(asdict(summary), indent=2, default=str))
    return EXIT_FAILED if summary.failed else 0


def runner_from_environment(environment: Mapping[str, str]) -> ReportRunner:
    """The runner the settings in `environment` describe, with boto3's default credentials (the
    instance role on the server)."""
    settings = RunnerSettings.from_environment(environment)
    return ReportRunner(
        settings=settings,
        reports=load_definitions(settings.definitions_dir),
        # Links are signed with SigV4 for the bucket's own regional, virtual-hosted address.
        bucket=ReportsBucket(
            boto3.client(
                "s3", config=Config(signature_version="s3v4", s3={"addressing_style": "virtual"})
            ),
            settings.bucket,
            settings.key_arn,
        ),
        ses=boto3.client("sesv2"),
        sns=boto3.client("sns"),
        open_database=settings.open_database(lambda: boto3.client("secretsmanager")),
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m functions.report_runner")
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="validate the report definitions")
    check.add_argument("directory", nargs="?", default=None)
    commands.add_parser("due", help="list the runs a pass would deliver")
    commands.add_parser("run", help="deliver the due runs")
    return parser
