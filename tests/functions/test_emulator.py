"""What the other function tests take from whichever emulator REPORTING_EMULATOR chose: sent
emails read back, and another account's credentials acting in that account."""

from __future__ import annotations

import uuid

import pytest
from service_fixtures import account_client, account_credentials

pytestmark = pytest.mark.services


def test_an_email_sent_through_ses_is_read_back_from_the_mailbox(aws, mailbox) -> None:
    # GIVEN a verified sender (SES v1: every emulator serves it)
    ses = aws.client("ses")
    sender = f"reports-{uuid.uuid4().hex[:8]}@example.org"
    ses.verify_email_identity(EmailAddress=sender)

    # WHEN an email is sent
    message_id = ses.send_email(
        Source=sender,
        Destination={"ToAddresses": ["maths-leads@example.org"]},
        Message={"Subject": {"Data": "Report ready"}, "Body": {"Text": {"Data": "The link"}}},
    )["MessageId"]

    # THEN the mailbox has it as sent
    email = mailbox.sent(message_id)
    assert email["source"] == sender
    assert email["destinations"]["ToAddresses"] == ["maths-leads@example.org"]
    assert (email["subject"], email["body"]) == ("Report ready", "The link")


def test_another_accounts_credentials_act_in_that_account(aws) -> None:
    # GIVEN a role's credentials in another account
    credentials = account_credentials(aws, "444400000001")

    # WHEN its clients create a key and ask who they are
    key_arn = account_client(aws, "kms", credentials).create_key()["KeyMetadata"]["Arn"]
    identity = account_client(aws, "sts", credentials).get_caller_identity()

    # THEN both are that account's
    assert identity["Account"] == "444400000001"
    assert key_arn.startswith("arn:aws:kms:eu-west-2:444400000001:key/")
