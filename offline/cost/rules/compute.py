"""Compute that bills by the hour (RDS and EC2 instances) and the storage attached to it.

Only compute that can be stopped runs on a schedule; AWS cannot stop an RDS read replica, an
instance that has read replicas, or a SQL Server Multi-AZ instance, so those run every hour.
"""

from __future__ import annotations

from components.tags import SCHEDULE_TAG
from offline.cost.context import PricingContext, RuleError
from offline.cost.model import ComputeHours, LineItem, Pricing
from offline.mocks import RegisteredResource

# What the EC2 API gives a root volume when the instance does not say (the AMI may differ).
DEFAULT_ROOT_VOLUME_GB = 8
DEFAULT_VOLUME_TYPE = "gp3"


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
    if inputs.get("replicateSourceDb"):
        return _always_on(resource, context, kind, "read replica: RDS cannot stop it")
    if engine.startswith("sqlserver") and multi_az:
        return _always_on(resource, context, kind, "SQL Server Multi-AZ: RDS cannot stop it")
    if context.has_read_replicas(resource):
        return _always_on(resource, context, kind, "has read replicas: RDS cannot stop it")
    return _scheduled(resource, context, kind)


def ec2_compute_hours(resource: RegisteredResource, context: PricingContext) -> ComputeHours:
    return _scheduled(resource, context, f"EC2 {resource.inputs.get('instanceType')}")


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


def _scheduled(resource: RegisteredResource, context: PricingContext, kind: str) -> ComputeHours:
    """Hours on the schedule its `Schedule` tag names, if the stack's scheduler stops it."""
    name = (resource.inputs.get("tags") or {}).get(SCHEDULE_TAG)
    if name is None:
        return _always_on(resource, context, kind, f"no {SCHEDULE_TAG} tag: always on")
    schedule = context.settings.schedules.get(name)
    if schedule is None:
        return _always_on(
            resource, context, kind, f"schedule '{name}' is not in the stack config: always on"
        )
    if not context.settings.stops_compute:
        return _always_on(
            resource, context, kind, "no scheduler stops this stack's compute: always on"
        )
    always = context.period.hours_per_month
    return ComputeHours(
        resource.name, kind, context.running_hours(schedule), always, f"schedule '{name}'"
    )
