"""Stream functions: forwarder and writer throughput, package sizes and cold import times.

    .venv/bin/python bench/stream_bench.py [--changes 10000] [--import-runs 7]

In one run:
- generates --changes DynamoDB stream records of languages/lesson_progress (INSERT, MODIFY and
  REMOVE, with undeclared attributes the projection must drop) in events of 100 records, the
  event source mappings' default batch size; runs them through the forwarder's handler, reads
  the Kinesis records back with GetRecords into events of 100, and runs those through the
  writer's handler. The emulator is a moto server in a process of its own, so this process's
  CPU time is the handlers' (with boto3's request and response work); wall time also waits on
  the emulator. The run fails unless Firehose's objects (moto delivers them to S3 at once) hold
  one line per change;
- builds each function's zip as deployed (`package_files` plus catalog.json where the function
  gets it, deflated) and prints its size;
- imports each handler module in fresh interpreters under `-X importtime` and prints the
  cumulative time against the 150 ms target, then, apart, what the first invocation adds
  (boto3 and its clients, which the stream functions import only then).
Not a test: numbers, and a check that they measured something.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import platform
import random
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module, metadata
from pathlib import Path
from typing import Any

import boto3

REPO_ROOT = Path(__file__).resolve().parents[1]
# Run as a script from the repository: make the project's packages importable.
sys.path.insert(0, str(REPO_ROOT))

from emulator import moto_server, use_emulator  # noqa: E402
from measure import Timing, timed  # noqa: E402

from components.change_stream_pipeline import (  # noqa: E402
    COPIER_PACKAGES,
    FORWARDER_PACKAGES,
    WRITER_PACKAGES,
)
from components.dataset_catalog import catalog_assets  # noqa: E402
from components.function_package import package_files  # noqa: E402
from components.landing_loader import LOADER_PACKAGES  # noqa: E402
from functions.catalog import BUNDLE_NAME  # noqa: E402

REGION = "eu-west-2"
ACCOUNT = "123456789012"  # moto's default account
TABLE = "languages-lesson-progress"
DATASET = "languages/lesson_progress"
KINESIS_STREAM = "languages-changes"
DELIVERY_STREAM = "languages-changes-delivery"
STAGING_BUCKET = "languages-staging"
STAGING_PREFIX = "changes/"
DEAD_LETTER_QUEUE = "languages-stream-forwarder-failures"
# The default batch size of both event source mappings (DynamoDB stream and Kinesis).
EVENT_RECORDS = 100
IMPORT_TARGET_MS = 150
# 500 learners x 8 lessons: about 40% of 10,000 changes create an item, the rest update or
# delete one.
LEARNERS = 500
LESSONS = [f"fr-{number:02d}" for number in range(1, 9)]
REMOVE_SHARE = 0.1
FIRST_SEQUENCE_NUMBER = 4_421_584_500_000_000_017_450_439_091
FIRST_CREATION_TIME = 1_764_064_800  # 2025-11-25T10:00:00Z
IMPORT_TIME_LINE = re.compile(r"import time:\s+\d+ \|\s+(\d+) \| (\S.*)")


@dataclass(frozen=True)
class FunctionUnderTest:
    """A deployed function: its handler module, zip contents and first-invocation work."""

    name: str
    handler_module: str
    packages: list[str]
    gets_catalog: bool
    # What the handler's factory (and the first record) run before any work, as Python.
    first_invocation: str
    first_invocation_label: str


FUNCTIONS = [
    FunctionUnderTest(
        "loader",
        "functions.loader.handler",
        LOADER_PACKAGES,
        gets_catalog=True,
        first_invocation=(
            f"import boto3; boto3.client('s3', region_name='{REGION}');"
            f" boto3.client('sns', region_name='{REGION}')"
        ),
        first_invocation_label="import boto3, s3 + sns clients",
    ),
    FunctionUnderTest(
        "stream_forwarder",
        "functions.stream_forwarder.handler",
        FORWARDER_PACKAGES,
        gets_catalog=True,
        first_invocation=(
            f"import boto3; boto3.client('kinesis', region_name='{REGION}');"
            " import functions.streams.attribute_values"
        ),
        first_invocation_label="import boto3, kinesis client, attribute_values",
    ),
    FunctionUnderTest(
        "firehose_writer",
        "functions.firehose_writer.handler",
        WRITER_PACKAGES,
        gets_catalog=False,
        first_invocation=f"import boto3; boto3.client('firehose', region_name='{REGION}')",
        first_invocation_label="import boto3, firehose client",
    ),
    FunctionUnderTest(
        "cross_account_copier",
        "functions.cross_account_copier.handler",
        COPIER_PACKAGES,
        gets_catalog=True,
        first_invocation=f"import boto3; boto3.client('s3', region_name='{REGION}')",
        first_invocation_label="import boto3, s3 client",
    ),
]
# Times the import, then the first-invocation work, in a fresh interpreter; prints seconds.
FIRST_INVOCATION_PROBE = """\
import json, time
started = time.perf_counter()
import {module}
imported = time.perf_counter()
{first_invocation}
print(json.dumps([imported - started, time.perf_counter() - imported]))
"""


@dataclass(frozen=True)
class LambdaContext:
    """What powertools' inject_lambda_context reads from a Lambda context."""

    function_name: str
    memory_limit_in_mb: int = 256
    aws_request_id: str = "5c0d6e2c-5d3f-4b8e-9b33-0e4b7e1c2a10"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.function_name}"


def create_pipeline(catalog_file: Path) -> str:
    """The Kinesis stream (one shard), the Firehose stream and its bucket, the forwarder's
    dead-letter queue, and the handlers' environment naming them; returns the stream's ARN."""
    kinesis = boto3.client("kinesis")
    kinesis.create_stream(StreamName=KINESIS_STREAM, ShardCount=1)
    boto3.client("s3").create_bucket(
        Bucket=STAGING_BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    boto3.client("firehose").create_delivery_stream(
        DeliveryStreamName=DELIVERY_STREAM,
        DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration={
            "RoleARN": f"arn:aws:iam::{ACCOUNT}:role/firehose-delivery",
            "BucketARN": f"arn:aws:s3:::{STAGING_BUCKET}",
            "Prefix": STAGING_PREFIX,
        },
    )
    dead_letter_queue = boto3.client("sqs").create_queue(QueueName=DEAD_LETTER_QUEUE)
    os.environ.update(
        {
            "CATALOG_FILE": str(catalog_file),
            "STREAM_ROUTES": json.dumps({TABLE: {"dataset": DATASET, "stream": KINESIS_STREAM}}),
            "DEAD_LETTER_QUEUE_URL": dead_letter_queue["QueueUrl"],
            "DELIVERY_ROUTES": json.dumps({KINESIS_STREAM: DELIVERY_STREAM}),
        }
    )
    summary = kinesis.describe_stream_summary(StreamName=KINESIS_STREAM)
    return summary["StreamDescriptionSummary"]["StreamARN"]


# --- the changes ------------------------------------------------------------------------------


def lesson_item(learner: int, lesson: str, chooser: random.Random) -> dict[str, Any]:
    """A LessonProgress item in DynamoDB JSON, with two attributes the dataset does not declare."""
    item = {
        "learnerId": {"N": str(learner)},
        "lessonId": {"S": lesson},
        "xp": {"N": str(chooser.randint(0, 5_000))},
        "streakDays": {"N": str(chooser.randint(0, 365))},
        "email": {"S": f"learner.{learner}@example.org"},
        "device": {
            "M": {
                "platform": {"S": chooser.choice(["ios", "android", "web"])},
                "appVersion": {"S": f"5.{chooser.randint(0, 20)}.{chooser.randint(0, 9)}"},
                "locale": {"S": "fr-FR"},
            }
        },
    }
    if chooser.random() < 0.7:
        completed = FIRST_CREATION_TIME - chooser.randint(0, 86_400 * 30)
        item["completedAt"] = {"S": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(completed))}
    return item


def stream_records(count: int, seed: int = 20261126) -> list[dict[str, Any]]:
    """DynamoDB stream records as Lambda delivers them (NEW_AND_OLD_IMAGES), in stream order."""
    chooser = random.Random(seed)
    stream_arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{TABLE}/stream/2025-11-25T10:00:00.000"
    items: dict[tuple[int, str], dict[str, Any]] = {}
    sequence_number = FIRST_SEQUENCE_NUMBER
    records = []
    for number in range(count):
        learner, lesson = chooser.randint(1, LEARNERS), chooser.choice(LESSONS)
        keys = {"learnerId": {"N": str(learner)}, "lessonId": {"S": lesson}}
        old_image = items.pop((learner, lesson), None)
        change: dict[str, Any] = {
            "ApproximateCreationDateTime": FIRST_CREATION_TIME + number // 20,
            "Keys": keys,
        }
        if old_image is None:
            event_name = "INSERT"
        elif chooser.random() < REMOVE_SHARE:
            event_name = "REMOVE"
        else:
            event_name = "MODIFY"
        if event_name != "REMOVE":
            change["NewImage"] = items[learner, lesson] = lesson_item(learner, lesson, chooser)
        if old_image is not None:
            change["OldImage"] = old_image
        sequence_number += chooser.randint(1, 200_000)
        change["SequenceNumber"] = str(sequence_number)
        change["SizeBytes"] = len(json.dumps(change))
        change["StreamViewType"] = "NEW_AND_OLD_IMAGES"
        records.append(
            {
                "eventID": f"{chooser.getrandbits(128):032x}",
                "eventName": event_name,
                "eventVersion": "1.1",
                "eventSource": "aws:dynamodb",
                "awsRegion": REGION,
                "dynamodb": change,
                "eventSourceARN": stream_arn,
            }
        )
    return records


def events_of(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"Records": records[start : start + EVENT_RECORDS]}
        for start in range(0, len(records), EVENT_RECORDS)
    ]


def kinesis_events(stream_arn: str) -> list[dict[str, Any]]:
    """Every record of the stream, read with GetRecords, in events as the Kinesis event source
    mapping hands them to the writer."""
    kinesis = boto3.client("kinesis")
    (shard,) = kinesis.list_shards(StreamName=KINESIS_STREAM)["Shards"]
    iterator = kinesis.get_shard_iterator(
        StreamName=KINESIS_STREAM, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records = []
    while True:
        response = kinesis.get_records(ShardIterator=iterator, Limit=10_000)
        if not response["Records"]:
            break
        records += [
            kinesis_event_record(record, shard["ShardId"], stream_arn)
            for record in response["Records"]
        ]
        iterator = response["NextShardIterator"]
    return events_of(records)


def kinesis_event_record(record: dict[str, Any], shard_id: str, stream_arn: str) -> dict[str, Any]:
    """A GetRecords record as a record of a Kinesis Lambda event."""
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": record["PartitionKey"],
            "sequenceNumber": record["SequenceNumber"],
            "data": base64.b64encode(record["Data"]).decode("ascii"),
            "approximateArrivalTimestamp": record["ApproximateArrivalTimestamp"].timestamp(),
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{shard_id}:{record['SequenceNumber']}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": f"arn:aws:iam::{ACCOUNT}:role/firehose-writer",
        "awsRegion": REGION,
        "eventSourceARN": stream_arn,
    }


def run_handler(
    lambda_handler: Callable[..., dict[str, Any]],
    events: list[dict[str, Any]],
    context: LambdaContext,
) -> Timing:
    """Invokes the handler once per event; any record it reports as failed ends the run."""
    responses, timing = timed(lambda: [lambda_handler(event, context) for event in events])
    failures = [item for response in responses for item in response["batchItemFailures"]]
    if failures:
        sys.exit(f"{context.function_name} reported {len(failures)} failed records")
    return timing


def delivered_lines() -> list[bytes]:
    """Every line of every object Firehose delivered."""
    s3 = boto3.client("s3")
    lines: list[bytes] = []
    for page in s3.get_paginator("list_objects_v2").paginate(
        Bucket=STAGING_BUCKET, Prefix=STAGING_PREFIX
    ):
        for item in page.get("Contents", []):
            body = s3.get_object(Bucket=STAGING_BUCKET, Key=item["Key"])["Body"].read()
            lines += body.splitlines()
    return lines


def check_delivery(records: list[dict[str, Any]]) -> str:
    """Fails the run unless each change arrived once, projected; returns what was checked."""
    lines = delivered_lines()
    expected = sorted(record["dynamodb"]["SequenceNumber"] for record in records)
    delivered = sorted(json.loads(line)["sequenceNumber"] for line in lines)
    if delivered != expected:
        sys.exit(f"Firehose delivered {len(lines)} lines for {len(records)} changes")
    if any(b'"email"' in line or b'"device"' in line for line in lines):
        sys.exit("an undeclared attribute reached Firehose: the projection did not drop it")
    return f"{len(lines):,} lines delivered, one per change, no undeclared attribute"


@dataclass(frozen=True)
class Throughput:
    """The measured phases of one run, and what the delivery check found."""

    forwarder: Timing
    readback: Timing
    writer: Timing
    checked: str


def measure_throughput(records: list[dict[str, Any]]) -> Throughput:
    """Runs the changes through both handlers on a fresh moto server."""
    with (
        tempfile.TemporaryDirectory(prefix="stream-bench-") as directory,
        moto_server() as url,
        # The handlers log (the writer once an invocation): formatted as in Lambda, not shown.
        open(os.devnull, "w") as handler_logs,
    ):
        catalog_file = Path(directory) / BUNDLE_NAME
        catalog_file.write_text(catalog_assets()[BUNDLE_NAME].text, encoding="utf-8")
        use_emulator(url)
        stream_arn = create_pipeline(catalog_file)
        with contextlib.redirect_stdout(handler_logs):
            forwarder = import_module("functions.stream_forwarder.handler")
            writer = import_module("functions.firehose_writer.handler")
        # Clients and catalog built before timing: the cold start is measured apart.
        forwarder.stream_forwarder()
        writer.firehose_writer()
        forwarder_timing = run_handler(
            forwarder.lambda_handler, events_of(records), LambdaContext("stream-forwarder")
        )
        writer_events, readback_timing = timed(lambda: kinesis_events(stream_arn))
        writer_timing = run_handler(
            writer.lambda_handler, writer_events, LambdaContext("firehose-writer")
        )
        checked = check_delivery(records)
    return Throughput(forwarder_timing, readback_timing, writer_timing, checked)


def print_throughput(changes: int, result: Throughput) -> None:
    print(
        f"{'':<19}{'CPU s':>7}{'wall s':>8}{'changes/s CPU':>15}{'changes/s wall':>16}"
        f"{'CPU ms/10,000':>15}"
    )
    rows = [
        ("forwarder", result.forwarder),
        ("writer", result.writer),
        ("forwarder + writer", result.forwarder + result.writer),
    ]
    for name, timing in rows:
        print(
            f"{name:<19}{timing.cpu:>7.2f}{timing.wall:>8.2f}{changes / timing.cpu:>15,.0f}"
            f"{changes / timing.wall:>16,.0f}{timing.cpu / changes * 10_000_000:>15,.0f}"
        )
    print(
        "Kinesis read-back, GetRecords into events (in no row above):"
        f" CPU {result.readback.cpu:.2f} s, wall {result.readback.wall:.2f} s"
    )
    print(f"checked: {result.checked}")


# --- packages and imports ---------------------------------------------------------------------


def package_size(function: FunctionUnderTest, directory: Path) -> tuple[int, int]:
    """The function's zip as deployed: bytes and file count."""
    archive = directory / f"{function.name}.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as package:
        for name, path in package_files(function.packages).items():
            package.write(path, name)
        if function.gets_catalog:
            package.writestr(BUNDLE_NAME, catalog_assets()[BUNDLE_NAME].text)
        count = len(package.namelist())
    return archive.stat().st_size, count


def cold_import_ms(module: str) -> float:
    """The module's cumulative import time in a fresh interpreter, from `-X importtime`."""
    completed = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    for line in completed.stderr.splitlines():
        match = IMPORT_TIME_LINE.fullmatch(line)
        # Unindented: the top-level import, whose cumulative time includes everything it pulled.
        if match and match[2] == module:
            return int(match[1]) / 1000
    raise RuntimeError(f"-X importtime printed no top-level line for {module}")


def first_invocation_ms(function: FunctionUnderTest) -> tuple[float, float]:
    """Import, then first-invocation work, in a fresh interpreter without -X importtime."""
    probe = FIRST_INVOCATION_PROBE.format(
        module=function.handler_module, first_invocation=function.first_invocation
    )
    completed = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO_ROOT, check=True, capture_output=True, text=True
    )
    imported, first_invocation = json.loads(completed.stdout)
    return imported * 1000, first_invocation * 1000


def print_packages() -> None:
    print("package, zip as deployed (deflate):")
    with tempfile.TemporaryDirectory(prefix="stream-bench-zips-") as directory:
        for function in FUNCTIONS:
            size, count = package_size(function, Path(directory))
            catalog = f", with {BUNDLE_NAME}" if function.gets_catalog else ""
            print(f"  {function.name:<22}{size:>8,} bytes {count:>3} files{catalog}")


def print_imports(runs: int) -> None:
    print(
        f"cold import, python -X importtime -c 'import <module>', {runs} fresh interpreters"
        f" (target: median under {IMPORT_TARGET_MS} ms):"
    )
    for function in FUNCTIONS:
        times = [cold_import_ms(function.handler_module) for _ in range(runs)]
        median = statistics.median(times)
        verdict = "OK" if median < IMPORT_TARGET_MS else "OVER"
        print(
            f"  {function.handler_module:<40} min {min(times):5.1f}  median {median:5.1f}"
            f"  max {max(times):5.1f} ms  {verdict}"
        )


def print_first_invocations(runs: int) -> None:
    print(
        f"first invocation, medians of {runs} fresh interpreters (perf_counter, no -X importtime):"
        "\n  the import, then what the handler's factory adds before the first record"
    )
    for function in FUNCTIONS:
        probes = [first_invocation_ms(function) for _ in range(runs)]
        imported = statistics.median(imported for imported, _ in probes)
        first_invocation = statistics.median(setup for _, setup in probes)
        print(
            f"  {function.name:<22}{imported:6.1f} ms + {first_invocation:6.1f} ms"
            f"  {function.first_invocation_label}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=10_000)
    parser.add_argument("--import-runs", type=int, default=7)
    options = parser.parse_args()

    print(
        f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    print(f"command: {shlex.join([os.path.relpath(sys.executable), *sys.argv])}")

    records = stream_records(options.changes)
    kinds = Counter(record["eventName"] for record in records)
    print(
        f"changes: {options.changes:,} of {DATASET} ({kinds['INSERT']:,} INSERT,"
        f" {kinds['MODIFY']:,} MODIFY, {kinds['REMOVE']:,} REMOVE),"
        f" events of {EVENT_RECORDS} records"
    )
    print(
        f"emulator: moto {metadata.version('moto')} server in a process of its own."
        " CPU: this process, the handlers\nand boto3's request and response work;"
        " wall: also waits on the emulator."
    )
    print_throughput(options.changes, measure_throughput(records))
    print_packages()
    print_imports(options.import_runs)
    print_first_invocations(options.import_runs)


if __name__ == "__main__":
    main()
