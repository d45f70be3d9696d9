"""Example 1: a file under `incoming/` in the landing bucket triggers the loader Lambda, which
loads it into its staging table and moves it to `archive/` (or `quarantine/`)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.alarms import Metric, metric_alarm
from components.lambda_function import (
    ODBC_LAYER_ENVIRONMENT,
    FunctionSpec,
    LambdaFunction,
    LambdaFunctionArgs,
)
from components.policy_documents import LoaderGrants, loader_policy
from components.s3_trigger import s3_trigger
from components.security_rules import app_tier_security_group
from components.working_hours import HOLIDAY_PACKAGES, WORKING_HOURS_PACKAGE
from stack_config import LoaderSettings

INCOMING_PREFIX = "incoming/"
ARCHIVE_PREFIX = "archive/"
QUARANTINE_PREFIX = "quarantine/"
HANDLER = "functions.loader.handler.lambda_handler"
# The handler's JSON log line for a load whose merge or prune failed (MERGE_FAILED_MESSAGE).
MERGE_FAILED_PATTERN = '{ $.level = "ERROR" && $.message = "landing object loaded, merge failed" }'
METRIC_NAMESPACE = "Reporting"
MERGE_FAILURES_METRIC = "LoaderMergeFailures"
# The function's own package and the shared code it imports.
LOADER_PACKAGES = ["functions.loader", "functions.catalog", WORKING_HOURS_PACKAGE]


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
    # The database's out-of-hours schedule (JSON): a failed connection while it is stopped
    # leaves the file for the incoming sweeper instead of failing.
    database_schedule: str


class LandingLoader(pulumi.ComponentResource):
    """The loader function (with its role, logs, failure queue and alarms), its network and its
    trigger."""

    function_arn: pulumi.Output[str]
    function_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: LandingLoaderArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("reporting:functions:LandingLoader", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        settings = args.settings
        security_group = app_tier_security_group(
            name,
            "Landing loader: database, S3 and AWS API endpoints only",
            vpc_id=args.vpc_id,
            database=(args.database_cidrs, args.database_port),
            s3_prefix_list_id=args.s3_prefix_list_id,
            endpoints_group_id=args.endpoints_security_group_id,
            tags=args.tags,
            opts=child,
        )
        function = LambdaFunction(
            f"{name}-fn",
            LambdaFunctionArgs(
                spec=FunctionSpec(
                    function_name=args.function_name,
                    description="Landing loader",
                    handler=HANDLER,
                    packages=LOADER_PACKAGES,
                    vendored=HOLIDAY_PACKAGES,
                    environment={
                        "LANDING_BUCKET": args.bucket_name,
                        "DATABASE_HOST": args.database_address,
                        "DATABASE_PORT": str(args.database_port),
                        "DATABASE_NAME": settings.database_name,
                        "DATABASE_SECRET_ARN": args.database_secret_arn,
                        "ALERT_TOPIC_ARN": args.alert_topic_arn,
                        "DATABASE_SCHEDULE": args.database_schedule,
                        "POWERTOOLS_SERVICE_NAME": "landing-loader",
                        **ODBC_LAYER_ENVIRONMENT,
                    },
                    policy=lambda logs, queue: pulumi.Output.all(
                        args.bucket_arn,
                        args.storage_key_arn,
                        args.database_secret_arn,
                        args.database_key_arn,
                        args.alert_topic_arn,
                        args.operations_key_arn,
                    ).apply(
                        lambda arns: loader_policy(
                            LoaderGrants(*arns, failure_queue_arn=queue, log_group_arn=logs),
                            INCOMING_PREFIX,
                            ARCHIVE_PREFIX,
                            QUARANTINE_PREFIX,
                        )
                    ),
                    code_assets=args.code_assets,
                    vpc_config={
                        "subnet_ids": args.subnet_ids,
                        "security_group_ids": [security_group.id],
                    },
                ),
                account_id=args.account_id,
                architecture=settings.architecture,
                memory_mb=settings.memory_mb,
                timeout_seconds=settings.timeout_seconds,
                layer_arns=[settings.powertools_layer_arn, settings.odbc_layer_arn],
                log_retention_days=settings.log_retention_days,
                key_arn=args.operations_key_arn,
                alert_topic_arn=args.alert_topic_arn,
                tags=args.tags,
                reserved_concurrency=settings.reserved_concurrency,
            ),
            opts=child,
        )
        # A failed merge leaves the load committed and the reporting table stale until the next
        # load's merge: the handler logs it (JSON, level ERROR), and this turns it into an alarm.
        aws.cloudwatch.LogMetricFilter(
            f"{name}-merge-failures",
            log_group_name=function.log_group_name,
            pattern=MERGE_FAILED_PATTERN,
            metric_transformation={
                "name": MERGE_FAILURES_METRIC,
                "namespace": METRIC_NAMESPACE,
                "value": "1",
                "default_value": "0",
            },
            opts=child,
        )
        metric_alarm(
            f"{name}-merge-failing",
            description="Landing loader merges fail: reporting tables are not kept current",
            metric=Metric(METRIC_NAMESPACE, MERGE_FAILURES_METRIC, "Sum", {}),
            topic_arn=args.alert_topic_arn,
            tags=args.tags,
            opts=child,
        )
        s3_trigger(
            name,
            function=function,
            bucket_name=args.bucket_name,
            bucket_arn=args.bucket_arn,
            account_id=args.account_id,
            prefixes=[INCOMING_PREFIX],
            parent=self,
        )
        self.function_arn = function.function_arn
        self.function_name = function.function_name
        self.register_outputs(
            {"function_arn": self.function_arn, "function_name": self.function_name}
        )
