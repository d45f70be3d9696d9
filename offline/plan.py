"""`make plan STACK=<name>`: the resource tree a stack would create, from a mocked run of its
real stack file, as `pulumi preview` lists it. Sorted and deterministic, for pull requests."""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from typing import Any

from offline.engine import StackRun
from offline.estate import environment_of, run_environment, spoke_stacks
from offline.mocks import RegisteredResource, provider_account
from offline.stack_files import stack_names

# The inputs a reviewer checks first, per resource type.
KEY_SETTINGS: dict[str, tuple[str, ...]] = {
    "pulumi:providers:aws": ("region", "allowedAccountIds"),
    "aws:ec2/vpc:Vpc": ("cidrBlock",),
    "aws:ec2/subnet:Subnet": ("cidrBlock", "availabilityZone", "mapPublicIpOnLaunch"),
    "aws:ec2/route:Route": ("destinationCidrBlock",),
    "aws:ec2/securityGroup:SecurityGroup": ("ingress", "egress"),
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": ("ingress", "egress"),
    "aws:ec2/vpcEndpoint:VpcEndpoint": ("serviceName", "vpcEndpointType"),
    "aws:ec2/vpcPeeringConnection:VpcPeeringConnection": (
        "peerOwnerId",
        "peerRegion",
        "autoAccept",
    ),
    "aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter": ("autoAccept", "accepter"),
    "aws:ec2/peeringConnectionOptions:PeeringConnectionOptions": ("requester",),
    "aws:ec2/instance:Instance": (
        "instanceType",
        "associatePublicIpAddress",
        "metadataOptions",
        "rootBlockDevice",
        "userDataReplaceOnChange",
    ),
    "aws:kms/key:Key": ("enableKeyRotation", "deletionWindowInDays"),
    "aws:kms/alias:Alias": ("name",),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        "rules",
    ),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": (
        "blockPublicAcls",
        "blockPublicPolicy",
        "ignorePublicAcls",
        "restrictPublicBuckets",
    ),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": ("rule",),
    "aws:s3/bucketVersioning:BucketVersioning": ("versioningConfiguration",),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": ("rules",),
    "aws:s3/bucketObjectv2:BucketObjectv2": ("key", "serverSideEncryption"),
    "aws:rds/instance:Instance": (
        "engine",
        "engineVersion",
        "replicateSourceDb",
        "instanceClass",
        "multiAz",
        "storageEncrypted",
        "publiclyAccessible",
        "deletionProtection",
        "manageMasterUserPassword",
    ),
    "aws:rds/parameterGroup:ParameterGroup": ("family", "parameters"),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": ("role",),
    "aws:lambda/function:Function": (
        "name",
        "runtime",
        "architectures",
        "memorySize",
        "timeout",
        "reservedConcurrentExecutions",
    ),
    "aws:s3/bucketNotification:BucketNotification": ("lambdaFunctions",),
    "aws:cloudwatch/logGroup:LogGroup": ("name", "retentionInDays"),
    "aws:cloudwatch/metricAlarm:MetricAlarm": ("namespace", "metricName", "threshold"),
    "aws:lambda/permission:Permission": ("principal",),
}


def render(run: StackRun) -> str:
    """The tree of `run`, children sorted by type then name, with account and key settings."""
    children: dict[str, list[RegisteredResource]] = defaultdict(list)
    for resource in run.resources:
        children[resource.parent].append(resource)
    lines = [f"Plan for stack {run.stack} (mocked run of Pulumi.{run.stack}.yaml)"]

    def walk(parent: str, depth: int) -> None:
        for resource in sorted(children[parent], key=lambda r: (r.type, r.name)):
            marker = ">" if resource.operation == "read" else "+"
            heading = f"{'    ' * depth}{marker} {resource.type}  {resource.name}"
            lines.append(heading + _details(run, resource))
            walk(resource.urn, depth + 1)

    walk("", 0)
    lines.append("Outputs:")
    lines.extend(
        f"    {name}: {json.dumps(run.exports[name], sort_keys=True)}"
        for name in sorted(run.exports)
    )
    created = [resource for resource in run.resources if resource.operation == "create"]
    reads = len(run.resources) - len(created)
    lines.append(f"Resources: {len(created)} to create, {reads} to read")
    return "\n".join(lines)


def _details(run: StackRun, resource: RegisteredResource) -> str:
    parts = []
    if resource.type == "pulumi:providers:aws":
        parts.append(f"account={provider_account(resource.inputs)}")
    elif resource.type.startswith("aws:"):
        parts.append(f"account={run.account_of(resource) or 'DEFAULT-PROVIDER'}")
    for key in KEY_SETTINGS.get(resource.type, ()):
        if key in resource.inputs and key != "allowedAccountIds":
            parts.append(f"{key}={_compact(resource.inputs[key])}")
    return "  " + " ".join(parts) if parts else ""


def _compact(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(_whole_numbers(value), sort_keys=True, separators=(",", ":"))


def _whole_numbers(value: Any) -> Any:
    """The engine carries every number as a double; show ports and days as integers."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_whole_numbers(item) for item in value]
    if isinstance(value, dict):
        return {key: _whole_numbers(item) for key, item in value.items()}
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("stacks", nargs="*", help="stack names (default: every stack file)")
    parser.add_argument(
        "--environment", help="every stack of one environment: its hub, then its spokes"
    )
    args = parser.parse_args(argv)
    stacks = args.stacks or stack_names()
    if args.environment:
        stacks = [args.environment, *spoke_stacks(args.environment)]
    unknown = sorted(set(stacks) - set(stack_names()))
    if unknown:
        parser.error(f"no stack file for {', '.join(unknown)} (have: {', '.join(stack_names())})")
    estates = {}
    for stack in stacks:
        environment = environment_of(stack)
        if environment not in estates:
            estates[environment] = run_environment(environment)
        print(render(estates[environment].run_of(stack)))
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
