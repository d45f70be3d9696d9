"""What the demo creates and runs, read from the mocked runs of one environment's stacks: the
data-path resources of every account, each function with its handler and environment, the
triggers between them, the platforms' replicas and the report server's environment.

Nothing here is named by hand: names, accounts, environment variables and triggers are the ones
the real program registers from the real stack files, so the demo follows a changed stack file.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import yaml
from pulumi.runtime import rpc

from components.report_server_user_data import ENVIRONMENT_FILE
from functions.catalog import Catalog
from functions.catalog.reader import catalog_from_documents
from offline.engine import StackRun
from offline.estate import Estate
from offline.mocks import GET_TABLE, RegisteredResource, provider_account

BUCKET = "aws:s3/bucket:Bucket"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
ENCRYPTION = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
)
KEY = "aws:kms/key:Key"
TOPIC = "aws:sns/topic:Topic"
QUEUE = "aws:sqs/queue:Queue"
SECRET = "aws:secretsmanager/secret:Secret"
SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
KINESIS_STREAM = "aws:kinesis/stream:Stream"
DELIVERY_STREAM = "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream"
FUNCTION = "aws:lambda/function:Function"
BUCKET_NOTIFICATION = "aws:s3/bucketNotification:BucketNotification"
EVENT_SOURCE_MAPPING = "aws:lambda/eventSourceMapping:EventSourceMapping"
INSTANCE = "aws:ec2/instance:Instance"
INSTANCE_PROFILE = "aws:iam/instanceProfile:InstanceProfile"
# The package file every function reads its catalog from (functions/catalog/bundle.py).
CATALOG_ASSET = "catalog.json"
# The handlers of the data path, as the functions' `handler` names them.
LOADER = "functions.loader.handler.lambda_handler"
EXTRACTOR = "functions.extractor.handler.lambda_handler"


class BlueprintError(LookupError):
    """The estate lacks something the demo needs; the message says what."""


@dataclass(frozen=True)
class Bucket:
    name: str
    account: str
    versioned: bool
    # The default encryption's customer-managed key, as the program names it; None: S3's own.
    key_arn: str | None


@dataclass(frozen=True)
class Key:
    arn: str
    account: str
    # The Pulumi resource name, e.g. `reporting-storage-key`.
    label: str


@dataclass(frozen=True)
class Topic:
    name: str
    arn: str
    account: str


@dataclass(frozen=True)
class Queue:
    name: str
    arn: str
    url: str
    account: str


@dataclass(frozen=True)
class Secret:
    name: str
    arn: str
    account: str
    # The value the stack writes itself (a generated key); None: put by an operator.
    value: str | None


@dataclass(frozen=True)
class KinesisStream:
    name: str
    arn: str
    account: str
    shards: int | None


@dataclass(frozen=True)
class DeliveryStream:
    name: str
    account: str
    bucket_arn: str
    prefix: str
    role_arn: str


@dataclass(frozen=True)
class SourceTable:
    """A platform's existing DynamoDB table whose changes a stream function reads."""

    name: str
    arn: str
    account: str
    # `<platform>/<dataset>`: the dataset its changes belong to (the forwarder's routes).
    dataset: str


@dataclass(frozen=True)
class Function:
    name: str
    arn: str
    account: str
    role_arn: str
    # `module.attribute`, as Lambda takes it.
    handler: str
    environment: Mapping[str, str]
    timeout_seconds: int
    memory_mb: int
    # The catalog bundle in its package, when it has one.
    catalog: str | None


@dataclass(frozen=True)
class BucketTrigger:
    """An S3 notification: objects created under `prefix` invoke `function`."""

    bucket: str
    prefix: str
    function: str


@dataclass(frozen=True)
class StreamTrigger:
    """An event source mapping from a DynamoDB or Kinesis stream to `function`."""

    source_arn: str
    function: str
    batch_size: int
    maximum_retry_attempts: int
    failure_destination_arn: str | None


@dataclass(frozen=True)
class Replica:
    """A platform's read replica, as its stack exports it."""

    platform: str
    account: str
    name: str
    engine: str
    address: str
    port: int


@dataclass(frozen=True)
class ReportServer:
    account: str
    role_arn: str
    # The runner's environment file, as the server's user data writes it.
    environment: Mapping[str, str]


@dataclass(frozen=True)
class Blueprint:
    """Everything the demo takes from the estate."""

    environment: str
    region: str
    hub_account: str
    stacks: tuple[str, ...]
    buckets: tuple[Bucket, ...]
    keys: tuple[Key, ...]
    topics: tuple[Topic, ...]
    queues: tuple[Queue, ...]
    secrets: tuple[Secret, ...]
    kinesis_streams: tuple[KinesisStream, ...]
    delivery_streams: tuple[DeliveryStream, ...]
    source_tables: tuple[SourceTable, ...]
    functions: tuple[Function, ...]
    bucket_triggers: tuple[BucketTrigger, ...]
    stream_triggers: tuple[StreamTrigger, ...]
    replicas: tuple[Replica, ...]
    report_server: ReportServer

    @property
    def accounts(self) -> tuple[str, ...]:
        """Every account, the hub's first."""
        others = sorted({replica.account for replica in self.replicas} - {self.hub_account})
        return (self.hub_account, *others)

    def function(self, name: str) -> Function:
        """The function named `name`, or whose ARN it is."""
        return _only(self.functions, lambda f: name in (f.name, f.arn), name)

    def function_running(self, handler: str) -> Function:
        """The one function whose handler is `handler`."""
        return _only(
            self.functions, lambda f: f.handler == handler, f"a function running {handler}"
        )

    @cached_property
    def catalog(self) -> Catalog:
        """The dataset catalog as the landing loader's package carries it."""
        text = self.function_running(LOADER).catalog
        if text is None:
            raise BlueprintError(f"the landing loader's package has no {CATALOG_ASSET}")
        bundle = json.loads(text)
        return catalog_from_documents(
            {platform: (f"{CATALOG_ASSET}:{platform}", doc) for platform, doc in bundle.items()}
        )

    def queue(self, arn: str) -> Queue:
        """The queue whose ARN is `arn`."""
        return _only(self.queues, lambda q: q.arn == arn, arn)

    def bucket(self, name: str) -> Bucket:
        """The bucket named `name`."""
        return _only(self.buckets, lambda b: b.name == name, f"bucket {name}")


def blueprint_of(estate: Estate) -> Blueprint:
    """The blueprint of an environment's final runs (the hub with its platforms attached)."""
    runs = [estate.hub, *estate.spokes.values()]
    functions = tuple(_function(run, r) for run in runs for r in run.of_type(FUNCTION))
    return Blueprint(
        environment=estate.environment,
        region=estate.hub.exports["region"],
        hub_account=estate.hub.exports["accountId"],
        stacks=tuple(run.stack for run in runs),
        buckets=tuple(_bucket(run, r) for run in runs for r in run.of_type(BUCKET)),
        keys=tuple(
            Key(r.outputs["arn"], _account(run, r), r.name)
            for run in runs
            for r in run.of_type(KEY)
        ),
        topics=tuple(
            Topic(r.outputs["name"], r.outputs["arn"], _account(run, r))
            for run in runs
            for r in run.of_type(TOPIC)
        ),
        queues=tuple(
            Queue(r.outputs["name"], r.outputs["arn"], r.outputs["url"], _account(run, r))
            for run in runs
            for r in run.of_type(QUEUE)
        ),
        secrets=tuple(_secret(run, r) for run in runs for r in run.of_type(SECRET)),
        kinesis_streams=tuple(
            _kinesis_stream(run, r) for run in runs for r in run.of_type(KINESIS_STREAM)
        ),
        delivery_streams=tuple(
            _delivery_stream(run, r) for run in runs for r in run.of_type(DELIVERY_STREAM)
        ),
        source_tables=tuple(_source_tables(runs, functions)),
        functions=functions,
        bucket_triggers=tuple(
            BucketTrigger(
                r.inputs["bucket"], target.get("filterPrefix", ""), target["lambdaFunctionArn"]
            )
            for run in runs
            for r in run.of_type(BUCKET_NOTIFICATION)
            for target in r.inputs.get("lambdaFunctions", [])
        ),
        stream_triggers=tuple(
            _stream_trigger(r) for run in runs for r in run.of_type(EVENT_SOURCE_MAPPING)
        ),
        replicas=tuple(
            Replica(
                platform=run.exports["platform"],
                account=run.exports["accountId"],
                name=endpoint["name"],
                engine=endpoint["engine"],
                address=endpoint["address"],
                port=int(endpoint["port"]),
            )
            for run in estate.spokes.values()
            for endpoint in run.exports["replicaEndpoints"]
        ),
        report_server=_report_server(estate.hub),
    )


def _account(run: StackRun, resource: RegisteredResource) -> str:
    account = run.account_of(resource)
    if account is None:
        raise BlueprintError(f"{run.stack}: {resource.name} has no explicit provider")
    return account


def _bucket(run: StackRun, resource: RegisteredResource) -> Bucket:
    name = resource.outputs["bucket"]
    versioned = any(
        r.inputs.get("bucket") == name
        and r.inputs.get("versioningConfiguration", {}).get("status") == "Enabled"
        for r in run.of_type(VERSIONING)
    )
    key_arn = None
    for configuration in run.of_type(ENCRYPTION):
        if configuration.inputs.get("bucket") != name:
            continue
        for rule in configuration.inputs.get("rules", []):
            default = rule.get("applyServerSideEncryptionByDefault", {})
            key_arn = default.get("kmsMasterKeyId") or key_arn
    return Bucket(name, _account(run, resource), versioned, key_arn)


def _secret(run: StackRun, resource: RegisteredResource) -> Secret:
    value = None
    for version in run.of_type(SECRET_VERSION):
        if version.inputs.get("secretId") in (resource.id, resource.outputs.get("arn")):
            value = rpc.unwrap_rpc_secret(version.inputs.get("secretString"))
    return Secret(resource.inputs["name"], resource.outputs["arn"], _account(run, resource), value)


def _kinesis_stream(run: StackRun, resource: RegisteredResource) -> KinesisStream:
    shards = resource.inputs.get("shardCount")
    return KinesisStream(
        resource.outputs["name"],
        resource.outputs["arn"],
        _account(run, resource),
        int(shards) if shards else None,
    )


def _delivery_stream(run: StackRun, resource: RegisteredResource) -> DeliveryStream:
    destination = resource.inputs.get("extendedS3Configuration")
    if resource.inputs.get("destination") != "extended_s3" or not destination:
        raise BlueprintError(f"{resource.name}: the demo plays Firehose to S3 only")
    return DeliveryStream(
        name=resource.outputs["name"],
        account=_account(run, resource),
        bucket_arn=destination["bucketArn"],
        prefix=destination.get("prefix", ""),
        role_arn=destination["roleArn"],
    )


def _source_tables(runs: list[StackRun], functions: tuple[Function, ...]) -> list[SourceTable]:
    """The tables the program looked up (they exist before it runs), each with the dataset the
    forwarder of its account routes its changes to."""
    routes = {
        (function.account, table): route["dataset"]
        for function in functions
        for table, route in json.loads(function.environment.get("STREAM_ROUTES", "{}")).items()
    }
    tables = []
    for run in runs:
        for invocation in run.invocations:
            if invocation.token != GET_TABLE:
                continue
            account, region = _provider_of(run, invocation.provider)
            name = invocation.args["name"]
            if (account, name) not in routes:
                raise BlueprintError(
                    f"{run.stack}: table {name} has no stream forwarder; the demo plays the "
                    "`pipeline: lambda` chain only"
                )
            arn = f"arn:aws:dynamodb:{region}:{account}:table/{name}"
            tables.append(SourceTable(name, arn, account, routes[(account, name)]))
    return tables


def _provider_of(run: StackRun, provider_reference: str) -> tuple[str, str]:
    """The account and region of the provider a data source was read through."""
    provider = run.by_urn()[provider_reference.rsplit("::", 1)[0]]
    account = provider_account(provider.inputs)
    if account is None:
        raise BlueprintError(f"{run.stack}: a data source was read through a default provider")
    return account, provider.inputs["region"]


def _function(run: StackRun, resource: RegisteredResource) -> Function:
    code = resource.inputs.get("code")
    assets = getattr(code, "assets", {}) or {}
    catalog = assets.get(CATALOG_ASSET)
    return Function(
        name=resource.outputs["name"],
        arn=resource.outputs["arn"],
        account=_account(run, resource),
        role_arn=resource.inputs["role"],
        handler=resource.inputs["handler"],
        environment=dict(resource.inputs.get("environment", {}).get("variables", {})),
        timeout_seconds=int(resource.inputs.get("timeout", 3)),
        memory_mb=int(resource.inputs.get("memorySize", 128)),
        catalog=getattr(catalog, "text", None),
    )


def _stream_trigger(resource: RegisteredResource) -> StreamTrigger:
    on_failure = resource.inputs.get("destinationConfig", {}).get("onFailure", {})
    return StreamTrigger(
        source_arn=resource.inputs["eventSourceArn"],
        function=resource.inputs["functionName"],
        batch_size=int(resource.inputs.get("batchSize", 100)),
        maximum_retry_attempts=int(resource.inputs.get("maximumRetryAttempts", -1)),
        failure_destination_arn=on_failure.get("destinationArn"),
    )


def _report_server(hub: StackRun) -> ReportServer:
    """The instance whose user data writes the report runner's environment file."""
    for instance in hub.of_type(INSTANCE):
        environment = _runner_environment(instance.inputs.get("userData") or "")
        if environment is None:
            continue
        profile = _only(
            hub.of_type(INSTANCE_PROFILE),
            lambda p, name=instance.inputs["iamInstanceProfile"]: p.outputs["name"] == name,
            "the report server's instance profile",
        )
        account = _account(hub, instance)
        return ReportServer(
            account, f"arn:aws:iam::{account}:role/{profile.inputs['role']}", environment
        )
    raise BlueprintError(f"{hub.stack} has no report server (reporting:reports)")


def _runner_environment(user_data: str) -> dict[str, str] | None:
    if not user_data.startswith("#cloud-config"):
        return None
    for written in yaml.safe_load(user_data).get("write_files", []):
        if written.get("path") == ENVIRONMENT_FILE:
            environment = {}
            for line in written["content"].splitlines():
                name, _, quoted = line.partition("=")
                # One shell word each (components/report_server_user_data.environment_file).
                (environment[name],) = shlex.split(quoted)
            return environment
    return None


def _only(items: Any, matches: Any, what: str) -> Any:
    found = [item for item in items if matches(item)]
    if len(found) != 1:
        raise BlueprintError(f"expected one {what}, found {len(found)}")
    return found[0]
