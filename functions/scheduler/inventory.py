"""The account's scheduled compute: EC2 and RDS instances carrying the schedule tag, with the
facts a decision needs. Reads only (DescribeInstances, DescribeDBInstances and, for an instance
described without its tags, ListTagsForResource)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

# A terminated or terminating instance can never be started again: not listed.
EC2_LISTED_STATES = ("pending", "running", "stopping", "stopped")


class Kind(StrEnum):
    EC2 = "ec2"
    RDS = "rds"


@dataclass(frozen=True)
class Resource:
    """One scheduled instance as described a moment ago."""

    kind: Kind
    # The EC2 instance id or the DB instance identifier.
    identifier: str
    # What the tagging calls take: the instance id, or the DB instance's ARN.
    tag_target: str
    # The value of the schedule tag: the schedule's name, if the settings define one.
    schedule_name: str
    # EC2's instance state or RDS's DBInstanceStatus, as the API returns it.
    state: str
    tags: Mapping[str, str]
    # RDS only.
    engine: str = ""
    multi_az: bool = False
    cluster: str | None = None
    replica_of: str | None = None
    replicas: tuple[str, ...] = ()
    # `ddd:hh24:mi-ddd:hh24:mi`, UTC.
    maintenance_window: str | None = None


def scheduled_resources(ec2: Any, rds: Any, schedule_tag: str) -> list[Resource]:
    """Every EC2 and RDS instance of the client's account and region carrying `schedule_tag`,
    in a stable order."""
    resources = [*_ec2_instances(ec2, schedule_tag), *_db_instances(rds, schedule_tag)]
    return sorted(resources, key=lambda r: (r.kind, r.identifier))


def _ec2_instances(ec2: Any, schedule_tag: str) -> Iterator[Resource]:
    pages = ec2.get_paginator("describe_instances").paginate(
        Filters=[
            {"Name": "tag-key", "Values": [schedule_tag]},
            {"Name": "instance-state-name", "Values": list(EC2_LISTED_STATES)},
        ]
    )
    for page in pages:
        for reservation in page["Reservations"]:
            for instance in reservation["Instances"]:
                tags = _tags(instance.get("Tags", []))
                yield Resource(
                    kind=Kind.EC2,
                    identifier=instance["InstanceId"],
                    tag_target=instance["InstanceId"],
                    schedule_name=tags[schedule_tag],
                    state=instance["State"]["Name"],
                    tags=tags,
                )


def _db_instances(rds: Any, schedule_tag: str) -> Iterator[Resource]:
    # DescribeDBInstances cannot filter by tag: every instance is described and the untagged
    # ones dropped here.
    for page in rds.get_paginator("describe_db_instances").paginate():
        for db in page["DBInstances"]:
            arn = db["DBInstanceArn"]
            tag_list = (
                db["TagList"]
                if "TagList" in db
                else rds.list_tags_for_resource(ResourceName=arn)["TagList"]
            )
            tags = _tags(tag_list)
            if schedule_tag not in tags:
                continue
            yield Resource(
                kind=Kind.RDS,
                identifier=db["DBInstanceIdentifier"],
                tag_target=arn,
                schedule_name=tags[schedule_tag],
                state=db["DBInstanceStatus"],
                tags=tags,
                engine=db.get("Engine", ""),
                multi_az=bool(db.get("MultiAZ")),
                cluster=db.get("DBClusterIdentifier") or None,
                replica_of=db.get("ReadReplicaSourceDBInstanceIdentifier") or None,
                replicas=tuple(db.get("ReadReplicaDBInstanceIdentifiers") or ()),
                maintenance_window=db.get("PreferredMaintenanceWindow") or None,
            )


def _tags(tag_list: list[dict[str, str]]) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in tag_list}
