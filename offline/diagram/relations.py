"""How data moves between the graph's resources, each link read from one resource's settings:

- a read replica's source (`replicateSourceDb`): replication;
- a function's environment naming a database's address: it reads a replica, or writes a database;
- a role policy granting a function `s3:PutObject`, `kinesis:PutRecord(s)` or
  `firehose:PutRecord(Batch)`, and a delivery stream's destination bucket: writes; an S3 write
  counts only under a prefix a bucket notification watches (the write that starts the next hop),
  and goes through the S3 gateway endpoint the function's security group reaches;
- bucket notifications, event source mappings, DynamoDB's Kinesis streaming destinations and
  a delivery stream's Kinesis source: triggers.

Writes into another account's bucket are `admitted` only when the bucket's policy allows the
writer's role. The platforms' own databases and tables, which no stack creates, are `existing`
services named by the ARNs that refer to them.
"""

from __future__ import annotations

import json
import posixpath
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from offline.diagram.graph import EstateGraph, Located
from offline.diagram.network import Network
from offline.diagram.services import (
    BUCKET,
    DELIVERY_STREAM,
    FUNCTION,
    RDS_INSTANCE,
    VPC_ENDPOINT,
    Services,
    whole,
)

EVENT_SOURCE_MAPPING = "aws:lambda/eventSourceMapping:EventSourceMapping"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
BUCKET_NOTIFICATION = "aws:s3/bucketNotification:BucketNotification"
STREAMING_DESTINATION = "aws:dynamodb/kinesisStreamingDestination:KinesisStreamingDestination"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"

# Grants that put data somewhere: the start of the next hop.
WRITE_ACTIONS = {
    "s3:PutObject",
    "kinesis:PutRecord",
    "kinesis:PutRecords",
    "firehose:PutRecord",
    "firehose:PutRecordBatch",
}


@dataclass(frozen=True)
class Link:
    """Data moves from `source` to `target` (service keys), as `defined_by` says."""

    source: str
    target: str
    label: str
    defined_by: Located
    admitted: bool = True


@dataclass(frozen=True)
class _S3Write:
    writer: Located
    bucket: Located
    prefixes: tuple[str, ...]


class Relations:
    """The services on data paths and the links between them, found in `graph`."""

    def __init__(self, graph: EstateGraph, network: Network, project: str) -> None:
        self.graph = graph
        self.network = network
        self.services = Services(graph, network, project)
        self.links: list[Link] = []

    def discover(self) -> list[Link]:
        self._replication()
        self._database_clients()
        writes = self._s3_writes()
        watched = self._watched_prefixes()
        self._bucket_writes(writes, watched)
        self._notifications(writes, watched)
        self._stream_writes()
        self._stream_triggers()
        return self.links

    # Links.

    def _link(self, source: str, target: str, label: str, by: Located, admitted=True) -> None:
        self.links.append(Link(source, target, label, by, admitted))

    def _replication(self) -> None:
        for replica in self.graph.of_type(RDS_INSTANCE):
            source_arn = replica.inputs.get("replicateSourceDb")
            if source_arn:
                source = self.services.existing_database(source_arn, self.services.engine(replica))
                self._link(source, self.services.of(replica), "replication", replica)

    def _database_clients(self) -> None:
        """A read replica can only be read: a function naming one reads it; a function naming
        any other database writes to it (functions off the data paths are dropped later)."""
        databases = {
            db.outputs["address"]: db
            for db in self.graph.of_type(RDS_INSTANCE)
            if "address" in db.outputs
        }
        for function in self.graph.of_type(FUNCTION):
            variables = (function.inputs.get("environment") or {}).get("variables") or {}
            named = [
                db
                for address, db in sorted(databases.items())
                if any(address in str(value) for value in variables.values())
            ]
            for db in named:
                port = whole(db.inputs.get("port"))
                if db.inputs.get("replicateSourceDb"):
                    source, target = self.services.of(db), self.services.of(function)
                    label = f"reads :{port}"
                else:
                    source, target = self.services.of(function), self.services.of(db)
                    label = f"writes :{port}"
                peering = self.network.peering_between(
                    self.services.by_key[source].vpc, self.services.by_key[target].vpc
                )
                self._link(source, target, label + (" over peering" if peering else ""), function)

    def _s3_writes(self) -> list[_S3Write]:
        writes = []
        for function in self.graph.of_type(FUNCTION):
            by_bucket: dict[str, list[str]] = defaultdict(list)
            for _, resource in self._granted_writes(function):
                if resource.startswith("arn:aws:s3:::") and "/" in resource:
                    bucket, key = resource.removeprefix("arn:aws:s3:::").split("/", 1)
                    by_bucket[bucket].append(key.rstrip("*"))
            for name, prefixes in sorted(by_bucket.items()):
                bucket = self.graph.find(BUCKET, "bucket", name)
                if bucket is not None:
                    writes.append(_S3Write(function, bucket, tuple(sorted(prefixes))))
        for delivery in self.graph.of_type(DELIVERY_STREAM):
            destination = delivery.inputs.get("extendedS3Configuration") or {}
            bucket = self.graph.by_arn(destination.get("bucketArn", ""))
            if bucket is not None:
                prefix = destination.get("prefix", "").split("!{", 1)[0]
                writes.append(_S3Write(delivery, bucket, (prefix,)))
        return writes

    def _watched_prefixes(self) -> dict[str, list[tuple[str, str]]]:
        """Bucket name -> (prefix, function ARN) of every notification on it."""
        watched: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for notification in self.graph.of_type(BUCKET_NOTIFICATION):
            for target in notification.inputs.get("lambdaFunctions") or []:
                watched[notification.inputs["bucket"]].append(
                    (target.get("filterPrefix", ""), target["lambdaFunctionArn"])
                )
        return watched

    def _bucket_writes(self, writes: list[_S3Write], watched: dict) -> None:
        for write in writes:
            prefixes = [
                prefix
                for prefix in write.prefixes
                if any(
                    prefix.startswith(w) for w, _ in watched.get(write.bucket.outputs["bucket"], [])
                )
            ]
            if not prefixes:
                continue
            label = f"writes {_common_folder(prefixes)}"
            writer, bucket = self.services.of(write.writer), self.services.of(write.bucket)
            admitted = self._admitted(write.writer, write.bucket)
            endpoint = self._gateway_endpoint(write.writer)
            if endpoint is None:
                self._link(writer, bucket, label, write.writer, admitted)
                continue
            through = self.services.of(endpoint)
            self._link(writer, through, "to S3", write.writer)
            self._link(through, bucket, label, write.writer, admitted)

    def _notifications(self, writes: list[_S3Write], watched: dict) -> None:
        written = defaultdict(set)
        for write in writes:
            written[write.bucket.outputs["bucket"]].update(write.prefixes)
        for notification in self.graph.of_type(BUCKET_NOTIFICATION):
            bucket_name = notification.inputs["bucket"]
            bucket = self.graph.find(BUCKET, "bucket", bucket_name)
            by_function: dict[str, list[str]] = defaultdict(list)
            for prefix, function_arn in watched[bucket_name]:
                if any(w.startswith(prefix) for w in written[bucket_name]):
                    by_function[function_arn].append(prefix)
            for function_arn, prefixes in sorted(by_function.items()):
                function = self.graph.by_arn(function_arn)
                if bucket is not None and function is not None:
                    label = "new object in " + ", ".join(sorted(prefixes))
                    self._link(
                        self.services.of(bucket), self.services.of(function), label, notification
                    )

    def _stream_writes(self) -> None:
        for function in self.graph.of_type(FUNCTION):
            targets: dict[str, list[str]] = defaultdict(list)
            for action, resource in self._granted_writes(function):
                if not resource.startswith("arn:aws:s3:::"):
                    targets[resource].append(action.split(":", 1)[1])
            for arn, actions in sorted(targets.items()):
                target = self.graph.by_arn(arn)
                if target is not None:
                    # The batch call names what the function does: PutRecords, PutRecordBatch.
                    label = max(actions, key=len)
                    self._link(
                        self.services.of(function), self.services.of(target), label, function
                    )

    def _stream_triggers(self) -> None:
        for mapping in self.graph.of_type(EVENT_SOURCE_MAPPING):
            source_arn = mapping.inputs["eventSourceArn"]
            function = self.graph.by_arn(mapping.inputs["functionName"])
            if function is None:
                continue
            if ":dynamodb:" in source_arn:
                source, label = (
                    self.services.existing_table(source_arn.split("/stream/", 1)[0]),
                    "stream records",
                )
            elif (stream := self.graph.by_arn(source_arn)) is not None:
                source, label = self.services.of(stream), "records"
            else:
                continue
            self._link(source, self.services.of(function), label, mapping)
        for destination in self.graph.of_type(STREAMING_DESTINATION):
            stream = self.graph.by_arn(destination.inputs["streamArn"])
            if stream is not None:
                table_arn = (
                    f"arn:aws:dynamodb:{self.graph.region(destination)}:"
                    f"{self.graph.account(destination)}:table/{destination.inputs['tableName']}"
                )
                self._link(
                    self.services.existing_table(table_arn),
                    self.services.of(stream),
                    "Kinesis streaming destination",
                    destination,
                )
        for delivery in self.graph.of_type(DELIVERY_STREAM):
            source = (delivery.inputs.get("kinesisSourceConfiguration") or {}).get(
                "kinesisStreamArn"
            )
            stream = self.graph.by_arn(source or "")
            if stream is not None:
                self._link(
                    self.services.of(stream), self.services.of(delivery), "records", delivery
                )

    # What the graph says about one resource.

    def _granted_writes(self, function: Located) -> list[tuple[str, str]]:
        """(action, resource ARN) of every write its role's inline policies allow."""
        role = self.graph.by_arn(function.inputs.get("role", ""))
        if role is None:
            return []
        granted = []
        for policy in self.graph.of_type(ROLE_POLICY, function.run):
            if policy.inputs.get("role") not in (role.resource.id, role.outputs.get("name")):
                continue
            for statement in _statements(policy.inputs.get("policy")):
                if statement.get("Effect") != "Allow":
                    continue
                actions = set(_listed(statement.get("Action"))) & WRITE_ACTIONS
                granted.extend(
                    (action, resource)
                    for action in sorted(actions)
                    for resource in _listed(statement.get("Resource"))
                )
        return granted

    def _gateway_endpoint(self, writer: Located) -> Located | None:
        """The S3 gateway endpoint whose prefix list the writer's security groups reach."""
        groups = (writer.inputs.get("vpcConfig") or {}).get("securityGroupIds") or []
        for group_id in groups:
            group = self.graph.find(SECURITY_GROUP, "id", group_id, writer.run)
            for rule in (group.inputs.get("egress") or []) if group else []:
                for prefix_list in rule.get("prefixListIds") or []:
                    endpoint = self.graph.find(VPC_ENDPOINT, "prefixListId", prefix_list)
                    if endpoint is not None:
                        return endpoint
        return None

    def _admitted(self, writer: Located, bucket: Located) -> bool:
        """Same account, or the bucket's policy allows the writer's role by name."""
        if self.graph.account(writer) == self.graph.account(bucket):
            return True
        role = writer.inputs.get("role", "")
        for policy in self.graph.of_type(BUCKET_POLICY, bucket.run):
            if policy.inputs.get("bucket") != bucket.outputs["bucket"]:
                continue
            for statement in _statements(policy.inputs.get("policy")):
                principal = statement.get("Principal")
                principals = _listed(principal.get("AWS")) if isinstance(principal, dict) else []
                if statement.get("Effect") == "Allow" and role in principals:
                    return True
        return False


def _common_folder(prefixes: list[str]) -> str:
    """`incoming/maths/staff/`, `incoming/reading/books/` -> `incoming/`."""
    common = posixpath.commonpath(prefixes)
    return f"{common}/" if common else "/"


def _statements(policy: Any) -> list[dict]:
    document = json.loads(policy) if isinstance(policy, str) else policy or {}
    return _listed(document.get("Statement"))


def _listed(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
