"""The data freshness check: on a schedule in working hours, a function next to the reporting
database reads the load ledger and alerts (through the alert topic) when a dataset has had no
successful load for longer than its window, counted in the database schedule's working hours."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.lambda_function import (
    ODBC_LAYER_ENVIRONMENT,
    FunctionSpec,
    LambdaFunction,
    LambdaFunctionArgs,
)
from components.operations_policies import FreshnessGrants, freshness_policy
from components.scheduled_invocation import Invocation, invoke_on_schedule
from components.security_rules import HTTPS, tcp_rule
from components.working_hours import (
    HOLIDAY_PACKAGES,
    WORKING_HOURS_PACKAGE,
    schedule_environment,
)
from functions.working_hours.working_time import Schedule
from stack_config import FreshnessSettings, LoaderSettings

HANDLER = "functions.freshness.handler.lambda_handler"
# The check reads the ledger with the loader's connection code.
FRESHNESS_PACKAGES = [
    "functions.freshness",
    "functions.loader",
    "functions.catalog",
    WORKING_HOURS_PACKAGE,
]
# A missed check is not worth running late: the next one is within hours.
MAXIMUM_EVENT_AGE_SECONDS = 1800


@dataclass(frozen=True)
class FreshnessCheckArgs:
    settings: FreshnessSettings
    # Runtime, layers and log retention as the loader's (same drivers, same database).
    loader: LoaderSettings
    # `<platform>/<dataset>` -> working hours without a load before it is stale.
    windows: dict[str, int]
    schedule: Schedule
    resource_prefix: str
    account_id: str
    database_address: pulumi.Input[str]
    database_port: int
    database_secret_arn: pulumi.Input[str]
    database_key_arn: pulumi.Input[str]
    vpc_id: pulumi.Input[str]
    subnet_ids: list[pulumi.Input[str]]
    database_cidrs: list[str]
    endpoints_security_group_id: pulumi.Input[str]
    alert_topic_arn: pulumi.Input[str]
    operations_key_arn: pulumi.Input[str]
    code_assets: dict[str, pulumi.Asset]
    tags: dict[str, str]


class FreshnessCheck(pulumi.ComponentResource):
    """The check's function, its network and its schedule."""

    function_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: FreshnessCheckArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("reporting:operations:FreshnessCheck", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        loader = args.loader
        security_group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            description="Freshness check: the reporting database and AWS API endpoints only",
            vpc_id=args.vpc_id,
            ingress=[],
            egress=pulumi.Output.from_input(args.endpoints_security_group_id).apply(
                lambda endpoints: [
                    tcp_rule(
                        "Reporting database", args.database_port, cidr_blocks=args.database_cidrs
                    ),
                    tcp_rule(
                        "AWS APIs through the interface endpoints",
                        HTTPS,
                        security_groups=[endpoints],
                    ),
                ]
            ),
            tags={**args.tags, "Name": f"{name}-sg"},
            opts=child,
        )
        function = LambdaFunction(
            f"{name}-fn",
            LambdaFunctionArgs(
                spec=FunctionSpec(
                    function_name=f"{args.resource_prefix}-freshness",
                    description="Freshness check (datasets without a recent load)",
                    handler=HANDLER,
                    packages=FRESHNESS_PACKAGES,
                    vendored=HOLIDAY_PACKAGES,
                    environment={
                        "DATABASE_HOST": args.database_address,
                        "DATABASE_PORT": str(args.database_port),
                        "DATABASE_NAME": loader.database_name,
                        "DATABASE_SECRET_ARN": args.database_secret_arn,
                        "ALERT_TOPIC_ARN": args.alert_topic_arn,
                        "WINDOWS": json.dumps(args.windows, sort_keys=True),
                        "DATABASE_SCHEDULE": schedule_environment(args.schedule),
                        "POWERTOOLS_SERVICE_NAME": "freshness",
                        **ODBC_LAYER_ENVIRONMENT,
                    },
                    policy=lambda logs, queue: pulumi.Output.all(
                        args.database_secret_arn,
                        args.database_key_arn,
                        args.alert_topic_arn,
                        args.operations_key_arn,
                    ).apply(
                        lambda arns: freshness_policy(
                            FreshnessGrants(
                                database_secret_arn=arns[0],
                                database_key_arn=arns[1],
                                alert_topic_arn=arns[2],
                                failure_queue_arn=queue,
                                operations_key_arn=arns[3],
                                log_group_arn=logs,
                            )
                        )
                    ),
                    code_assets=args.code_assets,
                    vpc_config={
                        "subnet_ids": args.subnet_ids,
                        "security_group_ids": [security_group.id],
                    },
                ),
                account_id=args.account_id,
                architecture=loader.architecture,
                memory_mb=256,
                timeout_seconds=60,
                layer_arns=[loader.powertools_layer_arn, loader.odbc_layer_arn],
                log_retention_days=loader.log_retention_days,
                key_arn=args.operations_key_arn,
                alert_topic_arn=args.alert_topic_arn,
                tags=args.tags,
            ),
            opts=child,
        )
        invoke_on_schedule(
            name,
            function,
            Invocation(
                schedule_name=f"{args.resource_prefix}-freshness",
                expression=args.settings.expression,
                timezone=args.schedule.timezone,
                maximum_event_age_seconds=MAXIMUM_EVENT_AGE_SECONDS,
                account_id=args.account_id,
                queue_key_arn=args.operations_key_arn,
                tags=args.tags,
            ),
            parent=self,
        )
        self.function_name = function.function_name
        self.register_outputs({"function_name": self.function_name})


def freshness_windows(settings: FreshnessSettings, datasets: list[str]) -> dict[str, int]:
    """The window of every watched dataset: its override, else the default; 0 is not watched."""
    overrides = dict(settings.datasets)
    windows = {name: overrides.get(name, settings.window_hours) for name in datasets}
    return {name: hours for name, hours in sorted(windows.items()) if hours > 0}
