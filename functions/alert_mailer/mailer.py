"""Sends an email to the alert recipients through SES."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from functions.alert_mailer.messages import Email
from functions.alert_mailer.settings import MailerSettings


@dataclass
class AlertMailer:
    """Sends with one SES (v2) client from the configured sender."""

    settings: MailerSettings
    ses: Any

    def send(self, email: Email) -> str:
        """Sends `email` to every recipient; returns SES's message id. SES errors raise."""
        response = self.ses.send_email(
            FromEmailAddress=self.settings.sender,
            Destination={"ToAddresses": list(self.settings.recipients)},
            Content={
                "Simple": {
                    "Subject": {"Data": email.subject, "Charset": "UTF-8"},
                    "Body": {"Text": {"Data": email.text, "Charset": "UTF-8"}},
                }
            },
        )
        return response["MessageId"]
