"""Example 1: a file under `incoming/` in the landing bucket triggers the loader Lambda, which
loads it into its staging table and moves it to `archive/` (or `quarantine/`)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.alarms import Metric, metric_alarm
from components.function_package import function_archive
from components.policy_documents import (
    LoaderGrants,
    lambda_trust_policy,
    loader_policy,
    tls_only_queue_policy,
)
from components.security_rules import loader_egress
from stack_config import LoaderSettings

INCOMING_PREFIX = "incoming/"
ARCHIVE_PREFIX = "archive/"
QUARANTINE_PREFIX = "quarantine/"
HANDLER = "functions.loader.handler.lambda_handler"
# The function's own package and the shared code it imports.
LOADER_PACKAGES = ["functions.loader", "functions.catalog"]
# Where the ODBC layer (docs/loader.md) puts the driver registry and the RDS CA bundle: layers
# unpack under /opt. ODBC Driver 18 verifies the server certificate with OpenSSL's default
# trust store, which does not hold the RDS certificate authorities.
ODBC_LAYER_ENVIRONMENT = {"ODBCSYSINI": "/opt/etc", "SSL_CERT_FILE": "/opt/etc/rds-ca-bundle.pem"}
RUNTIME = "python3.12"
# Lambda retries a failed asynchronous invocation (S3 notifications are asynchronous) up to
# twice, the most it allows; then the event goes to the failure queue.
ASYNC_RETRIES = 2
FAILURE_QUEUE_RETENTION_SECONDS = 14 * 24 * 3600


@dataclass(frozen=True)
class LandingLoaderArgs:
    function_name: str
    settings: LoaderSettings
    account_id: str
    bucket_name: pulumi.Input[str]
    bucket_arn: pulumi.Input[str]
    storage_key_arn: pulumi.Input[str]
    database_address: pulumi.Input[str]
    database_port: int
    database_secret_arn: pulumi.Input[str]
    database_key_arn: pulumi.Input[str]
    vpc_id: pulumi.Input[str]
    subnet_ids: list[pulumi.Input[str]]
    database_cidrs: list[str]
    s3_prefix_list_id: pulumi.Input[str]
    endpoints_security_group_id: pulumi.Input[str]
    alert_topic_arn: pulumi.Input[str]
    operations_key_arn: pulumi.Input[str]
    code_assets: dict[str, pulumi.Asset]
    tags: dict[str, str]


class LandingLoader(pulumi.ComponentResource):
    """The loader function, its role, network, logs, failure queue, trigger and alarms."""

    function_arn: pulumi.Output[str]
    failure_queue_url: pulumi.Output[str]

    def __init__(
        self, name: str, args: LandingLoaderArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("reporting:functions:LandingLoader", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        settings = args.settings
        security_group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            description="Landing loader: database, S3 and AWS API endpoints only",
            vpc_id=args.vpc_id,
            ingress=[],
            egress=pulumi.Output.all(
                args.s3_prefix_list_id, args.endpoints_security_group_id
            ).apply(
                lambda ids: loader_egress(args.database_cidrs, args.database_port, ids[0], ids[1])
            ),
            tags={**args.tags, "Name": f"{name}-sg"},
            opts=child,
        )
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=f"/aws/lambda/{args.function_name}",
            retention_in_days=settings.log_retention_days,
            kms_key_id=args.operations_key_arn,
            tags=args.tags,
            opts=child,
        )
        failure_queue = aws.sqs.Queue(
            f"{name}-failures",
            kms_master_key_id=args.operations_key_arn,
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
            assume_role_policy=pulumi.Output.json_dumps(lambda_trust_policy(args.account_id)),
            tags=args.tags,
            opts=child,
        )
        grants = pulumi.Output.all(
            args.bucket_arn,
            args.storage_key_arn,
            args.database_secret_arn,
            args.database_key_arn,
            args.alert_topic_arn,
            args.operations_key_arn,
            failure_queue.arn,
            log_group.arn,
        ).apply(lambda arns: LoaderGrants(*arns))
        role_policy = aws.iam.RolePolicy(
            f"{name}-policy",
            role=role.id,
            policy=pulumi.Output.json_dumps(
                grants.apply(
                    lambda g: loader_policy(g, INCOMING_PREFIX, ARCHIVE_PREFIX, QUARANTINE_PREFIX)
                )
            ),
            opts=child,
        )
        function = aws.lambda_.Function(
            f"{name}-function",
            name=args.function_name,
            role=role.arn,
            runtime=RUNTIME,
            handler=HANDLER,
            architectures=[settings.architecture],
            code=function_archive(LOADER_PACKAGES, args.code_assets),
            layers=[settings.powertools_layer_arn, settings.odbc_layer_arn],
            memory_size=settings.memory_mb,
            timeout=settings.timeout_seconds,
            reserved_concurrent_executions=settings.reserved_concurrency,
            vpc_config={"subnet_ids": args.subnet_ids, "security_group_ids": [security_group.id]},
            logging_config={"log_format": "JSON", "log_group": log_group.name},
            environment={
                "variables": {
                    "LANDING_BUCKET": args.bucket_name,
                    "DATABASE_HOST": args.database_address,
                    "DATABASE_PORT": str(args.database_port),
                    "DATABASE_NAME": settings.database_name,
                    "DATABASE_SECRET_ARN": args.database_secret_arn,
                    "ALERT_TOPIC_ARN": args.alert_topic_arn,
                    "POWERTOOLS_SERVICE_NAME": "landing-loader",
                    **ODBC_LAYER_ENVIRONMENT,
                }
            },
            tags=args.tags,
            # The role must grant logs and networking before the first invocation.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[role_policy]),
        )
        aws.lambda_.FunctionEventInvokeConfig(
            f"{name}-async",
            function_name=function.name,
            maximum_retry_attempts=ASYNC_RETRIES,
            destination_config={"on_failure": {"destination": failure_queue.arn}},
            opts=child,
        )
        permission = aws.lambda_.Permission(
            f"{name}-s3-invoke",
            action="lambda:InvokeFunction",
            function=function.name,
            principal="s3.amazonaws.com",
            source_arn=args.bucket_arn,
            source_account=args.account_id,
            opts=child,
        )
        aws.s3.BucketNotification(
            f"{name}-trigger",
            bucket=args.bucket_name,
            lambda_functions=[
                {
                    "lambda_function_arn": function.arn,
                    "events": ["s3:ObjectCreated:*"],
                    "filter_prefix": INCOMING_PREFIX,
                }
            ],
            # S3 validates the destination when the notification is saved: the permission first.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[permission]),
        )
        metric_alarm(
            f"{name}-errors",
            description="Landing loader invocations failed",
            metric=Metric("AWS/Lambda", "Errors", "Sum", {"FunctionName": function.name}),
            topic_arn=args.alert_topic_arn,
            tags=args.tags,
            opts=child,
        )
        metric_alarm(
            f"{name}-failures-queued",
            description="Landing loader events gave up and wait in the failure queue",
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
        self.function_arn = function.arn
        self.failure_queue_url = failure_queue.url
        self.register_outputs(
            {"function_arn": self.function_arn, "failure_queue_url": self.failure_queue_url}
        )
