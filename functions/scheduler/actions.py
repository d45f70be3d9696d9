"""Carrying decisions out through the EC2 and RDS APIs: StartInstances, StopInstances,
CreateTags, StartDBInstance, StopDBInstance and AddTagsToResource, nothing else."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from functions.scheduler.decisions import Action
from functions.scheduler.inventory import Kind, Resource


@dataclass
class ResourceActions:
    """Starts, stops and tags instances with one EC2 and one RDS client."""

    ec2: Any
    rds: Any

    def apply(self, resource: Resource, action: Action) -> None:
        """Starts or stops `resource`; raises botocore's ClientError when AWS refuses."""
        if action not in (Action.START, Action.STOP):
            raise ValueError(f"{action} is not an action to apply")
        # One resource a call: a refused one (say an instance changing state) fails alone.
        if resource.kind is Kind.EC2:
            if action is Action.START:
                self.ec2.start_instances(InstanceIds=[resource.identifier])
            else:
                self.ec2.stop_instances(InstanceIds=[resource.identifier])
        elif action is Action.START:
            self.rds.start_db_instance(DBInstanceIdentifier=resource.identifier)
        else:
            self.rds.stop_db_instance(DBInstanceIdentifier=resource.identifier)

    def write_tags(self, resource: Resource, tags: Mapping[str, str]) -> None:
        """Adds or overwrites `tags` on `resource`, leaving its other tags alone."""
        tag_list = [{"Key": key, "Value": value} for key, value in tags.items()]
        if resource.kind is Kind.EC2:
            self.ec2.create_tags(Resources=[resource.tag_target], Tags=tag_list)
        else:
            self.rds.add_tags_to_resource(ResourceName=resource.tag_target, Tags=tag_list)
