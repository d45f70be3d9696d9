"""Lambda entry point: the SNS notifications of the account's alert topic.

Thin on purpose: powertools parses the event, `email_for` writes each notification as an email
and `AlertMailer` sends it. A send that fails raises, so Lambda's retries of the SNS delivery
(and then the subscription's dead-letter handling) take over.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import SNSEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.alert_mailer.mailer import AlertMailer
from functions.alert_mailer.messages import Notification, email_for
from functions.alert_mailer.settings import MailerSettings

logger = Logger(service="alert-mailer")


@cache
def alert_mailer() -> AlertMailer:
    """Built on the first invocation and kept: settings and the SES client."""
    # Imported here, not with the module: boto3 takes about 130 ms to import.
    import boto3  # noqa: PLC0415

    return AlertMailer(MailerSettings.from_environment(os.environ), boto3.client("sesv2"))


@logger.inject_lambda_context
@event_source(data_class=SNSEvent)
def lambda_handler(event: SNSEvent, context: LambdaContext) -> dict[str, Any]:
    """Mails each notification of the event; returns the SES message ids."""
    mailer = alert_mailer()
    sent = []
    for record in event.records:
        sns = record.sns
        notification = Notification(
            subject=sns.get("Subject"),
            message=sns.message,
            topic_arn=sns.topic_arn,
            message_id=sns.message_id,
            timestamp=sns.timestamp,
        )
        email = email_for(notification)
        result = {
            "sns_message_id": notification.message_id,
            "subject": email.subject,
            "ses_message_id": mailer.send(email),
        }
        logger.info("alert mailed", extra=result)
        sent.append(result)
    return {"sent": sent}
