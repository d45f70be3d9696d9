"""Notifications of the alert topic as emails. Pure: no AWS, no clock.

A CloudWatch alarm's notification (JSON with AlarmName and NewStateValue) becomes a subject
naming the state, the alarm and the account, and a body saying what is wrong in words (the
alarm's description), since when, why, on which metric, with a link to the alarm in the
console. Anything else (the freshness check's or the loader's alerts, a message that is not
JSON) is sent as it was published: its subject and its text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

# SES sets no limit of its own, but a header longer than a line gets folded and mail clients
# show well under this: the rest of a long subject is in the body anyway.
SUBJECT_LENGTH = 200
ELLIPSIS = "..."

COMPARISONS = {
    "GreaterThanOrEqualToThreshold": ">=",
    "GreaterThanThreshold": ">",
    "LessThanThreshold": "<",
    "LessThanOrEqualToThreshold": "<=",
    "LessThanLowerOrGreaterThanUpperThreshold": "outside the band",
    "LessThanLowerThreshold": "below the band",
    "GreaterThanUpperThreshold": "above the band",
}
# How alarm notifications spell statistics (SUM), and how the console does (Sum).
STATISTICS = {
    "SUM": "Sum",
    "AVERAGE": "Average",
    "MAXIMUM": "Maximum",
    "MINIMUM": "Minimum",
    "SAMPLE_COUNT": "SampleCount",
}


@dataclass(frozen=True)
class Notification:
    """One SNS notification as the topic delivered it."""

    # None when the publisher set none.
    subject: str | None
    message: str
    topic_arn: str
    message_id: str
    timestamp: str


@dataclass(frozen=True)
class Email:
    """What SES sends: a one-line subject and a plain-text body."""

    subject: str
    text: str


def email_for(notification: Notification) -> Email:
    """The email of one notification: an alarm's in words, anything else as published."""
    alarm = alarm_of(notification.message)
    if alarm is not None:
        return Email(one_line(alarm_subject(alarm)), alarm_body(alarm, notification))
    subject = notification.subject or f"Notification from {_topic_name(notification.topic_arn)}"
    return Email(one_line(subject), notification.message.rstrip() + "\n" + _footer(notification))


def alarm_of(message: str) -> dict[str, Any] | None:
    """The CloudWatch alarm a message carries, or None for any other message."""
    try:
        document = json.loads(message)
    except ValueError:
        return None
    if (
        isinstance(document, dict)
        and isinstance(document.get("AlarmName"), str)
        and isinstance(document.get("NewStateValue"), str)
    ):
        return document
    return None


def alarm_subject(alarm: dict[str, Any]) -> str:
    """`ALARM: <alarm name> (<account>)`, `OK: ...` or `INSUFFICIENT_DATA: ...`."""
    account = alarm.get("AWSAccountId")
    suffix = f" ({account})" if account else ""
    return f"{alarm['NewStateValue']}: {alarm['AlarmName']}{suffix}"


def alarm_body(alarm: dict[str, Any], notification: Notification) -> str:
    """What is wrong, since when and why, the metric, and the alarm's console link."""
    region = _alarm_region(alarm, notification.topic_arn)
    where = ", ".join(
        str(part) for part in (alarm.get("AWSAccountId"), alarm.get("Region")) if part
    )
    lines = [f"{alarm['NewStateValue']}: {alarm['AlarmName']}"]
    if where:
        lines.append(f"Account {where}")
    lines += [
        "",
        alarm.get("AlarmDescription") or "The alarm has no description.",
        "",
        f"State:      {_state_change(alarm)}",
        f"Since:      {_moment(alarm.get('StateChangeTime'))}",
        f"Reason:     {alarm.get('NewStateReason') or 'not given'}",
    ]
    trigger = alarm.get("Trigger")
    if isinstance(trigger, dict):
        lines += ["", *_trigger_lines(trigger)]
    if alarm.get("AlarmRule"):
        # A composite alarm: the rule over its child alarms, no metric of its own.
        lines += ["", f"Rule:       {alarm['AlarmRule']}"]
    if region:
        lines += ["", f"Console:    {console_link(region, alarm['AlarmName'])}"]
    return "\n".join(lines) + "\n" + _footer(notification)


def console_link(region: str, alarm_name: str) -> str:
    """The alarm's page in the CloudWatch console."""
    return (
        f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}"
        f"#alarmsV2:alarm/{quote(alarm_name, safe='')}"
    )


def one_line(subject: str) -> str:
    """The subject on one line, whitespace collapsed, cut to SUBJECT_LENGTH."""
    text = " ".join(subject.split())
    if len(text) <= SUBJECT_LENGTH:
        return text
    return text[: SUBJECT_LENGTH - len(ELLIPSIS)] + ELLIPSIS


def _trigger_lines(trigger: dict[str, Any]) -> list[str]:
    lines = []
    if trigger.get("MetricName"):
        lines.append(f"Metric:     {trigger.get('Namespace', '')} {trigger['MetricName']}".strip())
        dimensions = _dimensions(trigger.get("Dimensions"))
        if dimensions:
            lines.append(f"Dimensions: {dimensions}")
        statistic = trigger.get("ExtendedStatistic") or STATISTICS.get(
            str(trigger.get("Statistic")), trigger.get("Statistic")
        )
        if statistic and trigger.get("Period"):
            lines.append(f"Statistic:  {statistic} over {trigger['Period']} seconds")
    for metric in trigger.get("Metrics") or []:
        # A metric-math alarm: each query, the expression that raises the alarm included.
        lines.append(f"Query {metric.get('Id', '?')}:   {_query(metric)}")
    operator = trigger.get("ComparisonOperator")
    if operator:
        condition = f"{COMPARISONS.get(operator, operator)} {_number(trigger.get('Threshold'))}"
        periods = trigger.get("EvaluationPeriods")
        if periods:
            condition += (
                f" for {trigger.get('DatapointsToAlarm') or periods} of {periods} period(s)"
            )
        lines.append(f"Condition:  {condition}")
    return lines


def _query(metric: dict[str, Any]) -> str:
    if metric.get("Expression"):
        described = str(metric["Expression"])
    else:
        stat = metric.get("MetricStat") or {}
        inner = stat.get("Metric") or {}
        described = f"{inner.get('Namespace', '')} {inner.get('MetricName', '')}".strip()
        dimensions = _dimensions(inner.get("Dimensions"))
        if dimensions:
            described += f" ({dimensions})"
        if stat.get("Stat") and stat.get("Period"):
            described += f", {stat['Stat']} over {stat['Period']} seconds"
    label = metric.get("Label")
    return f"{label}: {described}" if label else described


def _dimensions(dimensions: Any) -> str:
    """`Name=value, ...`: notifications spell the keys `name`/`value`, the API `Name`/`Value`."""
    if not isinstance(dimensions, list):
        return ""
    return ", ".join(
        f"{item.get('name', item.get('Name'))}={item.get('value', item.get('Value'))}"
        for item in dimensions
        if isinstance(item, dict)
    )


def _state_change(alarm: dict[str, Any]) -> str:
    old = alarm.get("OldStateValue")
    return f"{alarm['NewStateValue']} (was {old})" if old else str(alarm["NewStateValue"])


def _moment(text: Any) -> str:
    """`2026-11-27T10:05:00.123+0000` as `Fri 2026-11-27 10:05:00 UTC`; other text as given."""
    if not isinstance(text, str) or not text:
        return "not given"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return f"{moment.astimezone(UTC):%a %Y-%m-%d %H:%M:%S} UTC"


def _number(value: Any) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:g}"
    return str(value)


def _alarm_region(alarm: dict[str, Any], topic_arn: str) -> str | None:
    """The alarm's region code: notifications give `Region` as a name ("EU (London)"), so it
    comes from the alarm's ARN, or else the topic's (alarm actions are same-region topics)."""
    for arn in (alarm.get("AlarmArn"), topic_arn):
        parts = arn.split(":") if isinstance(arn, str) else []
        if len(parts) > 3 and parts[0] == "arn" and parts[3]:
            return parts[3]
    return None


def _topic_name(topic_arn: str) -> str:
    return topic_arn.rsplit(":", 1)[-1] or "the alert topic"


def _footer(notification: Notification) -> str:
    return (
        "\n--\n"
        f"Published to {notification.topic_arn} at {notification.timestamp} "
        f"(SNS message {notification.message_id}).\n"
    )
