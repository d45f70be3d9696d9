"""The incoming sweeper: while the reporting database is up, a function sends files still in
`incoming/` after the loader's own retries back to the loader (README: operations). Files land
around the clock; the database runs only in working hours, and a reload is a no-op (ledger)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.lambda_function import FunctionSpec, LambdaFunction, LambdaFunctionArgs
from components.operations_policies import SweeperGrants, sweeper_policy
from components.scheduled_invocation import Invocation, invoke_on_schedule
from components.working_hours import (
    HOLIDAY_PACKAGES,
    WORKING_HOURS_PACKAGE,
    schedule_environment,
)
from functions.working_hours.working_time import Schedule
from stack_config import LoaderSettings

HANDLER = "functions.incoming_sweeper.handler.lambda_handler"
EXPRESSION = "rate(15 minutes)"
MAXIMUM_EVENT_AGE_SECONDS = 600


@dataclass(frozen=True)
class IncomingSweeperArgs:
    # Runtime, Powertools layer and log retention as the loader's.
    loader: LoaderSettings
    schedule: Schedule
    resource_prefix: str
    account_id: str
    bucket_name: pulumi.Input[str]
    bucket_arn: pulumi.Input[str]
    prefix: str
    loader_function_name: pulumi.Input[str]
    loader_function_arn: pulumi.Input[str]
    alert_topic_arn: pulumi.Input[str]
    operations_key_arn: pulumi.Input[str]
    tags: dict[str, str]


class IncomingSweeper(pulumi.ComponentResource):
    """The sweeper function and its schedule."""

    function_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: IncomingSweeperArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("reporting:operations:IncomingSweeper", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        function = LambdaFunction(
            f"{name}-fn",
            LambdaFunctionArgs(
                spec=FunctionSpec(
                    function_name=f"{args.resource_prefix}-incoming-sweeper",
                    description="Incoming sweeper (files the loader has not taken yet)",
                    handler=HANDLER,
                    packages=["functions.incoming_sweeper", WORKING_HOURS_PACKAGE],
                    vendored=HOLIDAY_PACKAGES,
                    environment={
                        "LANDING_BUCKET": args.bucket_name,
                        "LOADER_FUNCTION_NAME": args.loader_function_name,
                        "DATABASE_SCHEDULE": schedule_environment(args.schedule),
                        "POWERTOOLS_SERVICE_NAME": "incoming-sweeper",
                    },
                    policy=lambda logs, queue: pulumi.Output.all(
                        args.bucket_arn, args.loader_function_arn, args.operations_key_arn
                    ).apply(
                        lambda arns: sweeper_policy(
                            SweeperGrants(
                                bucket_arn=arns[0],
                                prefix=args.prefix,
                                loader_function_arn=arns[1],
                                failure_queue_arn=queue,
                                operations_key_arn=arns[2],
                                log_group_arn=logs,
                            )
                        )
                    ),
                ),
                account_id=args.account_id,
                architecture=args.loader.architecture,
                memory_mb=256,
                timeout_seconds=120,
                layer_arns=[args.loader.powertools_layer_arn],
                log_retention_days=args.loader.log_retention_days,
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
                schedule_name=f"{args.resource_prefix}-incoming-sweeper",
                expression=EXPRESSION,
                timezone="UTC",
                maximum_event_age_seconds=MAXIMUM_EVENT_AGE_SECONDS,
                account_id=args.account_id,
                queue_key_arn=args.operations_key_arn,
                tags=args.tags,
            ),
            parent=self,
        )
        self.function_name = function.function_name
        self.register_outputs({"function_name": self.function_name})
