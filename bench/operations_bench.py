"""Operations functions: zip sizes, cold imports without .pyc, and the scheduler's runs.

    .venv/bin/python bench/operations_bench.py [--instances 200] [--databases 40] [--import-runs 5]

In one run:
- runs the dev hub under mocks (the real program and stack file, as `make demo` does) and takes
  each operations function's `code` archive, as deployed: the scheduler, the freshness check,
  the alert mailer, the incoming sweeper and the landing loader (the four that follow working
  hours bundle the holidays library, python-dateutil and six). Prints each zip's size
  (deflate), its files and how many of them are vendored;
- extracts each zip to a fresh directory and, in fresh interpreters started there with `-B` and
  PYTHONDONTWRITEBYTECODE (Lambda cannot write .pyc files to /var/task, and the zips hold
  none), imports the handler module, then parses a schedule with England's holidays and looks
  2026-12-25 up, as the first invocation of a function that follows working hours does (that
  imports the holidays library). This environment's site-packages stand for the runtime and
  the layers (boto3, powertools), with their .pyc files as installed. The same again in a copy
  compiled beforehand shows what compiling costs;
- starts a moto server in a process of its own, launches --instances EC2 instances and
  --databases PostgreSQL DB instances tagged with the dev stack's schedule, and times the
  scheduler's real `Scheduler.run` with real boto3 clients and the deployed settings: one run
  out of hours that stops everything, then one five minutes later that finds nothing to do.
  The run fails unless the first stops every instance and the second leaves every one alone.
Not a test: numbers, and a check that they measured something.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import zipfile
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any

import boto3

REPO_ROOT = Path(__file__).resolve().parents[1]
# Run as a script from the repository: make the project's packages importable.
sys.path.insert(0, str(REPO_ROOT))

from emulator import moto_server, use_emulator  # noqa: E402
from measure import Timing, timed  # noqa: E402

from components.instance_scheduler import HOLIDAY_PACKAGES  # noqa: E402
from functions.scheduler.inventory import scheduled_resources  # noqa: E402
from functions.scheduler.runs import Scheduler  # noqa: E402
from functions.scheduler.settings import SchedulerSettings  # noqa: E402
from offline.estate import run_environment  # noqa: E402

ENVIRONMENT = "dev"
FUNCTION = "aws:lambda/function:Function"
IMPORT_TARGET_MS = 150
IMAGE_ID = "ami-12c6146b"  # one of moto's default AMIs
# Thursday 2026-11-26, 19:30 in London: out of hours for office-hours (07:00-19:00 weekdays).
OUT_OF_HOURS = datetime(2026, 11, 26, 19, 30, tzinfo=UTC)
RUN_INTERVAL = timedelta(minutes=5)
WORKING_TIME = "functions/working_hours/working_time.py"
# Timed in a fresh interpreter started in the extracted zip; prints milliseconds as JSON.
PROBE = """\
import json, sys, time
started = time.perf_counter()
import {module}
imported = time.perf_counter()
holiday = None
if {look_up_holiday}:
    from datetime import date
    from functions.working_hours.working_time import holiday_name, schedule_from_dict
    schedule = schedule_from_dict("office-hours", {{
        "timezone": "Europe/London",
        "periods": [{{"days": ["mon-fri"], "start": "07:00", "stop": "19:00"}}],
        "holidays": {{"country": "GB", "subdivision": "ENG"}},
        "enforced": False,
    }})
    holiday = holiday_name(schedule, date(2026, 12, 25))
looked_up = time.perf_counter()
print(json.dumps({{
    "import_ms": (imported - started) * 1000,
    "holiday_ms": (looked_up - imported) * 1000,
    "holiday": holiday,
    "handler_file": sys.modules["{module}"].__file__,
    "holidays_file": getattr(sys.modules.get("holidays"), "__file__", None),
}}))
"""


@dataclass(frozen=True)
class OperationsFunction:
    """A deployed function: its handler and its zip's files (archive path -> content)."""

    name: str
    handler: str
    files: dict[str, bytes]
    environment: dict[str, str]
    memory_mb: int
    timeout_seconds: int

    @property
    def handler_module(self) -> str:
        return self.handler.rsplit(".", 1)[0]

    @property
    def follows_working_hours(self) -> bool:
        return WORKING_TIME in self.files


# Handler -> the name printed; the order printed.
OPERATIONS_HANDLERS = {
    "functions.scheduler.handler.lambda_handler": "scheduler",
    "functions.freshness.handler.lambda_handler": "freshness",
    "functions.alert_mailer.handler.lambda_handler": "alert_mailer",
    "functions.incoming_sweeper.handler.lambda_handler": "incoming_sweeper",
    "functions.loader.handler.lambda_handler": "loader",
}


def deployed_functions() -> list[OperationsFunction]:
    """The operations functions of the dev hub's mocked run, with their archives' files."""
    functions = {}
    for resource in run_environment(ENVIRONMENT).hub.of_type(FUNCTION):
        name = OPERATIONS_HANDLERS.get(resource.inputs["handler"])
        if name is None:
            continue
        files = {}
        for path, asset in resource.inputs["code"].assets.items():
            text = getattr(asset, "text", None)
            files[path] = text.encode() if text is not None else Path(asset.path).read_bytes()
        functions[name] = OperationsFunction(
            name,
            resource.inputs["handler"],
            dict(sorted(files.items())),
            dict(resource.inputs.get("environment", {}).get("variables", {})),
            int(resource.inputs["memorySize"]),
            int(resource.inputs["timeout"]),
        )
    missing = set(OPERATIONS_HANDLERS.values()) - set(functions)
    if missing:
        sys.exit(f"the {ENVIRONMENT} hub deploys no {', '.join(sorted(missing))} function")
    return [functions[name] for name in OPERATIONS_HANDLERS.values()]


# --- packages and imports ---------------------------------------------------------------------


def is_vendored(path: str) -> bool:
    top = path.split("/", maxsplit=1)[0].removesuffix(".py")
    return top in HOLIDAY_PACKAGES or top.endswith(".dist-info")


def print_packages(functions: list[OperationsFunction], directory: Path) -> None:
    print(f"package, zip as deployed by the {ENVIRONMENT} hub (deflate):")
    for function in functions:
        archive = directory / f"{function.name}.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as package:
            for path, content in function.files.items():
                package.writestr(path, content)
        vendored = sum(1 for path in function.files if is_vendored(path))
        unzipped = sum(len(content) for content in function.files.values())
        print(
            f"  {function.name:<18}{archive.stat().st_size:>10,} bytes {len(function.files):>4}"
            f" files ({vendored:>3} vendored), {unzipped:>10,} bytes unzipped;"
            f" {function.memory_mb:>5} MB, timeout {function.timeout_seconds:>3} s"
        )


def extract(function: OperationsFunction, directory: Path) -> None:
    for path, content in function.files.items():
        target = directory / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)


def probe_ms(function: OperationsFunction, directory: Path) -> tuple[float, float]:
    """The handler module's import, then the first holiday lookup, in a fresh interpreter
    started in `directory` (the extracted zip first on sys.path); milliseconds."""
    probe = PROBE.format(
        module=function.handler_module, look_up_holiday=function.follows_working_hours
    )
    completed = subprocess.run(
        [sys.executable, "-B", "-c", probe],
        cwd=directory,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        check=True,
        capture_output=True,
        text=True,
    )
    result = json.loads(completed.stdout)
    if not result["handler_file"].startswith(str(directory)):
        sys.exit(f"{function.handler_module} came from {result['handler_file']}, not the zip")
    if function.follows_working_hours:
        if not (result["holidays_file"] or "").startswith(str(directory)):
            sys.exit(f"{function.name}: holidays came from {result['holidays_file']}, not the zip")
        if result["holiday"] != "Christmas Day":
            sys.exit(f"{function.name}: 2026-12-25 in England is {result['holiday']!r}")
    return result["import_ms"], result["holiday_ms"]


def probes_ms(
    function: OperationsFunction, directory: Path, runs: int
) -> tuple[list[float], float]:
    """Each run's import time, and the median of the runs' holiday lookups."""
    probes = [probe_ms(function, directory) for _ in range(runs)]
    lookups = [holiday for _, holiday in probes]
    return [imported for imported, _ in probes], statistics.median(lookups)


def print_imports(functions: list[OperationsFunction], directory: Path, runs: int) -> None:
    print(
        f"cold start, {runs} fresh interpreters each (perf_counter), python -B in the extracted"
        f" zip:\n  the handler module's import (target: median under {IMPORT_TARGET_MS} ms),"
        " then the first holiday lookup\n  (schedule_from_dict with GB/ENG holidays +"
        " holiday_name 2026-12-25: imports holidays)"
    )
    compiled: dict[str, tuple[float, float]] = {}
    for function in functions:
        fresh = directory / f"{function.name}-fresh"
        extract(function, fresh)
        imports, holiday = probes_ms(function, fresh, runs)
        if any(fresh.rglob("__pycache__")):
            sys.exit(f"{fresh} holds .pyc files: the interpreters compiled into the copy")
        median = statistics.median(imports)
        verdict = "OK" if median < IMPORT_TARGET_MS else "OVER"
        lookup = f"  + {holiday:6.1f} ms lookup" if function.follows_working_hours else ""
        print(
            f"  {function.name:<18}import min {min(imports):5.1f}  median {median:5.1f}"
            f"  max {max(imports):5.1f} ms  {verdict:<4}{lookup}".rstrip()
        )
        # The same zip compiled beforehand, as if it shipped .pyc files.
        precompiled = directory / f"{function.name}-compiled"
        shutil.copytree(fresh, precompiled)
        compileall.compile_dir(precompiled, quiet=1)
        compiled_imports, compiled_holiday = probes_ms(function, precompiled, runs)
        compiled[function.name] = (statistics.median(compiled_imports), compiled_holiday)
    print("  the same, each zip compiled beforehand (.pyc present), medians:")
    for function in functions:
        imported, holiday = compiled[function.name]
        lookup = f" + {holiday:6.1f} ms lookup" if function.follows_working_hours else ""
        print(f"  {function.name:<18}import {imported:5.1f} ms{lookup}")


# --- the scheduler on the emulator ------------------------------------------------------------


def launch_instances(ec2: Any, count: int, schedule_tag: str, schedule: str) -> None:
    """`count` running EC2 instances carrying the schedule tag, at most 100 a call."""
    for first in range(0, count, 100):
        batch = min(100, count - first)
        ec2.run_instances(
            ImageId=IMAGE_ID,
            InstanceType="t3.micro",
            MinCount=batch,
            MaxCount=batch,
            TagSpecifications=[
                {
                    "ResourceType": "instance",
                    "Tags": [
                        {"Key": schedule_tag, "Value": schedule},
                        {"Key": "Name", "Value": f"report-worker-{first // 100}"},
                    ],
                }
            ],
        )


def create_databases(rds: Any, count: int, schedule_tag: str, schedule: str) -> None:
    """`count` available PostgreSQL DB instances carrying the schedule tag."""
    for number in range(count):
        rds.create_db_instance(
            DBInstanceIdentifier=f"reporting-replica-{number:03d}",
            Engine="postgres",
            DBInstanceClass="db.t3.micro",
            MasterUsername="reporting",
            MasterUserPassword="not-a-secret-1",
            AllocatedStorage=20,
            Tags=[{"Key": schedule_tag, "Value": schedule}],
        )


class CallCounter:
    """Counts each client's API calls by operation name."""

    def __init__(self, *clients: Any) -> None:
        self.calls: Counter[str] = Counter()
        for client in clients:
            client.meta.events.register("before-call", self._count)

    def _count(self, model: Any, **_: Any) -> None:
        self.calls[model.name] += 1

    def take(self) -> Counter[str]:
        """The calls since the last take."""
        calls, self.calls = self.calls, Counter()
        return calls


@dataclass(frozen=True)
class SchedulerRun:
    label: str
    timing: Timing
    counts: dict[str, int]
    calls: Counter[str]


def measure_scheduler(
    environment: dict[str, str], instances: int, databases: int
) -> list[SchedulerRun]:
    """Two runs of the scheduler over a fresh emulated account."""
    settings = SchedulerSettings.from_environment(environment)
    schedule = next(iter(sorted(settings.schedules)))
    with moto_server() as url:
        use_emulator(url)
        ec2, rds = boto3.client("ec2"), boto3.client("rds")
        launch_instances(ec2, instances, settings.schedule_tag, schedule)
        create_databases(rds, databases, settings.schedule_tag, schedule)
        scheduler = Scheduler(settings=settings, ec2=ec2, rds=rds)
        # A warm container's clients: endpoints resolved, paginators loaded, before any timing.
        scheduled_resources(ec2, rds, settings.schedule_tag)
        counter = CallCounter(ec2, rds)
        runs = []
        for label, now in (
            ("stops everything", OUT_OF_HOURS),
            ("nothing to do", OUT_OF_HOURS + RUN_INTERVAL),
        ):
            summary, timing = timed(lambda now=now: scheduler.run(now))
            runs.append(SchedulerRun(label, timing, summary["counts"], counter.take()))
    total = instances + databases
    stopping, idle = runs
    if stopping.counts["stopped"] != total or stopping.counts["errors"]:
        sys.exit(f"the out-of-hours run did not stop all {total} instances: {stopping.counts}")
    if idle.counts["unchanged"] != total or set(idle.calls) - {
        "DescribeInstances",
        "DescribeDBInstances",
    }:
        sys.exit(f"the second run did more than describe: {idle.counts}, {dict(idle.calls)}")
    return runs


def print_scheduler(runs: list[SchedulerRun], instances: int, databases: int) -> None:
    total = instances + databases
    print(
        f"scheduler, Scheduler.run with boto3 clients on moto: {instances} EC2 + {databases} RDS"
        " instances tagged with the dev schedule\n"
        f"{'':<20}{'CPU s':>7}{'wall s':>8}{'wall ms/instance':>18}  outcome, API calls"
    )
    for run in runs:
        outcome = ", ".join(f"{name} {value}" for name, value in run.counts.items() if value)
        calls = ", ".join(f"{name} {count}" for name, count in sorted(run.calls.items()))
        print(
            f"{run.label:<20}{run.timing.cpu:>7.2f}{run.timing.wall:>8.2f}"
            f"{run.timing.wall / total * 1000:>18.2f}  {outcome}\n{'':<22}calls: {calls}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=200)
    parser.add_argument("--databases", type=int, default=40)
    parser.add_argument("--import-runs", type=int, default=5)
    options = parser.parse_args()

    print(f"command: {shlex.join([os.path.relpath(sys.executable), *sys.argv])}")
    print(
        f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; holidays {metadata.version('holidays')},"
        f" python-dateutil {metadata.version('python-dateutil')}, six {metadata.version('six')}"
    )
    functions = deployed_functions()
    with tempfile.TemporaryDirectory(prefix="operations-bench-") as directory:
        print_packages(functions, Path(directory))
        print_imports(functions, Path(directory), options.import_runs)
    print(
        f"emulator: moto {metadata.version('moto')} server in a process of its own. CPU: this"
        " process, the scheduler\nand boto3's request and response work; wall: also waits on"
        " the emulator."
    )
    (scheduler,) = [function for function in functions if function.name == "scheduler"]
    runs = measure_scheduler(scheduler.environment, options.instances, options.databases)
    print_scheduler(runs, options.instances, options.databases)


if __name__ == "__main__":
    main()
