"""The out-of-hours scheduler: a function that, every few minutes, starts and stops this
account's EC2 and RDS instances by the schedule their `Schedule` tag names (README: operations).
Outside any VPC: it calls only the EC2 and RDS APIs."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.alarms import Metric, metric_alarm
from components.lambda_function import FunctionSpec, LambdaFunction, LambdaFunctionArgs
from components.operations_policies import SchedulerGrants, scheduler_policy
from components.scheduled_invocation import Invocation, invoke_on_schedule
from components.tags import SCHEDULE_TAG
from components.working_hours import (
    HOLIDAY_PACKAGES,
    WORKING_HOURS_PACKAGE,
    schedules_environment,
)
from functions.working_hours.working_time import Schedule
from stack_config import SchedulerSettings

HANDLER = "functions.scheduler.handler.lambda_handler"
# The run summary's metrics (Started, Stopped, Skipped, Errors), in embedded metric format.
METRICS_NAMESPACE = "ReportingPlatform/Scheduler"
# A run that could not start is not worth retrying: the next one is minutes away.
MAXIMUM_EVENT_AGE_SECONDS = 300


@dataclass(frozen=True)
class InstanceSchedulerArgs:
    settings: SchedulerSettings
    schedules: tuple[Schedule, ...]
    # Names the function and its schedule: reporting-<environment>[-<platform>]-scheduler.
    resource_prefix: str
    account_id: str
    region: str
    operations_key_arn: pulumi.Input[str]
    alert_topic_arn: pulumi.Input[str]
    tags: dict[str, str]


class InstanceScheduler(pulumi.ComponentResource):
    """The scheduler function and the schedule that runs it."""

    function_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: InstanceSchedulerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("reporting:operations:InstanceScheduler", name, None, opts)
        settings = args.settings
        function = LambdaFunction(
            f"{name}-fn",
            LambdaFunctionArgs(
                spec=FunctionSpec(
                    function_name=f"{args.resource_prefix}-scheduler",
                    description="Scheduler (stops and starts tagged compute out of hours)",
                    handler=HANDLER,
                    packages=["functions.scheduler", WORKING_HOURS_PACKAGE],
                    vendored=HOLIDAY_PACKAGES,
                    environment={
                        "SCHEDULES": schedules_environment(args.schedules),
                        "SCHEDULE_TAG": SCHEDULE_TAG,
                        "DRY_RUN": "true" if settings.dry_run else "false",
                        "POWERTOOLS_SERVICE_NAME": "scheduler",
                        "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
                    },
                    policy=lambda logs, queue: pulumi.Output.from_input(
                        args.operations_key_arn
                    ).apply(
                        lambda key: scheduler_policy(
                            SchedulerGrants(
                                account_id=args.account_id,
                                region=args.region,
                                schedule_tag=SCHEDULE_TAG,
                                failure_queue_arn=queue,
                                operations_key_arn=key,
                                log_group_arn=logs,
                            )
                        )
                    ),
                ),
                account_id=args.account_id,
                architecture=settings.architecture,
                memory_mb=settings.memory_mb,
                timeout_seconds=settings.timeout_seconds,
                layer_arns=[settings.powertools_layer_arn],
                log_retention_days=settings.log_retention_days,
                key_arn=args.operations_key_arn,
                alert_topic_arn=args.alert_topic_arn,
                tags=args.tags,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        invoke_on_schedule(
            name,
            function,
            Invocation(
                schedule_name=f"{args.resource_prefix}-scheduler",
                expression=settings.expression,
                timezone="UTC",
                maximum_event_age_seconds=MAXIMUM_EVENT_AGE_SECONDS,
                account_id=args.account_id,
                queue_key_arn=args.operations_key_arn,
                tags=args.tags,
            ),
            parent=self,
        )
        # The run summary publishes these for every schedule, zeros included.
        for schedule in args.schedules:
            metric_alarm(
                f"{name}-{schedule.name}-errors",
                description=f"Scheduler could not start, stop or tag some '{schedule.name}' "
                "compute (its logs say which)",
                metric=Metric(METRICS_NAMESPACE, "Errors", "Sum", {"Schedule": schedule.name}),
                topic_arn=args.alert_topic_arn,
                tags=args.tags,
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.function_name = function.function_name
        self.register_outputs({"function_name": self.function_name})
