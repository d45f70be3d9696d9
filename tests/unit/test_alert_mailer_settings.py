"""The alert mailer's environment: the SES sender and the recipients."""

from __future__ import annotations

import pytest

from functions.alert_mailer.settings import MailerSettings, SettingsError


def test_an_address_identity_sends_from_itself() -> None:
    settings = MailerSettings.from_environment(
        {"SENDER": "alerts@example.org", "RECIPIENTS": " a@example.org, b@example.org ,"}
    )

    assert settings == MailerSettings("alerts@example.org", ("a@example.org", "b@example.org"))


def test_a_domain_identity_sends_from_reporting_alerts() -> None:
    settings = MailerSettings.from_environment(
        {"SENDER": "example.org", "RECIPIENTS": "a@example.org"}
    )

    assert settings.sender == "reporting-alerts@example.org"


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        ({"RECIPIENTS": "a@example.org"}, "SENDER is required"),
        ({"SENDER": "example.org"}, "RECIPIENTS needs at least one address"),
        ({"SENDER": "example.org", "RECIPIENTS": " , "}, "RECIPIENTS needs at least one"),
        ({"SENDER": "example.org", "RECIPIENTS": "a@example.org,nobody"}, "'nobody' is not"),
        (
            {"SENDER": "example.org", "RECIPIENTS": ",".join(f"{n}@x.org" for n in range(51))},
            "at most 50",
        ),
    ],
)
def test_invalid_environment_names_the_variable(environment: dict, message: str) -> None:
    with pytest.raises(SettingsError, match="environment variable") as raised:
        MailerSettings.from_environment(environment)

    assert message in str(raised.value)
