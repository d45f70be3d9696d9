"""Compute that bills by the hour (RDS and EC2 instances) and the storage attached to it.

Only compute the scheduler may stop runs on a schedule: its own `cannot_schedule` decides
(AWS cannot stop an RDS read replica, an instance with read replicas, or SQL Server Multi-AZ),
so the estimate and the scheduler never disagree. Everything else runs every hour.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from components.tags import SCHEDULE_TAG
from functions.scheduler.decisions import cannot_schedule, maintenance_window
from functions.scheduler.inventory import Kind, Resource
from functions.working_hours.working_time import Schedule, running_at
from offline.cost.context import PricingContext, RuleError
from offline.cost.model import ComputeHours, LineItem, Pricing
from offline.mocks import RegisteredResource

# What the EC2 API gives a root volume when the instance does not say (the AMI may differ).
DEFAULT_ROOT_VOLUME_GB = 8
DEFAULT_VOLUME_TYPE = "gp3"
# RDS gives an instance a 30-minute weekly maintenance window unless one is set.
DEFAULT_MAINTENANCE_MINUTES = 30
HOURS_PER_WEEK = 7 * 24
# A Wednesday in the estimate's year: the week whose maintenance window is checked.
WINDOW_REFERENCE = datetime(2026, 11, 4, tzinfo=UTC)


def rds_engine(resource: RegisteredResource, context: PricingContext) -> str:
    """`engine`, or for a replica (which inherits it) the family of its parameter group."""
    engine = resource.inputs.get("engine") or context.engine_of_parameter_group(
        resource.inputs.get("parameterGroupName")
    )
    if not engine:
        raise RuleError("no engine: neither `engine` nor a parameter group family in the graph")
    return engine


def rds_compute_hours(resource: RegisteredResource, context: PricingContext) -> ComputeHours:
    inputs = resource.inputs
    engine = rds_engine(resource, context)
    multi_az = bool(inputs.get("multiAz"))
    kind = f"RDS {engine} {inputs.get('instanceClass')}{' Multi-AZ' if multi_az else ''}"
    described = Resource(
        kind=Kind.RDS,
        identifier=resource.name,
        tag_target=resource.name,
        schedule_name=_schedule_tag(resource) or "",
        state="available",
        tags=_tags(resource),
        engine=engine,
        multi_az=multi_az,
        replica_of=inputs.get("replicateSourceDb") or None,
        replicas=context.read_replicas_of(resource),
    )
    return _scheduled(
        resource, context, kind, described, lambda schedule: _maintenance_minutes(inputs, schedule)
    )


def ec2_compute_hours(resource: RegisteredResource, context: PricingContext) -> ComputeHours:
    described = Resource(
        kind=Kind.EC2,
        identifier=resource.name,
        tag_target=resource.name,
        schedule_name=_schedule_tag(resource) or "",
        state="running",
        tags=_tags(resource),
    )
    kind = f"EC2 {resource.inputs.get('instanceType')}"
    return _scheduled(resource, context, kind, described, lambda _: 0)


def rds_instance(resource: RegisteredResource, context: PricingContext) -> Pricing:
    inputs = resource.inputs
    engine = rds_engine(resource, context)
    instance_class = inputs.get("instanceClass")
    if not instance_class:
        raise RuleError("no instanceClass")
    hours = context.compute_hours(resource)
    copies = 2 if inputs.get("multiAz") else 1
    deployment = "Multi-AZ (2 instances)" if copies == 2 else "Single-AZ"
    replica = bool(inputs.get("replicateSourceDb"))
    if replica:
        storage_gb = context.volumes.replica_storage_gb
        storage_detail = "storage (replica: stated size, type of its source)"
    else:
        storage_gb = float(inputs.get("allocatedStorage") or 0)
        storage_detail = "allocated storage"
    storage_type = inputs.get("storageType") or DEFAULT_VOLUME_TYPE
    items = [
        LineItem(
            resource.name,
            f"{instance_class} {engine} {deployment}, {hours.scheduled:,.1f} h",
            hours.scheduled * copies,
            context.price(f"rds/instance-hour/{engine}/{instance_class}"),
        ),
        LineItem(
            resource.name,
            f"{storage_gb:,.0f} GB {storage_type} {storage_detail}"
            + (" x 2" if copies == 2 else ""),
            storage_gb * copies,
            context.price(f"rds/storage-gb-month/{storage_type}"),
        ),
    ]
    if inputs.get("manageMasterUserPassword"):
        # RDS keeps the master password in a Secrets Manager secret the graph does not show.
        items.append(
            LineItem(
                resource.name,
                "master user secret managed by RDS",
                1,
                context.price("secretsmanager/secret-month"),
            )
        )
    return Pricing(items=tuple(items))


def ec2_instance(resource: RegisteredResource, context: PricingContext) -> Pricing:
    inputs = resource.inputs
    instance_type = inputs.get("instanceType")
    if not instance_type:
        raise RuleError("no instanceType")
    hours = context.compute_hours(resource)
    items = [
        LineItem(
            resource.name,
            f"{instance_type} Linux (the AMI's OS is not in the graph), {hours.scheduled:,.1f} h",
            hours.scheduled,
            context.price(f"ec2/instance-hour/linux/{instance_type}"),
        )
    ]
    if inputs.get("associatePublicIpAddress"):
        # AWS charges every public IPv4 address by the hour; a stopped instance releases its own.
        items.append(
            LineItem(
                resource.name,
                f"public IPv4 address, {hours.scheduled:,.1f} h",
                hours.scheduled,
                context.price("vpc/public-ipv4-hour"),
            )
        )
    root = inputs.get("rootBlockDevice") or {}
    volumes = [("root", root), *(("data", v) for v in inputs.get("ebsBlockDevices") or [])]
    for role, volume in volumes:
        size = float(volume.get("volumeSize") or (DEFAULT_ROOT_VOLUME_GB if role == "root" else 0))
        volume_type = volume.get("volumeType") or DEFAULT_VOLUME_TYPE
        items.append(
            LineItem(
                resource.name,
                f"{size:,.0f} GB {volume_type} {role} volume",
                size,
                context.price(f"ebs/gb-month/{volume_type}"),
            )
        )
    return Pricing(items=tuple(items))


def ebs_volume(resource: RegisteredResource, context: PricingContext) -> Pricing:
    size = float(resource.inputs.get("size") or 0)
    volume_type = resource.inputs.get("type") or DEFAULT_VOLUME_TYPE
    return Pricing(
        items=(
            LineItem(
                resource.name,
                f"{size:,.0f} GB {volume_type}",
                size,
                context.price(f"ebs/gb-month/{volume_type}"),
            ),
        )
    )


def _always_on(
    resource: RegisteredResource, context: PricingContext, kind: str, reason: str
) -> ComputeHours:
    always = context.period.hours_per_month
    return ComputeHours(resource.name, kind, always, always, reason)


def _scheduled(
    resource: RegisteredResource,
    context: PricingContext,
    kind: str,
    described: Resource,
    maintenance_minutes: Callable[[Schedule], float],
) -> ComputeHours:
    """Hours on the schedule its `Schedule` tag names, if the stack's scheduler may stop it
    (the scheduler's own `cannot_schedule` says which instances it must leave running)."""
    name = _schedule_tag(resource)
    if name is None:
        return _always_on(resource, context, kind, f"always on: no {SCHEDULE_TAG} tag")
    unschedulable = cannot_schedule(described)
    if unschedulable is not None:
        return _always_on(resource, context, kind, f"always on: {unschedulable}")
    schedule = context.settings.schedules.get(name)
    if schedule is None:
        return _always_on(
            resource, context, kind, f"always on: schedule '{name}' is not in the stack config"
        )
    if not context.settings.stops_compute:
        return _always_on(
            resource, context, kind, "always on: no scheduler stops this stack's compute"
        )
    always = context.period.hours_per_month
    hours = context.running_hours(schedule)
    reason = f"on schedule '{name}'"
    outside = maintenance_minutes(schedule)
    if schedule.maintenance_lead_minutes and outside:
        # Started `maintenanceLeadMinutes` before each weekly window out of hours, and run
        # through it.
        weeks = always / HOURS_PER_WEEK
        extra = (schedule.maintenance_lead_minutes + outside) / 60 * weeks
        hours = min(always, hours + extra)
        reason += f" + {extra:.1f} h weekly maintenance"
    return ComputeHours(resource.name, kind, hours, always, reason)


def _schedule_tag(resource: RegisteredResource) -> str | None:
    return _tags(resource).get(SCHEDULE_TAG)


def _tags(resource: RegisteredResource) -> dict[str, str]:
    return dict(resource.inputs.get("tags") or {})


def _maintenance_minutes(inputs: dict, schedule: Schedule) -> float:
    """Minutes a week the database runs for maintenance outside its schedule: none when its
    window (`ddd:hh24:mi-ddd:hh24:mi`, UTC) lies in working hours; RDS's own default windows
    in eu-west-2 fall at night (30 minutes)."""
    written = str(inputs.get("maintenanceWindow") or "")
    if not written:
        return DEFAULT_MAINTENANCE_MINUTES
    window = maintenance_window(written, WINDOW_REFERENCE)
    if window is None:
        raise RuleError(f"maintenanceWindow '{written}' is not ddd:hh24:mi-ddd:hh24:mi")
    start, stop = window
    if running_at(schedule, start) and running_at(schedule, stop - timedelta(minutes=1)):
        return 0
    return (stop - start).total_seconds() / 60
