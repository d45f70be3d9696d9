"""CloudWatch alarms that notify an alert topic when they fire and when they recover."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

# Five minutes: the shortest period standard (free-resolution) metrics support for every
# service alarmed here.
PERIOD_SECONDS = 300


@dataclass(frozen=True)
class Metric:
    """What an alarm watches: namespace, metric name, statistic and dimensions."""

    namespace: str
    name: str
    statistic: str
    dimensions: dict[str, pulumi.Input[str]]


def metric_alarm(
    name: str,
    *,
    description: str,
    metric: Metric,
    topic_arn: pulumi.Input[str],
    tags: dict[str, str],
    opts: pulumi.ResourceOptions,
    threshold: float = 0,
    below: bool = False,
    periods: int = 1,
) -> aws.cloudwatch.MetricAlarm:
    """Alarm when the metric rises above `threshold` (by default: any non-zero value), or falls
    below it with `below`, for `periods` periods in a row; no data is not a breach (an idle
    pipeline, or a database stopped out of hours, is healthy)."""
    return aws.cloudwatch.MetricAlarm(
        name,
        alarm_description=description,
        namespace=metric.namespace,
        metric_name=metric.name,
        dimensions=metric.dimensions,
        statistic=metric.statistic,
        period=PERIOD_SECONDS,
        evaluation_periods=periods,
        threshold=threshold,
        comparison_operator="LessThanThreshold" if below else "GreaterThanThreshold",
        treat_missing_data="notBreaching",
        alarm_actions=[topic_arn],
        ok_actions=[topic_arn],
        tags=tags,
        opts=opts,
    )
