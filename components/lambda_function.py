"""A Lambda function with what every one of ours has: a role only Lambda can assume for this
account with one least-privilege policy, an encrypted log group, an encrypted TLS-only failure
queue, and alarms on its errors, its throttles and that queue.

The failure queue receives what the function gives up on: an event source mapping's on-failure
record (the shard and sequence range of a batch), an asynchronous event after its retries, or a
poison record the function parks there itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.alarms import Metric, metric_alarm
from components.function_package import function_archive
from components.policy_documents import Document, lambda_trust_policy, tls_only_queue_policy

RUNTIME = "python3.12"
# Where an ODBC layer (docs/loader.md) puts the driver registry and the RDS CA bundle: layers
# unpack under /opt. ODBC Driver 18 verifies the server certificate with OpenSSL's default
# trust store, which does not hold the RDS certificate authorities.
ODBC_LAYER_ENVIRONMENT = {"ODBCSYSINI": "/opt/etc", "SSL_CERT_FILE": "/opt/etc/rds-ca-bundle.pem"}
FAILURE_QUEUE_RETENTION_SECONDS = 14 * 24 * 3600


@dataclass(frozen=True)
class FunctionSpec:
    """What differs between the pipeline's functions."""

    function_name: str
    description: str
    handler: str
    packages: list[str]
    environment: dict[str, pulumi.Input[str]]
    # Builds the role policy from the log group's and the failure queue's ARNs.
    policy: Callable[[str, str], pulumi.Input[Document]]
    code_assets: dict[str, pulumi.Asset] = field(default_factory=dict)
    vpc_config: dict[str, pulumi.Input] | None = None
    # The function parks poison records in its failure queue itself (DEAD_LETTER_QUEUE_URL).
    parks_poison: bool = False
    # Third-party packages the runtime lacks, bundled from this environment (import name ->
    # distribution name); pure Python only.
    vendored: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LambdaFunctionArgs:
    spec: FunctionSpec
    account_id: str
    architecture: str
    memory_mb: int
    timeout_seconds: int
    layer_arns: list[str]
    log_retention_days: int
    # Encrypts the log group and the failure queue.
    key_arn: pulumi.Input[str]
    alert_topic_arn: pulumi.Input[str]
    tags: dict[str, str]
    reserved_concurrency: int | None = None


class LambdaFunction(pulumi.ComponentResource):
    """A Lambda function with least-privilege role, encrypted logs and failure queue, alarms."""

    function_name: pulumi.Output[str]
    function_arn: pulumi.Output[str]
    role_arn: pulumi.Output[str]
    failure_queue_arn: pulumi.Output[str]
    log_group_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: LambdaFunctionArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("reporting:functions:LambdaFunction", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        spec = args.spec
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=f"/aws/lambda/{spec.function_name}",
            retention_in_days=args.log_retention_days,
            kms_key_id=args.key_arn,
            tags=args.tags,
            opts=child,
        )
        failure_queue = aws.sqs.Queue(
            f"{name}-failures",
            kms_master_key_id=args.key_arn,
            message_retention_seconds=FAILURE_QUEUE_RETENTION_SECONDS,
            tags=args.tags,
            opts=child,
        )
        aws.sqs.QueuePolicy(
            f"{name}-failures-policy",
            queue_url=failure_queue.url,
            policy=pulumi.Output.json_dumps(failure_queue.arn.apply(tls_only_queue_policy)),
            opts=child,
        )
        role = aws.iam.Role(
            f"{name}-role",
            # Named after the function: other accounts' policies name a role by ARN, and a
            # replacement with the same name keeps matching them.
            name=spec.function_name,
            assume_role_policy=pulumi.Output.json_dumps(lambda_trust_policy(args.account_id)),
            tags=args.tags,
            opts=child,
        )
        role_policy = aws.iam.RolePolicy(
            f"{name}-policy",
            role=role.id,
            policy=pulumi.Output.json_dumps(
                pulumi.Output.all(log_group.arn, failure_queue.arn).apply(
                    lambda arns: spec.policy(arns[0], arns[1])
                )
            ),
            opts=child,
        )
        function = aws.lambda_.Function(
            f"{name}-function",
            name=spec.function_name,
            description=spec.description,
            role=role.arn,
            runtime=RUNTIME,
            handler=spec.handler,
            architectures=[args.architecture],
            code=function_archive(spec.packages, spec.code_assets, spec.vendored),
            layers=args.layer_arns,
            memory_size=args.memory_mb,
            timeout=args.timeout_seconds,
            reserved_concurrent_executions=args.reserved_concurrency,
            vpc_config=spec.vpc_config,
            logging_config={"log_format": "JSON", "log_group": log_group.name},
            environment={
                "variables": {
                    **spec.environment,
                    **({"DEAD_LETTER_QUEUE_URL": failure_queue.url} if spec.parks_poison else {}),
                }
            },
            tags=args.tags,
            # The role must grant logs (and networking) before the first invocation.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[role_policy]),
        )
        metric_alarm(
            f"{name}-errors",
            description=f"{spec.description}: invocations failed",
            metric=Metric("AWS/Lambda", "Errors", "Sum", {"FunctionName": function.name}),
            topic_arn=args.alert_topic_arn,
            tags=args.tags,
            opts=child,
        )
        metric_alarm(
            f"{name}-throttles",
            description=f"{spec.description}: invocations throttled for 15 minutes "
            "(concurrency exhausted)",
            metric=Metric("AWS/Lambda", "Throttles", "Sum", {"FunctionName": function.name}),
            topic_arn=args.alert_topic_arn,
            tags=args.tags,
            opts=child,
            # Asynchronous events are retried after a throttle (for up to six hours): a burst is
            # normal (the incoming sweeper's morning run); throttling that lasts is not.
            periods=3,
        )
        metric_alarm(
            f"{name}-failures-queued",
            description=f"{spec.description}: records gave up and wait in the failure queue",
            metric=Metric(
                "AWS/SQS",
                "ApproximateNumberOfMessagesVisible",
                "Maximum",
                {"QueueName": failure_queue.name},
            ),
            topic_arn=args.alert_topic_arn,
            tags=args.tags,
            opts=child,
        )
        self.function_name = function.name
        self.function_arn = function.arn
        self.role_arn = role.arn
        self.failure_queue_arn = failure_queue.arn
        self.log_group_name = log_group.name
        self.register_outputs(
            {
                "function_name": self.function_name,
                "function_arn": self.function_arn,
                "role_arn": self.role_arn,
                "failure_queue_arn": self.failure_queue_arn,
                "log_group_name": self.log_group_name,
            }
        )
