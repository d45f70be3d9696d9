"""Parsing of the hub's `reports` key (the report server), and the check of its catch-up window
against the report definitions (`reports/*.yaml`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from stack_config import checks
from stack_config.access import instance_type
from stack_config.errors import ConfigError
from stack_config.model import HubConfig, ReportServer, ReportSettings
from stack_config.section import Section

# A systemd calendar timer fires at fixed minutes of each hour: an interval that divides the
# hour keeps the gaps equal across the hour boundary.
CHECK_INTERVALS = tuple(minutes for minutes in range(5, 61) if 60 % minutes == 0)


class RetainedReport(Protocol):
    """What the check needs of a report definition (`ReportDefinition` has more)."""

    @property
    def name(self) -> str: ...

    @property
    def retention_days(self) -> int: ...


def reports(section: Section) -> ReportSettings | None:
    """The report server's settings, or None when the stack has none."""
    if not section.written_keys():
        return None
    settings = ReportSettings(
        sender=section.text("sender", check=checks.ses_identity),
        # Instance role credentials sign the links; 12 hours is what the runner allows.
        link_expiry_hours=section.integer("linkExpiryHours", 1, 12, default=6),
        catch_up_days=section.integer("catchUpDays", 1, 30, default=7),
        server=_server(section.section("server", default={})),
    )
    section.finish()
    return settings


def _server(section: Section) -> ReportServer:
    server = ReportServer(
        instance_type=section.text("instanceType", default="t4g.small", check=instance_type),
        check_every_minutes=section.integer("checkEveryMinutes", 5, 60, default=15),
    )
    if server.check_every_minutes not in CHECK_INTERVALS:
        raise section.error(
            "checkEveryMinutes",
            "must divide the hour, so the timer's runs are evenly spaced: one of "
            f"{', '.join(map(str, CHECK_INTERVALS))}; got {server.check_every_minutes}",
        )
    section.finish()
    return server


def check_catch_up_window(config: HubConfig, definitions: Iterable[RetainedReport]) -> None:
    """`reports.catchUpDays` is less than every report's `retentionDays`: a report caught up
    after the server was stopped, and the delivery record that says it was sent, must still
    exist when the runner looks for them."""
    if config.reports is None:
        return
    days = config.reports.catch_up_days
    for definition in definitions:
        if days >= definition.retention_days:
            raise ConfigError(
                ("reports", "catchUpDays"),
                f"{days} is not less than the retention of report '{definition.name}' "
                f"(retention_days: {definition.retention_days} in "
                f"reports/{definition.name}.yaml): a report caught up that late would already "
                "have expired",
            )
