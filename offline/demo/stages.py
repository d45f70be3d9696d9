"""The demo's data paths, each run through the deployed functions with their triggers played:

- extract: the extractor's handler reads each extracted dataset from its platform's replica
  (SQLite), writes parts to the landing bucket, and the loader loads and merges them;
- stream: the languages app writes to its DynamoDB table; the changes go stream -> forwarder ->
  Kinesis -> writer -> Firehose -> staging bucket -> copier (platform account) -> landing
  bucket (reporting account) -> loader;
- by hand: every other dataset, a file a platform team exports and drops into `incoming/`;
- quarantine: a teacher's spreadsheet with a word where a score goes, quarantined with its error
  report and an alert;
- report: one pass of the report server's runner, at the demo's Monday morning.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any, TextIO

from botocore.config import Config

from functions.catalog import Catalog, Dataset
from functions.loader.layout import error_report_key, parse_incoming, quarantine_key
from functions.loader.merge import merge_failed
from functions.report_runner.definitions import DEFINITIONS_DIR, load_definitions
from functions.report_runner.deliveries import ReportsBucket
from functions.report_runner.runner import ReportRunner
from functions.report_runner.settings import RunnerSettings
from offline.demo.blueprint import EXTRACTOR, LOADER, Blueprint
from offline.demo.emulator import Emulator
from offline.demo.events import Delivery, Triggers
from offline.demo.lambdas import Lambdas, played_environment
from offline.demo.progress import Progress
from offline.demo.samples import DEMO_NOW, DEMO_REPORT, Samples
from offline.demo.sources import Sources, csv_file, exported_file, write_items
from offline.demo.summary import DatasetFigures

EXTRACT, STREAM, BY_HAND = "extract", "stream", "by hand"


class DemoError(RuntimeError):
    """A step did not do what the demo shows; the message says what."""


@dataclass(frozen=True)
class QuarantinedFile:
    uri: str
    error_report_uri: str
    error_report: dict[str, Any]
    local_copy: Path
    alerts: list[dict[str, Any]]


@dataclass(frozen=True)
class DeliveredReport:
    name: str
    # The period it covers, ISO 8601, and the report's time zone.
    period: tuple[str, str]
    timezone: str
    uri: str
    local_copy: Path
    rows: int
    recipients: tuple[str, ...]
    ses_message_id: str


@dataclass
class DemoRun:
    """What the stages share: the estate on the emulator and what has happened so far."""

    blueprint: Blueprint
    emulator: Emulator
    lambdas: Lambdas
    triggers: Triggers
    catalog: Catalog
    samples: Samples
    sources: Sources
    output: Path
    progress: Progress
    # An SQS queue subscribed to the hub's alert topic: the alerts, as its email would show.
    alert_inbox: str
    figures: dict[str, DatasetFigures] = field(default_factory=dict)

    def figures_of(self, dataset: Dataset, path: str) -> DatasetFigures:
        """The dataset's figures, started with the path its rows take."""
        name = dataset.qualified_name
        if name not in self.figures:
            self.figures[name] = DatasetFigures(dataset.platform, dataset.name, path)
        return self.figures[name]

    def record_loads(self, deliveries: list[Delivery]) -> Counter[str]:
        """Adds what the loader staged to each dataset's figures; counts results by status."""
        loader = self.blueprint.function_running(LOADER).name
        statuses: Counter[str] = Counter()
        for delivery in deliveries:
            if delivery.function != loader:
                continue
            for result in delivery.response["results"]:
                statuses[result["status"]] += 1
                key = result["source"].split("/", 3)[3]
                landing = parse_incoming(key)
                if landing is None:
                    raise DemoError(f"the loader reported {result['source']}")
                figures = self.figures[landing.qualified_dataset]
                if merge_failed(result):
                    raise DemoError(f"{result['source']}: the merge failed: {result}")
                if result["status"] == "loaded":
                    figures.loaded += result["row_count"]
                elif result["status"] == "quarantined":
                    figures.quarantined += self._quarantined_rows(key)
                else:
                    raise DemoError(f"{result['source']}: {result['status']}: {result}")
        return statuses

    def hub_client(self, service: str) -> Any:
        """A client of the reporting account, as its operator (a person in the office)."""
        return self.emulator.client(service, self.blueprint.hub_account)

    @property
    def landing_bucket(self) -> str:
        """The hub's landing bucket, as the loader's environment names it."""
        return self.emulator.translate(
            self.blueprint.function_running(LOADER).environment["LANDING_BUCKET"]
        )

    def _quarantined_rows(self, incoming_key: str) -> int:
        body = self.hub_client("s3").get_object(
            Bucket=self.landing_bucket, Key=quarantine_key(incoming_key)
        )["Body"]
        records = list(csv.reader(io.StringIO(body.read().decode("utf-8-sig"))))
        return max(len([record for record in records if record]) - 1, 0)


def extract(run: DemoRun) -> None:
    """Each dataset the extractor pulls, one invocation each (the schedule's run names them all;
    one at a time shows each dataset's time)."""
    extractor = run.blueprint.function_running(EXTRACTOR)
    replicas = json.loads(extractor.environment["REPLICAS"])
    for dataset in run.catalog.datasets:
        if dataset.extract is None or dataset.platform not in replicas:
            continue
        figures = run.figures_of(dataset, EXTRACT)
        with run.progress.step(EXTRACT, dataset.qualified_name) as step:
            response = run.lambdas.invoke(extractor.name, {"datasets": [dataset.qualified_name]})
            (result,) = response["results"]
            deliveries = run.triggers.settle()
            run.record_loads(deliveries)
            figures.extracted += result["rows"]
            replica = run.sources.replicas[dataset.platform]
            parts = _count(result["parts"], "part")
            step.detail = (
                f"{dataset.qualified_name}: {result['rows']:,} rows from the {replica.engine} "
                f"replica {replica.name}, {parts} -> loaded {figures.loaded:,}"
            )
        figures.seconds += step.seconds


def stream(run: DemoRun) -> None:
    """The app's writes to each streamed table, through the whole change-stream pipeline."""
    played = {table.dataset for table in run.blueprint.source_tables}
    for dataset in run.catalog.datasets:
        if dataset.is_change_stream and dataset.qualified_name not in played:
            run.progress.skipped(
                STREAM,
                f"{dataset.qualified_name}: not played, no stream forwarder reads its table "
                "(pipeline: native runs in no emulator)",
            )
    for table in run.blueprint.source_tables:
        dataset = run.catalog.find(table.dataset)
        figures = run.figures_of(dataset, STREAM)
        with run.progress.step(STREAM, dataset.qualified_name) as step:
            dynamodb = run.emulator.client("dynamodb", table.account)
            written = write_items(dynamodb, table.name, run.samples.lesson_changes)
            deliveries = run.triggers.settle()
            run.record_loads(deliveries)
            figures.extracted += written
            calls = Counter(delivery.function for delivery in deliveries)
            hops = " -> ".join(f"{_short(name)} x{count}" for name, count in calls.items())
            step.detail = f"{dataset.qualified_name}: {written} writes -> {hops}"
        figures.seconds += step.seconds


def by_hand(run: DemoRun) -> None:
    """Every dataset neither extracted nor streamed: the file its platform team exports from
    its database, dropped into the landing bucket from the office."""
    s3 = run.hub_client("s3")
    for dataset in run.catalog.datasets:
        if dataset.qualified_name in run.figures or dataset.is_change_stream:
            continue
        figures = run.figures_of(dataset, BY_HAND)
        with run.progress.step(BY_HAND, dataset.qualified_name) as step:
            relation = run.samples.table(dataset.qualified_name).relation
            body, rows = exported_file(run.sources, dataset, relation)
            suffix = "jsonl" if dataset.file_format == "jsonl" else "csv"
            file_name = f"{dataset.name}-{DEMO_NOW:%Y%m%d}.{suffix}"
            key = f"incoming/{dataset.platform}/{dataset.name}/{file_name}"
            s3.put_object(Bucket=run.landing_bucket, Key=key, Body=body)
            run.record_loads(run.triggers.settle())
            figures.extracted += rows
            step.detail = (
                f"{dataset.qualified_name}: {file_name}, {rows:,} rows -> loaded {figures.loaded:,}"
            )
        figures.seconds += step.seconds


def quarantine(run: DemoRun) -> QuarantinedFile:
    """A bad file dropped by hand: quarantined with its error report, and an alert."""
    upload = run.samples.bad_upload
    dataset = run.catalog.find(upload.dataset)
    figures = run.figures_of(dataset, BY_HAND)
    key = f"incoming/{dataset.platform}/{dataset.name}/{upload.file_name}"
    with run.progress.step("bad file", f"{dataset.qualified_name}: {upload.file_name}") as step:
        s3 = run.hub_client("s3")
        s3.put_object(Bucket=run.landing_bucket, Key=key, Body=csv_file(upload.header, upload.rows))
        statuses = run.record_loads(run.triggers.settle())
        if statuses != Counter(quarantined=1):
            raise DemoError(f"{key}: expected quarantine, the loader reported {dict(statuses)}")
        report_key = error_report_key(key)
        report = json.loads(s3.get_object(Bucket=run.landing_bucket, Key=report_key)["Body"].read())
        local = run.output / "quarantine" / upload.file_name
        local.parent.mkdir(parents=True, exist_ok=True)
        local.write_bytes(
            s3.get_object(Bucket=run.landing_bucket, Key=quarantine_key(key))["Body"].read()
        )
        local.with_name(f"{upload.file_name}.error.json").write_text(
            json.dumps(report, indent=2), encoding="utf-8"
        )
        alerts = _alerts(run)
        step.detail = (
            f"{upload.file_name}: line {report['line']}, column {report['column']} -> "
            f"quarantine/ + error report, {len(alerts)} alert"
        )
    figures.seconds += step.seconds
    return QuarantinedFile(
        uri=f"s3://{run.landing_bucket}/{quarantine_key(key)}",
        error_report_uri=f"s3://{run.landing_bucket}/{report_key}",
        error_report=report,
        local_copy=local,
        alerts=alerts,
    )


def report(run: DemoRun, database_url: str, log: TextIO) -> DeliveredReport:
    """One pass of the report server's runner, with the server's own environment, at the
    demo's Monday 07:20: the weekly maths report is due."""
    server = run.blueprint.report_server
    environment = played_environment(server.environment, run.emulator, database_url)
    environment["REPORTS_DIRECTORY"] = str(DEFINITIONS_DIR)
    settings = RunnerSettings.from_environment(environment)
    definitions = tuple(d for d in load_definitions(DEFINITIONS_DIR) if d.name == DEMO_REPORT)

    def client(service: str, **options: Any) -> Any:
        return run.emulator.client(service, server.account, server.role_arn, **options)

    clock = DEMO_NOW.replace(tzinfo=UTC)
    runner = ReportRunner(
        settings=settings,
        reports=definitions,
        bucket=ReportsBucket(
            client(
                "s3", config=Config(signature_version="s3v4", s3={"addressing_style": "virtual"})
            ),
            settings.bucket,
            settings.key_arn,
        ),
        ses=client("sesv2"),
        sns=client("sns"),
        open_database=settings.open_database(lambda: client("secretsmanager"), lambda: clock),
        clock=lambda: clock,
    )
    with run.progress.step("report", DEMO_REPORT) as step, _logged("report_runner", log):
        summary = runner.run_pass()
        if summary.failed or len(summary.delivered) != 1:
            raise DemoError(f"the report pass did not deliver {DEMO_REPORT}: {summary}")
        (delivered,) = summary.delivered
        local = run.output / "reports" / delivered["file"].rsplit("/", 1)[1]
        local.parent.mkdir(parents=True, exist_ok=True)
        body = client("s3").get_object(Bucket=settings.bucket, Key=delivered["file"])["Body"]
        local.write_bytes(body.read())
        step.detail = (
            f"{DEMO_REPORT}: {delivered['rows']} rows ({definitions[0].format}) -> reports "
            f"bucket, link emailed to {', '.join(delivered['recipients'])}"
        )
    return DeliveredReport(
        name=DEMO_REPORT,
        period=(delivered["period_start"], delivered["period_end"]),
        timezone=definitions[0].timezone,
        uri=f"s3://{settings.bucket}/{delivered['file']}",
        local_copy=local,
        rows=delivered["rows"],
        recipients=tuple(delivered["recipients"]),
        ses_message_id=delivered["ses_message_id"],
    )


def _alerts(run: DemoRun) -> list[dict[str, Any]]:
    sqs = run.hub_client("sqs")
    messages = sqs.receive_message(QueueUrl=run.alert_inbox, MaxNumberOfMessages=10).get(
        "Messages", []
    )
    return [json.loads(json.loads(message["Body"])["Message"]) for message in messages]


def _count(number: int, thing: str) -> str:
    return f"{number} {thing}{'' if number == 1 else 's'}"


def _short(function: str) -> str:
    """`reporting-dev-languages-stream-forwarder` -> `forwarder`."""
    for role in ("forwarder", "writer", "copier", "loader"):
        if function.endswith(role):
            return role
    return function


@contextmanager
def _logged(name: str, stream: TextIO) -> Iterator[None]:
    """Sends a standard logger's records to the demo's log file while the block runs."""
    logger = logging.getLogger(name)
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
