"""What to do with one scheduled instance now: start, stop, nothing, or skip it for good.

Pure: the instance's facts as described, its schedule and the time in; a decision and its
reason out. The scheduler acts on changes of stretch, not blindly. In the first run of each
running or stopped stretch it starts or stops the instance, or finds it already as the stretch
wants it, and records which in tags on the instance. A later difference in the same stretch is
a person's doing: an instance started by hand out of hours is stopped again only when the
schedule is `enforced`, otherwise it runs until the next stopped stretch; and the same the
other way round for an instance stopped by hand in working time.

One exception: RDS starts a DB instance by itself after seven days stopped. A DB instance
recorded as stopped at least that long ago, in the current stretch, is stopped again whatever
`enforced` says; a person who started it in that time cannot be told apart from RDS.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from functions.scheduler.inventory import Kind, Resource
from functions.working_hours.working_time import (
    DAYS,
    Schedule,
    holiday_name,
    running_at,
    stretch_start,
)

# The scheduler's own tags (its IAM policy lets it write only tags named Scheduler*).
LAST_ACTION_TAG = "SchedulerLastAction"
LAST_ACTION_AT_TAG = "SchedulerLastActionAt"
REASON_TAG = "SchedulerReason"
# SchedulerLastAction's values: what the scheduler did, or found already done.
STARTED = "started"
STOPPED = "stopped"
FOUND_RUNNING = "found-running"
FOUND_STOPPED = "found-stopped"
_LEFT_RUNNING = frozenset({STARTED, FOUND_RUNNING})
_LEFT_STOPPED = frozenset({STOPPED, FOUND_STOPPED})
# EC2 Auto Scaling sets it on the instances of a group; the group starts and stops them.
AUTO_SCALING_TAG = "aws:autoscaling:groupName"
RDS_AUTO_START = timedelta(days=7)
RUNNING_STATE = {Kind.EC2: "running", Kind.RDS: "available"}
STOPPED_STATE = {Kind.EC2: "stopped", Kind.RDS: "stopped"}
# RDS accepts only these in tag values (EC2 takes more): letters, digits, spaces, _.:/=+-@.
TAG_VALUE_LIMIT = 256
_TAG_PUNCTUATION = frozenset(" _.:/=+-@")
_WINDOW = re.compile(r"([a-z]{3}):([0-9]{2}):([0-9]{2})-([a-z]{3}):([0-9]{2}):([0-9]{2})")
_WEEK = timedelta(weeks=1)


class Action(StrEnum):
    START = "start"
    STOP = "stop"
    # Already as it should be, left as a person set it, or waiting for a state change to end.
    NONE = "none"
    # Never acted on: AWS cannot stop it, something else manages it, or its schedule is unknown.
    SKIP = "skip"


@dataclass(frozen=True)
class Decision:
    action: Action
    # Short text for logs and the SchedulerReason tag.
    reason: str
    # The SchedulerLastAction to record once carried out (None: record nothing).
    record: str | None = None
    # The resource's tag names a schedule the settings do not define (a typo, most likely).
    unknown_schedule: bool = False


@dataclass(frozen=True)
class LastAction:
    """What the scheduler last did to a resource or found done, read back from its tags."""

    action: str
    at: datetime

    @property
    def left_running(self) -> bool:
        """Whether the scheduler left the resource running (started, or found it running)."""
        return self.action in _LEFT_RUNNING


def decide(resource: Resource, schedule: Schedule | None, now: datetime) -> Decision:
    """What to do with `resource` at `now` (timezone-aware) under `schedule` (None: its tag
    names no schedule the scheduler knows)."""
    if schedule is None:
        return Decision(
            Action.SKIP, f"no schedule named {resource.schedule_name}", unknown_schedule=True
        )
    unschedulable = cannot_schedule(resource)
    if unschedulable is not None:
        return Decision(Action.SKIP, unschedulable)
    if resource.state not in (RUNNING_STATE[resource.kind], STOPPED_STATE[resource.kind]):
        return Decision(Action.NONE, f"waiting while {resource.state}")
    running = resource.state == RUNNING_STATE[resource.kind]
    wanted, why = _desired(resource, schedule, now)
    last = last_action(resource.tags)
    # What the scheduler recorded in this stretch; a difference since is a person's doing.
    recorded = last if last is not None and last.at >= stretch_start(schedule, now) else None
    if wanted == running:
        if recorded is None:
            found = FOUND_RUNNING if running else FOUND_STOPPED
            return Decision(Action.NONE, f"{why}: already {resource.state}", record=found)
        return Decision(Action.NONE, why)
    if wanted:
        if recorded is not None and recorded.left_running:
            if schedule.enforced:
                return Decision(
                    Action.START, f"{why}: stopped by hand and started again as enforced", STARTED
                )
            return Decision(
                Action.NONE, f"{why}: stopped by hand so left stopped until the next start"
            )
        return Decision(Action.START, why, STARTED)
    if recorded is not None and not recorded.left_running:
        if resource.kind is Kind.RDS and now - recorded.at >= RDS_AUTO_START:
            return Decision(Action.STOP, f"{why}: RDS restarted it after 7 days stopped", STOPPED)
        if schedule.enforced:
            return Decision(
                Action.STOP, f"{why}: started by hand and stopped again as enforced", STOPPED
            )
        return Decision(Action.NONE, f"{why}: started by hand so left running until the next stop")
    return Decision(Action.STOP, why, STOPPED)


def cannot_schedule(resource: Resource) -> str | None:
    """Why the scheduler must never start or stop `resource`, if it must not."""
    if resource.kind is Kind.EC2:
        group = resource.tags.get(AUTO_SCALING_TAG)
        if group:
            return f"in Auto Scaling group {group}: the group starts and stops its instances"
        return None
    if resource.cluster:
        return f"member of Aurora cluster {resource.cluster}: RDS stops the cluster as a whole"
    if resource.replica_of:
        return f"read replica of {resource.replica_of}: RDS cannot stop a read replica"
    if resource.replicas:
        return (
            f"source of read replicas {' '.join(resource.replicas)}: "
            "RDS cannot stop an instance with read replicas"
        )
    if resource.multi_az and resource.engine.lower().startswith("sqlserver"):
        return "SQL Server Multi-AZ: RDS cannot stop it"
    return None


def last_action(tags: Mapping[str, str]) -> LastAction | None:
    """The scheduler's last record in the tags; None without a readable one."""
    action = tags.get(LAST_ACTION_TAG)
    if action not in _LEFT_RUNNING | _LEFT_STOPPED:
        return None
    try:
        at = datetime.fromisoformat(tags.get(LAST_ACTION_AT_TAG, ""))
    except ValueError:
        return None
    if at.tzinfo is None:
        return None
    return LastAction(action, at)


def tags_after(resource: Resource, decision: Decision, now: datetime) -> dict[str, str]:
    """The tags to write once `decision` is carried out: what was done or found, when and why;
    after a skip only the reason, when it changed (not every run)."""
    reason = tag_value(decision.reason)
    if decision.record is not None:
        return {
            LAST_ACTION_TAG: decision.record,
            LAST_ACTION_AT_TAG: now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            REASON_TAG: reason,
        }
    if decision.action is Action.SKIP and resource.tags.get(REASON_TAG) != reason:
        return {REASON_TAG: reason}
    return {}


def tag_value(text: str) -> str:
    """`text` with only the characters every AWS tag value allows, within the length limit."""
    kept = "".join(c for c in text if c.isalnum() or c in _TAG_PUNCTUATION)
    return " ".join(kept.split())[:TAG_VALUE_LIMIT]


def maintenance_window(window: str, now: datetime) -> tuple[datetime, datetime] | None:
    """The current or next occurrence of the weekly UTC window `ddd:hh24:mi-ddd:hh24:mi`
    (RDS's PreferredMaintenanceWindow): the first that ends after `now`. None if malformed."""
    match = _WINDOW.fullmatch(window.strip().lower())
    if match is None:
        return None
    first_day, first_hour, first_minute, last_day, last_hour, last_minute = match.groups()
    if first_day not in DAYS or last_day not in DAYS:
        return None
    try:
        opens = _week_offset(DAYS.index(first_day), int(first_hour), int(first_minute))
        closes = _week_offset(DAYS.index(last_day), int(last_hour), int(last_minute))
    except ValueError:
        return None
    # A window may wrap from Sunday to Monday.
    length = (closes - opens) % _WEEK
    if not length:
        return None
    utc_now = now.astimezone(UTC)
    monday = datetime(utc_now.year, utc_now.month, utc_now.day, tzinfo=UTC) - timedelta(
        days=utc_now.weekday()
    )
    for weeks in (-1, 0, 1):
        start = monday + weeks * _WEEK + opens
        if start + length > utc_now:
            return start, start + length
    return None


def _week_offset(day: int, hour: int, minute: int) -> timedelta:
    if hour > 23 or minute > 59:
        raise ValueError("not a time of day")
    return timedelta(days=day, hours=hour, minutes=minute)


def _desired(resource: Resource, schedule: Schedule, now: datetime) -> tuple[bool, str]:
    """Whether the resource should run now, and why."""
    if running_at(schedule, now):
        return True, f"{schedule.name} working time"
    maintenance = _maintenance(resource, schedule, now)
    if maintenance is not None:
        return True, maintenance
    holiday = holiday_name(schedule, now.astimezone(ZoneInfo(schedule.timezone)).date())
    if holiday is not None:
        return False, f"{schedule.name} public holiday {holiday}"
    return False, f"{schedule.name} out of hours"


def _maintenance(resource: Resource, schedule: Schedule, now: datetime) -> str | None:
    """Why a DB instance should run for its maintenance window now, if it should."""
    lead = timedelta(minutes=schedule.maintenance_lead_minutes)
    if resource.kind is not Kind.RDS or not lead or not resource.maintenance_window:
        return None
    window = maintenance_window(resource.maintenance_window, now)
    if window is None:
        return None
    start, _ = window
    if start - lead <= now:
        return f"maintenance window {resource.maintenance_window} from {start:%Y-%m-%dT%H:%MZ}"
    return None
