"""`make demo`: the whole environment on this machine, from its real stack files, end to end.

Mocked runs of the hub and its spokes (offline/estate.py) give the blueprint; moto, in this
process, holds each account's data-path resources; SQLite holds the platforms' databases and
the reporting database. The stages (offline/demo/stages.py) then run the deployed functions'
handlers with their triggers played, and the summary says what each dataset went through.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from time import perf_counter
from typing import TextIO

from offline.demo.blueprint import EXTRACTOR, LOADER, Blueprint, blueprint_of
from offline.demo.emulator import Emulator, running_emulator
from offline.demo.events import Triggers
from offline.demo.lambdas import Lambdas
from offline.demo.progress import Progress
from offline.demo.samples import samples
from offline.demo.sources import put_replica_logins, write_sources
from offline.demo.sqlite_replicas import SqliteReplicas
from offline.demo.stages import (
    DeliveredReport,
    DemoError,
    DemoRun,
    QuarantinedFile,
    by_hand,
    extract,
    quarantine,
    report,
    stream,
)
from offline.demo.summary import DatasetFigures, count_merged, summary_table
from offline.estate import run_environment
from offline.stack_files import PROJECT_DIR

DEFAULT_OUTPUT = PROJECT_DIR / ".demo"
# Written into the output directory: a directory without it is never deleted.
MARKER = ".reporting-demo"
# Where the demo's SQS inbox of the hub's alert topic is (in place of its email subscription).
ALERT_INBOX = "reporting-demo-alert-inbox"


@dataclass(frozen=True)
class DemoResult:
    figures: tuple[DatasetFigures, ...]
    quarantined: QuarantinedFile
    report: DeliveredReport
    output: Path
    reporting_database: Path
    seconds: float


def run_demo(
    output: Path = DEFAULT_OUTPUT,
    out: TextIO = sys.stdout,
    environment: str = "dev",
    live: bool | None = None,
) -> DemoResult:
    """Runs the demo into `output` (emptied first), printing progress and the summary."""
    started = perf_counter()
    progress = Progress(out, live)
    progress.line(
        f"The {environment} estate on this machine, from Pulumi.{environment}*.yaml: AWS played "
        "by moto in this process, every database by SQLite"
    )
    _fresh(output)
    database = (output / "reporting.sqlite").resolve()
    database_url = f"sqlite:///{database}"
    with progress.step("estate", f"mocked runs of {environment} and its spokes") as step:
        blueprint = blueprint_of(run_environment(environment))
        step.detail = f"{' + '.join(blueprint.stacks)}, in runbook order"
    with (output / "functions.log").open("w") as log, ExitStack() as cleanup:
        with progress.step("emulator", "moto in this process") as step:
            emulator = cleanup.enter_context(running_emulator(blueprint))
            inbox = _alert_inbox(emulator)
            step.detail = f"{len(blueprint.accounts)} accounts: {emulator.created()}"
        with progress.step("sources", "the platforms' databases and tables") as step:
            sample_data = samples()
            sources = write_sources(output / "sources", blueprint, sample_data)
            extractor = blueprint.function_running(EXTRACTOR)
            put_replica_logins(emulator, extractor.environment, sources)
            engines = ", ".join(
                f"{engine} x{n}" if n > 1 else engine
                for engine, n in Counter(r.engine for r in sources.replicas.values()).items()
            )
            step.detail = (
                f"{len(sources.files)} replicas as SQLite files ({engines}): {sources.rows:,} "
                "rows; logins in the hub's secrets"
            )
        lambdas = Lambdas(
            emulator,
            output,
            database_url,
            log,
            drivers={
                # The extractor's ODBC layer, played by the SQLite replicas.
                "functions.extractor.handler": {
                    "ReplicaConnector": partial(SqliteReplicas, files=sources.files)
                }
            },
        )
        cleanup.callback(lambdas.close)
        run = DemoRun(
            blueprint=blueprint,
            emulator=emulator,
            lambdas=lambdas,
            triggers=Triggers(emulator, lambdas),
            catalog=blueprint.catalog,
            samples=sample_data,
            sources=sources,
            output=output,
            progress=progress,
            alert_inbox=inbox,
        )
        extract(run)
        stream(run)
        by_hand(run)
        quarantined = quarantine(run)
        delivered = report(run, database_url, log)
    figures = tuple(sorted(run.figures.values(), key=lambda f: (f.platform, f.dataset)))
    count_merged(database, run.catalog, figures)
    result = DemoResult(figures, quarantined, delivered, output, database, perf_counter() - started)
    _print_summary(progress, result)
    return result


def _fresh(output: Path) -> None:
    """Empties the output directory of an earlier run (only one the demo made)."""
    if output.exists():
        if any(output.iterdir()) and not (output / MARKER).exists():
            raise DemoError(f"{output} is not a demo output directory; not deleting it")
        shutil.rmtree(output)
    output.mkdir(parents=True)
    (output / MARKER).write_text("made by `make demo`; deleted by the next run\n")


def _alert_inbox(emulator: Emulator) -> str:
    """An SQS queue subscribed to the hub's alert topic: the alerts, as its email shows them."""
    blueprint: Blueprint = emulator.blueprint
    topic = emulator.translate(blueprint.function_running(LOADER).environment["ALERT_TOPIC_ARN"])
    sqs = emulator.client("sqs", blueprint.hub_account)
    url = sqs.create_queue(QueueName=ALERT_INBOX)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    emulator.client("sns", blueprint.hub_account).subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=arn
    )
    return url


def _print_summary(progress: Progress, result: DemoResult) -> None:
    line = progress.line
    line()
    line("Rows per dataset (merged: rows of its reporting table <table>_current, one per key)")
    for text in summary_table(result.figures):
        line(text)
    for figure in result.figures:
        if figure.deleted:
            line(
                f"  {figure.qualified_name}: {figure.deleted} of the {figure.merged} merged rows "
                "are deletions (tombstones, _deleted)"
            )
    quarantined = result.quarantined
    report = quarantined.error_report
    line()
    line(f"Quarantined: {quarantined.uri}")
    line(f"  error report {quarantined.error_report_uri}")
    line(f"  line {report['line']}, column {report['column']}: {report['error']}")
    line(f"  local copies in {_shown(quarantined.local_copy.parent)}/")
    delivered = result.report
    start, end = (datetime.fromisoformat(moment) for moment in delivered.period)
    line()
    line(
        f"Report {delivered.name}, {start:%a %d %b %H:%M} -> {end:%a %d %b %H:%M} "
        f"({delivered.timezone}):"
    )
    line(f"  {delivered.uri}")
    line(f"  local copy {_shown(delivered.local_copy)}")
    line(f"  {delivered.rows} rows, emailed to {', '.join(delivered.recipients)} (link only)")
    line()
    line(
        f"Done in {result.seconds:.1f} s. Nothing left running: moto stopped and dropped its data. "
        f"SQLite files and function logs: {_shown(result.output)}/"
    )


def _shown(path: Path) -> str:
    """`path` relative to the working directory when it is under it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return os.fspath(path)
