"""The email that tells a report's recipients it is ready: a short summary and a time-limited
link, never the data itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from functions.report_runner.periods import ReportRun

# From a domain identity, reports come from this mailbox of the domain.
DOMAIN_SENDER_MAILBOX = "reports"


@dataclass(frozen=True)
class ReportEmail:
    subject: str
    text: str


def from_address(sender: str) -> str:
    """The From address: the sender itself when it is an address, else a mailbox of its
    domain."""
    return sender if "@" in sender else f"{DOMAIN_SENDER_MAILBOX}@{sender}"


def report_email(
    run: ReportRun, *, rows: int, size: int, location: str, link: str, link_expires: datetime
) -> ReportEmail:
    report = run.report
    zone = report.timezone
    local = ZoneInfo(zone)
    filename = location.rsplit("/", 1)[1]
    lines = [
        f"The report {report.name} is ready.",
        "",
        *([report.description, ""] if report.description else []),
        f"Period:  {_when(run.period_start)} to {_when(run.period_end)} ({zone})",
        f"Rows:    {rows:,}",
        f"File:    {filename} ({_size(size)})",
        "",
        f"Download it from the office network until {_when(link_expires.astimezone(local))}:",
        link,
        "",
        f"The file is kept for {report.retention_days} days at {location}.",
        "This email carries no report data. Anyone with the link can download the file from the "
        "office network until it expires: do not forward it.",
    ]
    return ReportEmail(
        subject=f"Report ready: {report.name} for {_when(run.period_end, date_only=True)}",
        text="\n".join(lines) + "\n",
    )


def send_report_email(ses: Any, sender: str, run: ReportRun, email: ReportEmail) -> str:
    """Sends through SES (v2) to the report's recipients; returns SES's message id."""
    response = ses.send_email(
        FromEmailAddress=from_address(sender),
        Destination={"ToAddresses": list(run.report.recipients)},
        Content={
            "Simple": {
                "Subject": {"Data": email.subject, "Charset": "UTF-8"},
                "Body": {"Text": {"Data": email.text, "Charset": "UTF-8"}},
            }
        },
    )
    return response["MessageId"]


def _when(moment: datetime, date_only: bool = False) -> str:
    return f"{moment:%a %d %b %Y}" if date_only else f"{moment:%a %d %b %Y %H:%M}"


def _size(size: int) -> str:
    if size < 1024:
        return f"{size:,} bytes"
    if size < 1024**2:
        return f"{size / 1024:,.1f} KB"
    return f"{size / 1024**2:,.1f} MB"
