"""One scheduled run: every scheduled instance described, decided on and acted on, each on its
own. AWS refusing one start or stop is reported and counted; the others still run."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from functions.scheduler.actions import ResourceActions
from functions.scheduler.decisions import Action, decide, tags_after
from functions.scheduler.inventory import Resource, scheduled_resources
from functions.scheduler.settings import SchedulerSettings

# What a run counts, per schedule: each resource once by its outcome, plus each failed call.
COUNTS = ("started", "stopped", "would_start", "would_stop", "skipped", "unchanged", "errors")
# Where resources whose tag names no known schedule are counted. Schedule names are lower-case
# letters, digits and '-': this cannot be one.
UNKNOWN_SCHEDULE = "(unknown)"
_DONE = {Action.START: "started", Action.STOP: "stopped"}
_WOULD = {Action.START: "would_start", Action.STOP: "would_stop"}


@dataclass
class Scheduler:
    """Runs the schedules of the settings over one account's EC2 and RDS instances."""

    settings: SchedulerSettings
    ec2: Any
    rds: Any
    actions: ResourceActions = field(init=False)

    def __post_init__(self) -> None:
        self.actions = ResourceActions(self.ec2, self.rds)

    def run(self, now: datetime) -> dict[str, Any]:
        """Decides and acts on every scheduled instance at `now` (timezone-aware); returns the
        run's summary: its counts, by schedule too, and one result per resource."""
        resources = scheduled_resources(self.ec2, self.rds, self.settings.schedule_tag)
        results = [self._handle(resource, now) for resource in resources]
        by_schedule = {name: Counter[str]() for name in sorted(self.settings.schedules)}
        for result in results:
            counts = by_schedule.setdefault(
                UNKNOWN_SCHEDULE if result.get("unknown_schedule") else result["schedule"],
                Counter(),
            )
            counts["errors" if result["outcome"] == "error" else result["outcome"]] += 1
            if "tag_error" in result:
                counts["errors"] += 1
        return {
            "at": now.astimezone(UTC).isoformat(),
            "dry_run": self.settings.dry_run,
            "counts": _counts(sum(by_schedule.values(), Counter())),
            "by_schedule": {name: _counts(counts) for name, counts in by_schedule.items()},
            "resources": results,
        }

    def _handle(self, resource: Resource, now: datetime) -> dict[str, Any]:
        decision = decide(resource, self.settings.schedules.get(resource.schedule_name), now)
        result: dict[str, Any] = {
            "kind": str(resource.kind),
            "resource": resource.identifier,
            "schedule": resource.schedule_name,
            "state": resource.state,
            "action": str(decision.action),
            "reason": decision.reason,
        }
        if decision.unknown_schedule:
            result["unknown_schedule"] = True
        if decision.action is Action.SKIP:
            result["outcome"] = "skipped"
        elif decision.action is Action.NONE:
            result["outcome"] = "unchanged"
        elif self.settings.dry_run:
            result["outcome"] = _WOULD[decision.action]
        else:
            try:
                self.actions.apply(resource, decision.action)
            except (ClientError, BotoCoreError) as error:
                # Say the instance changed state since it was described (InvalidDBInstanceState):
                # the next run decides again from what it finds then.
                return {**result, "outcome": "error", "error": _described(error)}
            result["outcome"] = _DONE[decision.action]
        tags = {} if self.settings.dry_run else tags_after(resource, decision, now)
        if tags:
            try:
                self.actions.write_tags(resource, tags)
            except (ClientError, BotoCoreError) as error:
                # The start or stop stands. Without its record the next run takes the stretch
                # for a new one: a change by hand would be undone as if the schedule were
                # enforced.
                result["tag_error"] = _described(error)
        return result


def _counts(counter: Counter[str]) -> dict[str, int]:
    return {name: counter[name] for name in COUNTS}


def _described(error: ClientError | BotoCoreError) -> str:
    """`Code: message` of an AWS error; the text of a client-side one (a timeout, say)."""
    if isinstance(error, BotoCoreError):
        return f"{type(error).__name__}: {error}"
    details = error.response.get("Error", {})
    return f"{details.get('Code', 'Error')}: {details.get('Message', str(error))}"
