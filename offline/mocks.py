"""The mocks: record every registration, answer with plausible per-type outputs, serve other
stacks' outputs to StackReferences, and refuse any invoke the program should not make."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockMonitor

STACK_REFERENCE = "pulumi:pulumi:StackReference"
GET_PEERING_CONNECTION = "aws:ec2/getVpcPeeringConnection:getVpcPeeringConnection"
GET_TABLE = "aws:dynamodb/getTable:getTable"
GET_PARAMETER = "aws:ssm/getParameter:getParameter"
# AWS's own public parameters, the same in every account: the current Amazon Linux AMIs.
PUBLIC_AMI_PARAMETERS = "/aws/service/ami-amazon-linux-latest/"


class UnknownInvokeError(RuntimeError):
    """The program called a data source the mocks do not serve."""


class UndeployedStackError(RuntimeError):
    """The program referenced a stack whose outputs do not exist (yet)."""


@dataclass(frozen=True)
class RegisteredResource:
    """One resource registration, as the engine would have seen it."""

    urn: str
    id: str
    type: str
    name: str
    parent: str
    provider: str
    custom: bool
    inputs: dict[str, Any]
    outputs: dict[str, Any] = field(default_factory=dict)
    # "create" for a registration, "read" for an existing resource (a StackReference).
    operation: str = "create"
    # URNs this resource waits for: the resources of its inputs and its `depends_on`.
    depends_on: tuple[str, ...] = ()

    @property
    def provider_urn(self) -> str:
        """The URN of the explicit provider (a provider reference is `<urn>::<id>`)."""
        return self.provider.rsplit("::", 1)[0] if self.provider else ""


class RecordingMonitor(MockMonitor):
    """MockMonitor that keeps what MockResourceArgs leaves out: URN, parent, custom flag."""

    def __init__(self, mocks: PlatformMocks) -> None:
        super().__init__(mocks)
        self.registrations: list[RegisteredResource] = []

    def RegisterResource(self, request):  # noqa: N802 - the gRPC method name
        response = super().RegisterResource(request)
        self._record(
            request, response.urn, response.id, request.object, custom=bool(request.custom)
        )
        return response

    def ReadResource(self, request):  # noqa: N802 - the gRPC method name
        response = super().ReadResource(request)
        self._record(request, response.urn, request.id, request.properties, operation="read")
        return response

    def _record(
        self, request, urn: str, resource_id: str, properties, *, custom=True, operation="create"
    ) -> None:
        state = self.resources[urn].state if urn in self.resources else {}
        self.registrations.append(
            RegisteredResource(
                urn=urn,
                id=resource_id,
                type=request.type,
                name=request.name,
                parent=request.parent,
                provider=request.provider,
                custom=custom,
                inputs=rpc.deserialize_properties(properties),
                outputs=dict(state),
                operation=operation,
                depends_on=tuple(getattr(request, "dependencies", ())),
            )
        )


@dataclass(frozen=True)
class Invocation:
    """One data-source call the program made."""

    token: str
    args: dict[str, Any]
    provider: str


class PlatformMocks(pulumi.runtime.Mocks):
    """Outputs that look like AWS's, derived from the account of each resource's provider.

    `stack_outputs` answers StackReferences by stack name. The data sources served answer from
    what exists in AWS before the program runs: `peering_connections` (requested by other
    stacks, by id) and `dynamodb_tables` (the platforms' own tables, by `<account>/<name>`).
    """

    def __init__(
        self,
        stack_outputs: Mapping[str, Mapping[str, Any]],
        peering_connections: Mapping[str, Mapping[str, Any]] | None = None,
        dynamodb_tables: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        self._stack_outputs = stack_outputs
        self._peering_connections = peering_connections or {}
        self._dynamodb_tables = dynamodb_tables or {}
        self._providers: dict[str, dict[str, Any]] = {}
        self.invocations: list[Invocation] = []

    def call(self, args: pulumi.runtime.MockCallArgs):
        self.invocations.append(Invocation(args.token, dict(args.args), args.provider))
        if args.token == GET_PEERING_CONNECTION:
            found = self._peering_connections.get(args.args.get("id"))
            what = f"VPC peering connection {args.args.get('id')}"
        elif args.token == GET_PARAMETER:
            # Public parameters are the same in every account: only the region matters.
            _, region = self._account_of(args.provider)
            found = _public_ami_parameter(args.args.get("name", ""), region)
            what = f"SSM parameter {args.args.get('name')}"
        elif args.token == GET_TABLE:
            account, _ = self._account_of(args.provider)
            found = self._dynamodb_tables.get(f"{account}/{args.args.get('name')}")
            what = f"DynamoDB table {args.args.get('name')} in account {account}"
        else:
            raise UnknownInvokeError(
                f"the program invoked {args.token}; mocks serve only "
                f"{GET_PEERING_CONNECTION}, {GET_TABLE} and {GET_PARAMETER} (public AMIs)"
            )
        if found is None:
            raise UnknownInvokeError(f"no {what} exists in this run")
        return dict(found)

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        if args.typ == STACK_REFERENCE:
            return self._stack_reference(args)
        if args.typ.startswith("pulumi:providers:"):
            self._providers[args.name] = args.inputs
            return f"{args.name}-provider-id", dict(args.inputs)
        account, region = self._account_of(args.provider)
        return _computed(args.typ, args.name, dict(args.inputs), account, region)

    def _stack_reference(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        name = args.inputs.get("name", args.name)
        if name not in self._stack_outputs:
            raise UndeployedStackError(
                f"stack {name} has no outputs: it is not deployed in this run"
            )
        return name, {
            "name": name,
            "outputs": dict(self._stack_outputs[name]),
            "secretOutputNames": [],
        }

    def _account_of(self, provider_ref: str) -> tuple[str, str]:
        if not provider_ref:
            return "000000000000", "eu-west-2"
        provider_name = provider_ref.rsplit("::", 1)[0].rsplit("::", 1)[1]
        inputs = self._providers.get(provider_name, {})
        return provider_account(inputs) or "000000000000", inputs.get("region") or "eu-west-2"


def provider_account(inputs: Mapping[str, Any]) -> str | None:
    """The one account an AWS provider may touch (`allowedAccountIds`, JSON text or a list)."""
    allowed = inputs.get("allowedAccountIds")
    if isinstance(allowed, str):
        allowed = json.loads(allowed)
    return allowed[0] if allowed and len(allowed) == 1 else None


def _digest(*parts: str, length: int = 17) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


_ID_PREFIXES = {
    "aws:ec2/vpc:Vpc": "vpc",
    "aws:ec2/subnet:Subnet": "subnet",
    "aws:ec2/securityGroup:SecurityGroup": "sg",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "sg",
    "aws:ec2/routeTable:RouteTable": "rtb",
    "aws:ec2/routeTableAssociation:RouteTableAssociation": "rtbassoc",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "vpce",
    "aws:ec2/vpcPeeringConnection:VpcPeeringConnection": "pcx",
}


# Resources AWS identifies by name, and how their ARNs read.
_NAMED_ARNS = {
    "aws:iam/role:Role": "arn:aws:iam::{account}:role/{name}",
    "aws:iam/instanceProfile:InstanceProfile": "arn:aws:iam::{account}:instance-profile/{name}",
    "aws:lambda/function:Function": "arn:aws:lambda:{region}:{account}:function:{name}",
    "aws:cloudwatch/logGroup:LogGroup": "arn:aws:logs:{region}:{account}:log-group:{name}",
    "aws:sqs/queue:Queue": "arn:aws:sqs:{region}:{account}:{name}",
    "aws:sns/topic:Topic": "arn:aws:sns:{region}:{account}:{name}",
    "aws:kinesis/stream:Stream": "arn:aws:kinesis:{region}:{account}:stream/{name}",
    "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream": (
        "arn:aws:firehose:{region}:{account}:deliverystream/{name}"
    ),
}


def _computed(
    typ: str, name: str, inputs: dict[str, Any], account: str, region: str
) -> tuple[str, dict[str, Any]]:
    """A plausible id and state for `typ`; inputs pass through as AWS echoes them back."""
    token = _digest(account, typ, name)
    module, kind = typ.split(":")[1].split("/", 1)[0], typ.rsplit(":", 1)[1]
    state = dict(inputs)
    if typ == "aws:s3/bucket:Bucket":
        bucket = inputs.get("bucket") or f"{name}-{token[:8]}"
        return bucket, {**state, "bucket": bucket, "arn": f"arn:aws:s3:::{bucket}"}
    if typ == "random:index/randomPassword:RandomPassword":
        length = int(inputs.get("length", 16))
        return name, {**state, "result": (token * 8)[:length]}
    if typ == "aws:kms/key:Key":
        tail = _digest(token, length=12)
        key_id = f"{token[:8]}-{token[8:12]}-4{token[12:15]}-a{token[15:17]}0-{tail}"
        return key_id, {
            **state,
            "keyId": key_id,
            "arn": f"arn:aws:kms:{region}:{account}:key/{key_id}",
        }
    if typ == "aws:rds/instance:Instance":
        return _rds_instance(name, state, token, account, region)
    if typ in ("aws:rds/subnetGroup:SubnetGroup", "aws:rds/parameterGroup:ParameterGroup"):
        group = inputs.get("name") or f"{name}-{token[:7]}"
        return group, {
            **state,
            "name": group,
            "arn": f"arn:aws:rds:{region}:{account}:{kind.lower()}:{group}",
        }
    if typ == "aws:iam/policy:Policy":
        policy = inputs.get("name") or f"{name}-{token[:7]}"
        return policy, {**state, "name": policy, "arn": f"arn:aws:iam::{account}:policy/{policy}"}
    if typ in _NAMED_ARNS:
        resource_name = inputs.get("name") or f"{name}-{token[:7]}"
        arn = _NAMED_ARNS[typ].format(region=region, account=account, name=resource_name)
        extra = (
            {"url": f"https://sqs.{region}.amazonaws.com/{account}/{resource_name}"}
            if "sqs" in typ
            else {}
        )
        return arn if "sns" in typ else resource_name, {
            **state,
            "name": resource_name,
            "arn": arn,
            **extra,
        }
    if typ == "aws:ec2/vpcEndpoint:VpcEndpoint" and inputs.get("vpcEndpointType") == "Gateway":
        endpoint_id = f"vpce-{token}"
        return endpoint_id, {
            **state,
            "prefixListId": f"pl-{token[:8]}",
            "arn": f"arn:aws:ec2:{region}:{account}:vpc-endpoint/{endpoint_id}",
        }
    if typ == "aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter":
        # The accepter's id is the id of the connection it accepts.
        return inputs["vpcPeeringConnectionId"], {**state, "acceptStatus": "active"}
    resource_id = f"{_ID_PREFIXES[typ]}-{token}" if typ in _ID_PREFIXES else f"{name}-{token[:8]}"
    return resource_id, {
        **state,
        "arn": f"arn:aws:{module}:{region}:{account}:{kind.lower()}/{resource_id}",
    }


def _rds_instance(name: str, state: dict[str, Any], token: str, account: str, region: str):
    identifier = state.get("identifier") or f"{name}-{token[:7]}"
    port = state.get("port") or 1433
    address = f"{identifier}.c{token[:11]}.{region}.rds.amazonaws.com"
    outputs = {
        **state,
        "identifier": identifier,
        "address": address,
        "port": port,
        "endpoint": f"{address}:{port}",
        "arn": f"arn:aws:rds:{region}:{account}:db:{identifier}",
    }
    if state.get("manageMasterUserPassword"):
        outputs["masterUserSecrets"] = [
            {
                "secretArn": f"arn:aws:secretsmanager:{region}:{account}:secret:rds!db-{token}",
                "kmsKeyId": state.get("masterUserSecretKmsKeyId"),
                "secretStatus": "active",
            }
        ]
    return identifier, outputs


def _public_ami_parameter(name: str, region: str) -> dict[str, Any] | None:
    """A public AMI parameter as AWS answers it: a stable AMI id per region and name."""
    if not name.startswith(PUBLIC_AMI_PARAMETERS):
        return None
    digest = hashlib.sha256(f"{region}{name}".encode()).hexdigest()[:17]
    return {
        "name": name,
        "type": "String",
        "value": f"ami-{digest}",
        "arn": f"arn:aws:ssm:{region}::parameter{name}",
        "version": 1,
    }
