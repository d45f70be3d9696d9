"""The alert mailer end to end: SNS events to the handler, emails sent through the emulator's
SES (v2) and read back from moto's sent messages."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from service_fixtures import REGION

from functions.alert_mailer import handler

# The mailer sends through SES v2.
pytestmark = [pytest.mark.services, pytest.mark.emulator_needs("sesv2")]

ACCOUNT = "123456789012"


def sns_event(message: str, subject: str | None, topic_arn: str) -> dict[str, Any]:
    """An SNS notification as Lambda receives it (Subject is null when none was published)."""
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": f"{topic_arn}:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
                    "TopicArn": topic_arn,
                    "Subject": subject,
                    "Message": message,
                    "Timestamp": "2026-11-27T10:05:01.000Z",
                    "SignatureVersion": "1",
                    "Signature": "EXAMPLE",
                    "SigningCertUrl": "https://sns.eu-west-2.amazonaws.com/cert.pem",
                    "UnsubscribeUrl": "https://sns.eu-west-2.amazonaws.com/?Action=Unsubscribe",
                    "MessageAttributes": {},
                },
            }
        ]
    }


def loader_alarm(name: str) -> str:
    """A CloudWatch alarm's notification: Region is a name, the code is in AlarmArn."""
    return json.dumps(
        {
            "AlarmName": name,
            "AlarmDescription": "The landing loader failed: files wait in incoming/.",
            "AWSAccountId": ACCOUNT,
            "NewStateValue": "ALARM",
            "NewStateReason": "Threshold Crossed: 1 datapoint [2.0 (27/11/26 10:00:00)] was "
            "greater than the threshold (0.0).",
            "StateChangeTime": "2026-11-27T10:05:00.123+0000",
            "Region": "EU (London)",
            "AlarmArn": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{name}",
            "OldStateValue": "OK",
            "Trigger": {
                "MetricName": "Errors",
                "Namespace": "AWS/Lambda",
                "StatisticType": "Statistic",
                "Statistic": "SUM",
                "Unit": None,
                "Dimensions": [{"value": "dev-hub-loader", "name": "FunctionName"}],
                "Period": 300,
                "EvaluationPeriods": 1,
                "ComparisonOperator": "GreaterThanThreshold",
                "Threshold": 0.0,
                "TreatMissingData": "notBreaching",
            },
        }
    )


@pytest.fixture(autouse=True)
def cold_start() -> Iterator[None]:
    handler.alert_mailer.cache_clear()
    yield
    handler.alert_mailer.cache_clear()


@pytest.fixture
def sender_domain(mailbox, aws: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """A verified SES domain identity; the mailer's environment sends from it."""
    domain = f"alerts-{uuid.uuid4().hex[:8]}.example.org"
    aws.client("sesv2").create_email_identity(EmailIdentity=domain)
    monkeypatch.setenv("SENDER", domain)
    monkeypatch.setenv("RECIPIENTS", "data-team@example.org, on-call@example.org")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "alert-mailer")
    return domain


@pytest.fixture
def topic_arn() -> str:
    return f"arn:aws:sns:{REGION}:{ACCOUNT}:dev-hub-alerts"


def test_an_alarm_is_mailed_in_words(sender_domain, mailbox, topic_arn, lambda_context) -> None:
    # GIVEN a CloudWatch alarm's notification
    event = sns_event(
        loader_alarm("dev-hub-loader-errors"), 'ALARM: "dev-hub-loader-errors"', topic_arn
    )

    # WHEN the handler runs on it
    result = handler.lambda_handler(event, lambda_context)

    # THEN one email goes to every recipient, from the domain's alerts address, in words
    [sent] = result["sent"]
    assert sent["subject"] == f"ALARM: dev-hub-loader-errors ({ACCOUNT})"
    email = mailbox.sent(sent["ses_message_id"])
    assert email["source"] == f"reporting-alerts@{sender_domain}"
    assert email["destinations"] == {
        "ToAddresses": ["data-team@example.org", "on-call@example.org"]
    }
    assert email["subject"] == f"ALARM: dev-hub-loader-errors ({ACCOUNT})"
    assert email["body"].splitlines() == [
        "ALARM: dev-hub-loader-errors",
        f"Account {ACCOUNT}, EU (London)",
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
        f"Console:    https://{REGION}.console.aws.amazon.com/cloudwatch/home?region={REGION}"
        "#alarmsV2:alarm/dev-hub-loader-errors",
        "",
        "--",
        f"Published to {topic_arn} at 2026-11-27T10:05:01.000Z "
        "(SNS message 95df01b4-ee98-5cb9-9903-4c221d41eb5e).",
    ]


def test_a_plain_message_is_mailed_as_published(
    sender_domain, mailbox, topic_arn, lambda_context
) -> None:
    text = (
        "1 dataset has had no successful load for longer than allowed.\n\n"
        "maths/pupils\n  Last successful load: never loaded\n"
    )
    event = sns_event(text, "Stale reporting data: maths/pupils", topic_arn)

    [sent] = handler.lambda_handler(event, lambda_context)["sent"]

    email = mailbox.sent(sent["ses_message_id"])
    assert email["subject"] == "Stale reporting data: maths/pupils"
    assert email["body"] == (
        text + "\n--\n"
        f"Published to {topic_arn} at 2026-11-27T10:05:01.000Z "
        "(SNS message 95df01b4-ee98-5cb9-9903-4c221d41eb5e).\n"
    )


def test_a_message_that_is_not_json_and_has_no_subject_is_mailed(
    sender_domain, mailbox, topic_arn, lambda_context
) -> None:
    event = sns_event("{not json: the disk is full", None, topic_arn)

    [sent] = handler.lambda_handler(event, lambda_context)["sent"]

    email = mailbox.sent(sent["ses_message_id"])
    assert email["subject"] == "Notification from dev-hub-alerts"
    assert email["body"].startswith("{not json: the disk is full\n\n--\n")


def test_an_address_sender_sends_from_itself(
    sender_domain, mailbox, topic_arn, monkeypatch, lambda_context
) -> None:
    address = f"ops@{sender_domain}"
    monkeypatch.setenv("SENDER", address)

    [sent] = handler.lambda_handler(sns_event("hello", "Hi", topic_arn), lambda_context)["sent"]

    assert mailbox.sent(sent["ses_message_id"])["source"] == address


def test_an_unverified_sender_raises(aws, monkeypatch, topic_arn, lambda_context) -> None:
    # GIVEN a sender that is no SES identity of the account
    monkeypatch.setenv("SENDER", f"alerts@unverified-{uuid.uuid4().hex[:8]}.example.org")
    monkeypatch.setenv("RECIPIENTS", "data-team@example.org")

    # WHEN the handler runs THEN SES's refusal propagates (SNS retries the delivery)
    with pytest.raises(ClientError, match="MessageRejected"):
        handler.lambda_handler(sns_event("hello", "Hi", topic_arn), lambda_context)
