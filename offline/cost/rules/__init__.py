"""Pricing rules by Pulumi resource type, and the types that have no charge of their own.

A type in neither table is reported as "not priced: may cost money", never dropped.
"""

from __future__ import annotations

from collections.abc import Callable

from offline.cost.context import ComputeRule, PricingContext
from offline.cost.model import Pricing
from offline.cost.rules import (
    compute,
    functions,
    messaging,
    monitoring,
    network_security,
    storage,
)
from offline.mocks import RegisteredResource

Rule = Callable[[RegisteredResource, PricingContext], Pricing]

RULES: dict[str, Rule] = {
    "aws:rds/instance:Instance": compute.rds_instance,
    "aws:ec2/instance:Instance": compute.ec2_instance,
    "aws:ebs/volume:Volume": compute.ebs_volume,
    "aws:lambda/function:Function": functions.lambda_function,
    "aws:scheduler/schedule:Schedule": functions.scheduler_schedule,
    "aws:s3/bucket:Bucket": storage.s3_bucket,
    "aws:s3/bucketV2:BucketV2": storage.s3_bucket,
    "aws:cloudwatch/logGroup:LogGroup": storage.log_group,
    "aws:cloudwatch/metricAlarm:MetricAlarm": monitoring.metric_alarm,
    "aws:cloudwatch/logMetricFilter:LogMetricFilter": monitoring.log_metric_filter,
    "aws:sqs/queue:Queue": messaging.sqs_queue,
    "aws:sns/topic:Topic": messaging.sns_topic,
    "aws:sns/topicSubscription:TopicSubscription": messaging.sns_subscription,
    "aws:kinesis/stream:Stream": messaging.kinesis_stream,
    "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream": (
        messaging.firehose_delivery_stream
    ),
    "aws:ec2/vpcEndpoint:VpcEndpoint": network_security.vpc_endpoint,
    "aws:kms/key:Key": network_security.kms_key,
    "aws:secretsmanager/secret:Secret": network_security.secret,
}

# Compute billed by the hour: what `compute hours off` is measured over.
COMPUTE_RULES: dict[str, ComputeRule] = {
    "aws:rds/instance:Instance": compute.rds_compute_hours,
    "aws:ec2/instance:Instance": compute.ec2_compute_hours,
}

# Prices the rules need whatever the graph holds (instance classes and the like vary).
FIXED_PRICES = (
    "rds/storage-gb-month/gp3",
    "secretsmanager/secret-month",
    "secretsmanager/api-calls",
    "lambda/requests",
    "lambda/gb-second/x86_64",
    "lambda/gb-second/arm64",
    "scheduler/invocations",
    "s3/standard-gb-month",
    "s3/put-requests",
    "s3/get-requests",
    "logs/ingested",
    "logs/stored",
    "cloudwatch/alarm-metric-month",
    "cloudwatch/custom-metric-month",
    "sqs/standard-requests",
    "sns/publishes",
    "kinesis/on-demand-stream-hour",
    "kinesis/on-demand-ingested",
    "kinesis/on-demand-retrieved",
    "kinesis/shard-hour",
    "kinesis/put-payload-units",
    "firehose/ingested",
    "vpc/interface-endpoint-hour",
    "vpc/interface-endpoint-data",
    "kms/key-month",
    "kms/requests",
)

# Types that cost nothing by themselves (what flows through them is priced elsewhere).
FREE_TYPES: dict[str, str] = {
    "aws:ec2/vpc:Vpc": "VPC: no charge",
    "aws:ec2/subnet:Subnet": "no charge",
    "aws:ec2/routeTable:RouteTable": "no charge",
    "aws:ec2/routeTableAssociation:RouteTableAssociation": "no charge",
    "aws:ec2/route:Route": "no charge",
    "aws:ec2/securityGroup:SecurityGroup": "no charge",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "no charge",
    "aws:ec2/securityGroupRule:SecurityGroupRule": "no charge",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "no charge",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "no charge",
    "aws:ec2/vpcPeeringConnection:VpcPeeringConnection": (
        "no hourly charge (cross-AZ data transfer is not estimated)"
    ),
    "aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter": "no charge",
    "aws:ec2/peeringConnectionOptions:PeeringConnectionOptions": "no charge",
    "aws:kms/alias:Alias": "no charge",
    "aws:ec2/internetGateway:InternetGateway": "no charge (data transfer out is not estimated)",
    "aws:ec2/keyPair:KeyPair": "no charge",
    "aws:ssm/document:Document": "no charge (Session Manager has none)",
    "aws:s3/bucketVersioning:BucketVersioning": "no charge (versions are in GB stored)",
    "aws:s3/bucketVersioningV2:BucketVersioningV2": "no charge (versions are in GB stored)",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        "no charge (KMS requests are priced on the key)"
    ),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": "no charge",
    "aws:s3/bucketPolicy:BucketPolicy": "no charge",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": "no charge",
    "aws:s3/bucketNotification:BucketNotification": "no charge",
    "aws:s3/bucketObjectv2:BucketObjectv2": "no charge of its own (GB stored on the bucket)",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": (
        "no charge for expiry (no transitions are configured)"
    ),
    "aws:rds/subnetGroup:SubnetGroup": "no charge",
    "aws:rds/parameterGroup:ParameterGroup": "no charge",
    "aws:lambda/permission:Permission": "no charge",
    "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig": "no charge",
    "aws:lambda/eventSourceMapping:EventSourceMapping": (
        "no charge for stream and queue polling (invocations are priced on the function)"
    ),
    "aws:cloudwatch/logStream:LogStream": "no charge",
    "aws:sqs/queuePolicy:QueuePolicy": "no charge",
    "aws:sns/topicPolicy:TopicPolicy": "no charge",
    "aws:secretsmanager/secretVersion:SecretVersion": "no charge (priced on the secret)",
    "aws:scheduler/scheduleGroup:ScheduleGroup": "no charge",
}
# Whole families with no charge: IAM, and resources Pulumi computes locally.
FREE_PREFIXES: dict[str, str] = {
    "aws:iam/": "IAM: no charge",
    "random:": "computed by Pulumi: no AWS resource",
}


def free_reason(typ: str) -> str | None:
    """Why a resource of `typ` costs nothing, or None if it may cost something."""
    if typ in FREE_TYPES:
        return FREE_TYPES[typ]
    return next((why for prefix, why in FREE_PREFIXES.items() if typ.startswith(prefix)), None)
