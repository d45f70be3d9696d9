"""Parsing of the keys every stack shares for running its account: `schedules`, `scheduler`,
`alerts`, and the hub's `freshness`."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

from functions.working_hours import working_time
from functions.working_hours.working_time import (
    HolidayRegion,
    Period,
    Schedule,
    ScheduleError,
    running_at,
)
from stack_config import checks
from stack_config.errors import ConfigError
from stack_config.model import (
    AlertMail,
    AlertSettings,
    Deployment,
    FreshnessSettings,
    Operations,
    SchedulerSettings,
)
from stack_config.retention import log_retention
from stack_config.section import Section

# England and Wales: the case study's publisher is in England.
DEFAULT_HOLIDAYS = HolidayRegion("GB", "ENG")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
_DATASET = re.compile(r"[a-z][a-z0-9-]*/[a-z][a-z0-9_]*")


def operations(top: Section, deployment: Deployment, *, hub: bool) -> Operations:
    """The stack's schedules, scheduler (required in the hub) and alerts."""
    schedules = _schedules(top.section("schedules", default={}))
    names = [s.name for s in schedules]
    scheduler_section = top.section("scheduler", default={})
    scheduler = _scheduler(scheduler_section) if hub or scheduler_section.written_keys() else None
    if (scheduler or schedules) and deployment.schedule not in names:
        raise top.error(
            "schedule",
            f"names '{deployment.schedule}', which `schedules` does not define "
            f"(defined: {', '.join(names) or 'none'})",
        )
    return Operations(
        schedules=schedules,
        scheduler=scheduler,
        alerts=_alerts(top.section("alerts", default={})),
    )


# A weekday in winter and one in summer: the UTC window must be in working hours in both.
_WINDOW_CHECK_DAYS = (date(2026, 1, 14), date(2026, 7, 15))


def check_backup_window(window: str, schedule: Schedule) -> None:
    """RDS takes no automated backup of a stopped instance: the reporting database's backup
    window (UTC) must lie in its schedule's working hours, whatever the clocks say."""
    first, last = window.split("-")
    for day in _WINDOW_CHECK_DAYS:
        start = datetime.combine(day, time.fromisoformat(first), UTC)
        stop = datetime.combine(day, time.fromisoformat(last), UTC) - timedelta(minutes=1)
        if stop < start or not (running_at(schedule, start) and running_at(schedule, stop)):
            raise ConfigError(
                ("reportingDatabase", "backupWindow"),
                f"{window} (UTC) is not inside schedule '{schedule.name}' on {day:%A %d %B} "
                "(the database is stopped then, and RDS backs up only a running instance)",
            )


def freshness(section: Section) -> FreshnessSettings | None:
    """The hub's freshness check, or None when the stack has none."""
    if not section.written_keys():
        return None
    overrides = section.section("datasets", default={})
    datasets = []
    for name in overrides.written_keys():
        if not _DATASET.fullmatch(str(name)):
            raise overrides.error(str(name), "must be a dataset name `<platform>/<dataset>`")
        datasets.append((str(name), overrides.integer(str(name), 0, 8760)))
    overrides.finish()
    settings = FreshnessSettings(
        expression=section.text(
            "schedule", default="cron(30 9-17 ? * MON-FRI *)", check=checks.schedule_expression
        ),
        window_hours=section.integer("windowHours", 1, 8760, default=24),
        datasets=tuple(sorted(datasets)),
    )
    section.finish()
    return settings


def _schedules(section: Section) -> tuple[Schedule, ...]:
    schedules = []
    for name in section.written_keys():
        try:
            checks.schedule_name(str(name))
        except ValueError as problem:
            raise section.error(str(name), str(problem)) from None
        schedules.append(_schedule(str(name), section.section(str(name))))
    section.finish()
    return tuple(schedules)


def _schedule(name: str, section: Section) -> Schedule:
    schedule = Schedule(
        name=name,
        timezone=section.text("timezone", default="Europe/London", check=checks.timezone),
        periods=tuple(_period(item) for item in section.sections("periods")),
        holidays=_holidays(section),
        enforced=section.flag("enforced", default=False),
        maintenance_lead_minutes=section.integer("maintenanceLeadMinutes", 0, 1440, default=0),
    )
    section.finish()
    return schedule


def _period(item: Section) -> Period:
    days = item.texts("days")
    try:
        parsed_days = working_time.parse_days(list(days))
    except ScheduleError as problem:
        raise item.error("days", str(problem)) from None
    start = item.text("start", check=working_time.parse_clock)
    stop = item.text("stop", check=lambda value: working_time.parse_clock(value, stop=True))
    try:
        period = working_time.period(parsed_days, start, stop)
    except ScheduleError as problem:
        raise item.error("stop", str(problem)) from None
    item.finish()
    return period


def _holidays(section: Section) -> HolidayRegion | None:
    """England and Wales by default; `holidays: false` for none."""
    region = section.switchable_section(
        "holidays",
        default={"country": DEFAULT_HOLIDAYS.country, "subdivision": DEFAULT_HOLIDAYS.subdivision},
    )
    if region is None:
        return None
    country = region.text("country")
    subdivision = region.text("subdivision") if "subdivision" in region.written_keys() else None
    region.finish()
    if country == "GB" and subdivision is None:
        # The library's UK-wide set lacks Easter Monday and the August bank holiday: each
        # nation has its own.
        raise region.error("subdivision", "is required for GB: one of ENG, NIR, SCT, WLS")
    try:
        return working_time.check_region(HolidayRegion(country, subdivision))
    except ScheduleError as problem:
        key = "subdivision" if problem.args[0].startswith("subdivision") else "country"
        raise region.error(key, str(problem)) from None


def _scheduler(section: Section) -> SchedulerSettings:
    settings = SchedulerSettings(
        expression=section.text("rate", default="rate(5 minutes)", check=checks.rate_expression),
        dry_run=section.flag("dryRun", default=False),
        architecture=section.text(
            "architecture", default="arm64", check=checks.choice("x86_64", "arm64")
        ),
        memory_mb=section.integer("memoryMb", 128, 10240, default=256),
        timeout_seconds=section.integer("timeoutSeconds", 10, 900, default=120),
        powertools_layer_arn=section.text("powertoolsLayerArn", check=checks.layer_arn),
        log_retention_days=log_retention(section),
    )
    section.finish()
    return settings


def _alerts(section: Section) -> AlertSettings:
    mail_section = section.section("mail", default={})
    settings = AlertSettings(
        emails=section.texts("emails", check=_email, default=[], min_items=0),
        mail=_mail(mail_section) if mail_section.written_keys() else None,
    )
    section.finish()
    return settings


def _mail(section: Section) -> AlertMail:
    mail = AlertMail(
        sender=section.text("sender", check=checks.ses_identity),
        recipients=section.texts("recipients", check=_email),
        powertools_layer_arn=section.text("powertoolsLayerArn", check=checks.layer_arn),
        log_retention_days=log_retention(section),
    )
    section.finish()
    return mail


def _email(value: str) -> str:
    if not _EMAIL.fullmatch(value):
        raise ValueError(f"must be an email address; got '{value}'")
    return value
