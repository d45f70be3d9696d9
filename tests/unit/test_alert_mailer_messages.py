"""Alert notifications as emails: CloudWatch alarms in words, anything else as published."""

from __future__ import annotations

import json
from typing import Any

import pytest

from functions.alert_mailer.messages import (
    SUBJECT_LENGTH,
    Email,
    Notification,
    alarm_of,
    console_link,
    email_for,
    one_line,
)

TOPIC_ARN = "arn:aws:sns:eu-west-2:123456789012:reporting-alerts"
FOOTER = [
    "",
    "--",
    f"Published to {TOPIC_ARN} at 2026-11-27T10:05:01.000Z (SNS message 95df01b4-ee98).",
]


def alarm(**changes: Any) -> dict[str, Any]:
    """A CloudWatch alarm's notification as SNS delivers it (Region is a name, not a code)."""
    return {
        "AlarmName": "dev-hub-loader-errors",
        "AlarmDescription": "The landing loader failed: files wait in incoming/.",
        "AWSAccountId": "123456789012",
        "AlarmConfigurationUpdatedTimestamp": "2026-11-01T09:00:00.000+0000",
        "NewStateValue": "ALARM",
        "NewStateReason": "Threshold Crossed: 1 datapoint [2.0 (27/11/26 10:00:00)] was greater "
        "than the threshold (0.0).",
        "StateChangeTime": "2026-11-27T10:05:00.123+0000",
        "Region": "EU (London)",
        "AlarmArn": "arn:aws:cloudwatch:eu-west-2:123456789012:alarm:dev-hub-loader-errors",
        "OldStateValue": "OK",
        "OKActions": [TOPIC_ARN],
        "AlarmActions": [TOPIC_ARN],
        "InsufficientDataActions": [],
        "Trigger": {
            "MetricName": "Errors",
            "Namespace": "AWS/Lambda",
            "StatisticType": "Statistic",
            "Statistic": "SUM",
            "Unit": None,
            "Dimensions": [{"value": "dev-hub-loader", "name": "FunctionName"}],
            "Period": 300,
            "EvaluationPeriods": 1,
            "DatapointsToAlarm": 1,
            "ComparisonOperator": "GreaterThanThreshold",
            "Threshold": 0.0,
            "TreatMissingData": "notBreaching",
            "EvaluateLowSampleCountPercentile": "",
        },
        **changes,
    }


def notification(message: str, subject: str | None = None) -> Notification:
    return Notification(
        subject=subject,
        message=message,
        topic_arn=TOPIC_ARN,
        message_id="95df01b4-ee98",
        timestamp="2026-11-27T10:05:01.000Z",
    )


def test_alarm_becomes_a_readable_email() -> None:
    email = email_for(notification(json.dumps(alarm()), subject='ALARM: "dev-hub-loader-errors"'))

    assert email.subject == "ALARM: dev-hub-loader-errors (123456789012)"
    assert email.text.splitlines() == [
        "ALARM: dev-hub-loader-errors",
        "Account 123456789012, EU (London)",
        "",
        "The landing loader failed: files wait in incoming/.",
        "",
        "State:      ALARM (was OK)",
        "Since:      Fri 2026-11-27 10:05:00 UTC",
        "Reason:     Threshold Crossed: 1 datapoint [2.0 (27/11/26 10:00:00)] was greater than "
        "the threshold (0.0).",
        "",
        "Metric:     AWS/Lambda Errors",
        "Dimensions: FunctionName=dev-hub-loader",
        "Statistic:  Sum over 300 seconds",
        "Condition:  > 0 for 1 of 1 period(s)",
        "",
        "Console:    https://eu-west-2.console.aws.amazon.com/cloudwatch/home?region=eu-west-2"
        "#alarmsV2:alarm/dev-hub-loader-errors",
        *FOOTER,
    ]


def test_recovery_is_an_ok_email() -> None:
    recovered = alarm(NewStateValue="OK", OldStateValue="ALARM", AWSAccountId="210987654321")

    email = email_for(notification(json.dumps(recovered)))

    assert email.subject == "OK: dev-hub-loader-errors (210987654321)"
    assert "State:      OK (was ALARM)" in email.text.splitlines()


def test_alarm_without_description_arn_or_trigger_still_reads() -> None:
    bare = {
        "AlarmName": "composite / odd name",
        "NewStateValue": "INSUFFICIENT_DATA",
        "AlarmRule": 'ALARM("a") OR ALARM("b")',
        "StateChangeTime": "not a time",
    }

    email = email_for(notification(json.dumps(bare)))

    # The region comes from the topic's ARN; the name is quoted in the console link.
    assert email.subject == "INSUFFICIENT_DATA: composite / odd name"
    assert email.text.splitlines()[:11] == [
        "INSUFFICIENT_DATA: composite / odd name",
        "",
        "The alarm has no description.",
        "",
        "State:      INSUFFICIENT_DATA",
        "Since:      not a time",
        "Reason:     not given",
        "",
        'Rule:       ALARM("a") OR ALARM("b")',
        "",
        "Console:    https://eu-west-2.console.aws.amazon.com/cloudwatch/home?region=eu-west-2"
        "#alarmsV2:alarm/composite%20%2F%20odd%20name",
    ]


def test_metric_math_alarm_lists_its_queries() -> None:
    trigger = {
        "Metrics": [
            {"Id": "e1", "Expression": "m1 / 60", "Label": "Minutes", "ReturnData": True},
            {
                "Id": "m1",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/Lambda",
                        "MetricName": "Duration",
                        "Dimensions": [{"Name": "FunctionName", "Value": "dev-hub-loader"}],
                    },
                    "Period": 300,
                    "Stat": "Maximum",
                },
                "ReturnData": False,
            },
        ],
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "Threshold": 12.5,
        "EvaluationPeriods": 3,
        "DatapointsToAlarm": 2,
    }

    lines = email_for(notification(json.dumps(alarm(Trigger=trigger)))).text.splitlines()

    assert lines[9:12] == [
        "Query e1:   Minutes: m1 / 60",
        "Query m1:   AWS/Lambda Duration (FunctionName=dev-hub-loader), Maximum over 300 seconds",
        "Condition:  >= 12.5 for 2 of 3 period(s)",
    ]


def test_plain_message_is_sent_with_its_subject_and_text() -> None:
    text = "1 dataset has had no successful load for longer than allowed.\n\nmaths/pupils\n"

    email = email_for(notification(text, subject="Stale reporting data: maths/pupils"))

    assert email == Email(
        subject="Stale reporting data: maths/pupils",
        text=text + "\n".join(FOOTER) + "\n",
    )


def test_json_that_is_not_an_alarm_is_sent_as_published() -> None:
    report = json.dumps({"source": "s3://landing/incoming/x.csv", "error": "bad"}, indent=2)

    email = email_for(notification(report, subject="Landing file quarantined: incoming/x.csv"))

    assert email.subject == "Landing file quarantined: incoming/x.csv"
    assert email.text.startswith(report + "\n\n--\n")


@pytest.mark.parametrize("message", ["not json {", "", "[1, 2]", '"text"', "null"])
def test_a_message_that_is_not_an_alarm_object_is_plain(message: str) -> None:
    assert alarm_of(message) is None

    email = email_for(notification(message))

    assert email.subject == "Notification from reporting-alerts"


def test_subject_is_one_line_and_capped() -> None:
    assert one_line("  Two\nlines\r\n and\ttabs ") == "Two lines and tabs"
    capped = one_line("x" * 500)
    assert len(capped) == SUBJECT_LENGTH
    assert capped.endswith("...")


def test_console_link_quotes_the_name() -> None:
    assert console_link("eu-west-2", "a/b c?d") == (
        "https://eu-west-2.console.aws.amazon.com/cloudwatch/home?region=eu-west-2"
        "#alarmsV2:alarm/a%2Fb%20c%3Fd"
    )
