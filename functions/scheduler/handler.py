"""Lambda entry point: an EventBridge Scheduler event every few minutes (its content unused).

Starts and stops this account's EC2 and RDS instances by the schedule their schedule tag names
(see `decisions` for the rules), logs one line per instance and a summary, and publishes the
summary's counts per schedule as CloudWatch metrics in embedded metric format. One instance AWS
refuses to start or stop is logged and counted under Errors; the run goes on and succeeds, and
the next one, minutes later, tries again.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.scheduler.runs import Scheduler
from functions.scheduler.settings import SchedulerSettings

DEFAULT_METRICS_NAMESPACE = "ReportingPlatform/Scheduler"
# Summary count -> metric name. A dry run counts what it would have done under its own names.
METRIC_NAMES = {
    "started": "Started",
    "stopped": "Stopped",
    "would_start": "WouldStart",
    "would_stop": "WouldStop",
    "skipped": "Skipped",
    "unchanged": "Unchanged",
    "errors": "Errors",
}

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME") or "scheduler")
# Schedule is the only dimension: an empty service keeps powertools from adding its `service`
# one (from POWERTOOLS_SERVICE_NAME); the namespace is the scheduler's own.
metrics = Metrics(
    namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or DEFAULT_METRICS_NAMESPACE,
    service="",
)


@cache
def scheduler() -> Scheduler:
    """Built on the first invocation and kept: settings and clients."""
    # Imported here, not with the module: boto3 takes about 130 ms to import.
    import boto3  # noqa: PLC0415

    return Scheduler(
        settings=SchedulerSettings.from_environment(os.environ),
        ec2=boto3.client("ec2"),
        rds=boto3.client("rds"),
    )


def current_time() -> datetime:
    """The time a run decides at; the tests replace it to run a simulated week."""
    return datetime.now(UTC)


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Runs the schedules once; returns the run's summary."""
    summary = scheduler().run(current_time())
    for result in summary["resources"]:
        if result["outcome"] == "error" or "tag_error" in result:
            logger.error("scheduler call failed", extra=result)
        elif result.get("unknown_schedule"):
            logger.warning("schedule tag names no known schedule", extra=result)
        else:
            logger.info(f"resource {result['outcome']}", extra=result)
    logger.info(
        "scheduler run",
        extra={name: value for name, value in summary.items() if name != "resources"},
    )
    _publish(summary["by_schedule"])
    return summary


def _publish(by_schedule: dict[str, dict[str, int]]) -> None:
    """One EMF document per schedule, its counts with dimension Schedule (zeros included, so an
    alarm on Errors always has data)."""
    for schedule, counts in by_schedule.items():
        metrics.add_dimension(name="Schedule", value=schedule)
        for name, value in counts.items():
            metrics.add_metric(name=METRIC_NAMES[name], unit=MetricUnit.Count, value=value)
        metrics.flush_metrics()
