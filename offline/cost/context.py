"""What every pricing rule may consult: prices, volumes, the period, the stack's schedules, and
the rest of the graph (which schedule invokes a function, which function writes a log group)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from functions.working_hours.working_time import Schedule
from offline.cost.model import ComputeHours
from offline.cost.period import Period
from offline.cost.prices import Price, PriceTable
from offline.cost.volumes import Volumes
from offline.mocks import RegisteredResource
from stack_config import HubConfig, StackConfig

LAMBDA_FUNCTION = "aws:lambda/function:Function"
PARAMETER_GROUP = "aws:rds/parameterGroup:ParameterGroup"
RDS_INSTANCE = "aws:rds/instance:Instance"
SCHEDULE = "aws:scheduler/schedule:Schedule"
# A parameter group family is the engine and its major version: postgres16, mysql8.0,
# sqlserver-ee-16.0.
_FAMILY_VERSION = re.compile(r"-?\d+(\.\d+)*$")


class RuleError(ValueError):
    """A rule cannot price a resource from what the graph says; the message says why."""


@dataclass(frozen=True)
class StackSettings:
    """What the estimate reads from the stack's config."""

    role: str
    schedules: Mapping[str, Schedule]
    # False when no scheduler runs in the stack, or it only logs (dry run): nothing is stopped.
    stops_compute: bool


def stack_settings(config: StackConfig) -> StackSettings:
    scheduler = config.operations.scheduler
    return StackSettings(
        role="hub" if isinstance(config, HubConfig) else "spoke",
        schedules={schedule.name: schedule for schedule in config.operations.schedules},
        stops_compute=scheduler is not None and not scheduler.dry_run,
    )


ComputeRule = Callable[[RegisteredResource, "PricingContext"], ComputeHours]


class PricingContext:
    """The graph of one stack with lookups across resources, and per-resource compute hours."""

    def __init__(
        self,
        resources: Sequence[RegisteredResource],
        settings: StackSettings,
        *,
        prices: PriceTable,
        volumes: Volumes,
        period: Period,
        compute_rules: Mapping[str, ComputeRule],
    ) -> None:
        self.resources = tuple(resources)
        self.settings = settings
        self.prices = prices
        self.volumes = volumes
        self.period = period
        self._compute_rules = compute_rules
        self._compute: dict[str, ComputeHours] = {}
        self._schedule_hours: dict[str, float] = {}

    def price(self, key: str) -> Price:
        return self.prices.price(key)

    def of_type(self, typ: str) -> list[RegisteredResource]:
        return [resource for resource in self.resources if resource.type == typ]

    def compute_hours(self, resource: RegisteredResource) -> ComputeHours | None:
        """The hours `resource` runs in an average month, if it is compute (else None)."""
        rule = self._compute_rules.get(resource.type)
        if rule is None:
            return None
        if resource.urn not in self._compute:
            self._compute[resource.urn] = rule(resource, self)
        return self._compute[resource.urn]

    def running_hours(self, schedule: Schedule) -> float:
        """Hours a month compute on `schedule` runs (computed once per schedule)."""
        if schedule.name not in self._schedule_hours:
            self._schedule_hours[schedule.name] = self.period.running_hours_per_month(schedule)
        return self._schedule_hours[schedule.name]

    def has_ancestor(self, resource: RegisteredResource, component_type: str) -> bool:
        """Whether `resource` sits (at any depth) under a component of `component_type`."""
        by_urn = {r.urn: r for r in self.resources}
        parent = by_urn.get(resource.parent)
        while parent is not None:
            if parent.type == component_type:
                return True
            parent = by_urn.get(parent.parent)
        return False

    def engine_of_parameter_group(self, group_name: str | None) -> str | None:
        """The engine of the parameter group called `group_name` (postgres16 -> postgres)."""
        for group in self.of_type(PARAMETER_GROUP):
            family = group.inputs.get("family")
            if group_name and family and group.outputs.get("name") == group_name:
                return _FAMILY_VERSION.sub("", family)
        return None

    def read_replicas_of(self, instance: RegisteredResource) -> tuple[str, ...]:
        """The instances of the graph that replicate `instance`, by name."""
        names = {instance.outputs.get(key) for key in ("identifier", "arn")} - {None}
        return tuple(
            other.name
            for other in self.of_type(RDS_INSTANCE)
            if other.urn != instance.urn and other.inputs.get("replicateSourceDb") in names
        )

    def schedules_invoking(self, function: RegisteredResource) -> list[RegisteredResource]:
        """The EventBridge Scheduler schedules whose target is `function`."""
        arn = function.outputs.get("arn")
        name = function.inputs.get("name")
        found = []
        for schedule in self.of_type(SCHEDULE):
            target = (schedule.inputs.get("target") or {}).get("arn")
            if target and (target == arn or (name and target.endswith(f":function:{name}"))):
                found.append(schedule)
        return found

    def function_logging_to(self, log_group_name: str | None) -> RegisteredResource | None:
        """The Lambda function that writes log group `log_group_name`, if one does."""
        if not log_group_name:
            return None
        for function in self.of_type(LAMBDA_FUNCTION):
            configured = (function.inputs.get("loggingConfig") or {}).get("logGroup")
            default = f"/aws/lambda/{function.inputs.get('name')}"
            if log_group_name == (configured or default):
                return function
        return None
