"""What each resource on a data path is called in the picture, and where it sits: a function in
the tier of its subnets, a database in the tier of its subnet group, a gateway endpoint in its
VPC, regional services (buckets, streams) in their account."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from offline.diagram.graph import EstateGraph, Located, slug, words
from offline.diagram.model import Kind, Service
from offline.diagram.network import Network

RDS_INSTANCE = "aws:rds/instance:Instance"
RDS_PARAMETER_GROUP = "aws:rds/parameterGroup:ParameterGroup"
RDS_SUBNET_GROUP = "aws:rds/subnetGroup:SubnetGroup"
FUNCTION = "aws:lambda/function:Function"
BUCKET = "aws:s3/bucket:Bucket"
KINESIS_STREAM = "aws:kinesis/stream:Stream"
DELIVERY_STREAM = "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream"
VPC_ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
SCHEDULE = "aws:scheduler/schedule:Schedule"


class Services:
    """The services met so far, by key; `of` describes a resource the first time it is met."""

    def __init__(self, graph: EstateGraph, network: Network, project: str) -> None:
        self.graph = graph
        self.network = network
        self.project = project
        self.by_key: dict[str, Service] = {}
        self._describers: dict[str, Callable[[Located, str], Service]] = {
            FUNCTION: self._function,
            RDS_INSTANCE: self._database,
            BUCKET: self._bucket,
            KINESIS_STREAM: self._stream,
            DELIVERY_STREAM: self._delivery_stream,
            VPC_ENDPOINT: self._endpoint,
        }

    def of(self, item: Located) -> str:
        """The key of `item`'s service."""
        key = slug(item.run.stack, item.resource.name)
        if key not in self.by_key:
            describe = self._describers.get(item.resource.type)
            if describe is None:
                raise ValueError(
                    f"{item.run.stack}: {item.resource.type} {item.resource.name} moves data "
                    "but has no place in the picture: describe it in offline/diagram/services.py"
                )
            self.by_key[key] = describe(item, key)
        return key

    def existing_database(self, arn: str, engine: str) -> str:
        """A platform's production database, known only by the ARN its replica names."""
        account, identifier = arn.split(":")[4], arn.rsplit(":", 1)[-1]
        key = slug("existing", account, identifier)
        self.by_key.setdefault(
            key,
            Service(
                key,
                Kind.SOURCE_DATABASE,
                identifier,
                f"{engine} · production",
                account,
                engine=engine,
                existing=True,
            ),
        )
        return key

    def existing_table(self, arn: str) -> str:
        """A platform's DynamoDB table, known only by the ARN its stream or destination names."""
        account, name = arn.split(":")[4], arn.rsplit("/", 1)[-1]
        key = slug("existing", account, name)
        self.by_key.setdefault(key, Service(key, Kind.TABLE, name, "", account, existing=True))
        return key

    def engine(self, db: Located) -> str:
        """A replica's engine is its parameter group's family (`postgres16`); RDS inherits the
        engine from the source, so the replica's own inputs do not name it."""
        group = self.graph.find(
            RDS_PARAMETER_GROUP, "name", db.inputs.get("parameterGroupName"), db.run
        )
        return group.inputs.get("family", "") if group else db.inputs.get("engine", "")

    def _function(self, item: Located, key: str) -> Service:
        subnet_ids = (item.inputs.get("vpcConfig") or {}).get("subnetIds") or []
        schedules = sorted(
            schedule.inputs["scheduleExpression"]
            for schedule in self.graph.of_type(SCHEDULE, item.run)
            if (schedule.inputs.get("target") or {}).get("arn") == item.outputs.get("arn")
        )
        return Service(
            key,
            Kind.FUNCTION,
            self._short(item, item.inputs["name"]),
            ", ".join(schedules),
            self.graph.account(item),
            *self._placed(subnet_ids),
        )

    def _database(self, item: Located, key: str) -> Service:
        inputs = item.inputs
        group = self.graph.find(RDS_SUBNET_GROUP, "name", inputs.get("dbSubnetGroupName"), item.run)
        component = next(iter(self.graph.ancestors(item)))
        if inputs.get("replicateSourceDb"):
            kind, engine = Kind.REPLICA, self.engine(item)
            title = f"{item.resource.name.removeprefix(f'{component.name}-')} replica"
        else:
            kind, title = Kind.DATABASE, words(component.type)
            engine = " ".join(filter(None, (inputs.get("engine"), inputs.get("engineVersion"))))
        return Service(
            key,
            kind,
            title,
            f"{engine} · {inputs.get('instanceClass', '')}",
            self.graph.account(item),
            *self._placed((group.inputs.get("subnetIds") or []) if group else []),
            engine=engine,
        )

    def _bucket(self, item: Located, key: str) -> Service:
        # Buckets are SecureBucket children: `reporting-landing` -> `landing bucket`.
        owner = next(iter(self.graph.ancestors(item))).name
        title = f"{owner.rsplit('-', 1)[-1]} bucket"
        return Service(key, Kind.BUCKET, title, "", self.graph.account(item))

    def _stream(self, item: Located, key: str) -> Service:
        mode = (item.inputs.get("streamModeDetails") or {}).get("streamMode", "")
        shards = whole(item.inputs.get("shardCount"))
        detail = "on demand" if mode == "ON_DEMAND" else f"{shards} shards"
        title = self._short(item, item.inputs["name"])
        return Service(key, Kind.STREAM, title, detail, self.graph.account(item))

    def _delivery_stream(self, item: Located, key: str) -> Service:
        s3 = item.inputs.get("extendedS3Configuration") or {}
        detail = (
            f"buffers {whole(s3.get('bufferingInterval'))} s / {whole(s3.get('bufferingSize'))} MB"
        )
        title = self._short(item, item.inputs["name"])
        return Service(key, Kind.DELIVERY_STREAM, title, detail, self.graph.account(item))

    def _endpoint(self, item: Located, key: str) -> Service:
        account = self.graph.account(item)
        service = item.inputs["serviceName"].rsplit(".", 1)[-1].upper()
        vpc = self.network.vpc_keys.get((account, item.inputs["vpcId"]))
        return Service(key, Kind.GATEWAY_ENDPOINT, f"{service} gateway endpoint", "", account, vpc)

    def _placed(self, subnet_ids: list[str]) -> tuple[str | None, str | None]:
        """(VPC key, tier key) of the first known subnet."""
        for subnet_id in subnet_ids:
            if subnet_id in self.network.subnet_tiers:
                return self.network.subnet_tiers[subnet_id]
        return None, None

    def _short(self, item: Located, name: str) -> str:
        """`reporting-dev-languages-stream-forwarder` -> `stream forwarder`: physical names are
        `<project>-<environment>[-<platform>]-<what>`."""
        short = name.removeprefix(f"{self.project}-{self.graph.environment}-")
        return short.removeprefix(f"{item.tags.get('Platform', '')}-").replace("-", " ")


def whole(value: Any) -> Any:
    """The engine carries numbers as doubles: 5432.0 -> 5432."""
    return int(value) if isinstance(value, float) and value.is_integer() else value
