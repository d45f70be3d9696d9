"""The alert mailer's settings, read once from its environment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

# The address a domain identity sends from.
DOMAIN_SENDER = "reporting-alerts"
# SES takes at most 50 recipients per message.
MAX_RECIPIENTS = 50


class SettingsError(ValueError):
    """A required environment variable is missing or invalid; the message names it."""


@dataclass(frozen=True)
class MailerSettings:
    """Everything the handler takes from its environment."""

    # An address of a verified SES identity.
    sender: str
    recipients: tuple[str, ...]

    @classmethod
    def from_environment(cls, environment: Mapping[str, str]) -> MailerSettings:
        """Reads SENDER (an SES identity: an address, or a domain to send from
        `reporting-alerts@<domain>`) and RECIPIENTS (comma-separated addresses)."""
        identity = environment.get("SENDER", "").strip()
        if not identity:
            raise SettingsError("environment variable SENDER is required")
        sender = identity if "@" in identity else f"{DOMAIN_SENDER}@{identity}"
        recipients = tuple(
            address.strip()
            for address in environment.get("RECIPIENTS", "").split(",")
            if address.strip()
        )
        if not recipients:
            raise SettingsError("environment variable RECIPIENTS needs at least one address")
        malformed = [address for address in recipients if address.count("@") != 1]
        if malformed:
            raise SettingsError(
                f"environment variable RECIPIENTS: {malformed[0]!r} is not an email address"
            )
        if len(recipients) > MAX_RECIPIENTS:
            raise SettingsError(
                f"environment variable RECIPIENTS: SES sends to at most {MAX_RECIPIENTS}"
            )
        return cls(sender=sender, recipients=recipients)
