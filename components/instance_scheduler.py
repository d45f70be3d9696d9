"""The out-of-hours scheduler: a function that, every few minutes, starts and stops this
account's EC2 and RDS instances by the schedule their `Schedule` tag names (README: operations).
Outside any VPC: it calls only the EC2 and RDS APIs."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.lambda_function import FunctionSpec, LambdaFunction, LambdaFunctionArgs
from components.operations_policies import SchedulerGrants, scheduler_policy
from components.scheduled_invocation import Invocation, invoke_on_schedule
from components.tags import SCHEDULE_TAG
from functions.working_hours.working_time import Schedule, schedule_to_dict
from stack_config import SchedulerSettings

HANDLER = "functions.scheduler.handler.lambda_handler"
# The holidays library and what it imports; the Lambda runtime has none of them.
HOLIDAY_PACKAGES = {"holidays": "holidays", "dateutil": "python-dateutil", "six": "six"}
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
                    packages=["functions.scheduler", "functions.working_hours"],
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
        # The schedule is the retry: the next run compares every state again.
        aws.lambda_.FunctionEventInvokeConfig(
            f"{name}-async",
            function_name=function.function_name,
            maximum_retry_attempts=0,
            destination_config={"on_failure": {"destination": function.failure_queue_arn}},
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
        self.function_name = function.function_name
        self.register_outputs({"function_name": self.function_name})


def schedules_environment(schedules: tuple[Schedule, ...]) -> str:
    """The schedules as the function reads them: a JSON object by name."""
    return json.dumps({s.name: schedule_to_dict(s) for s in schedules}, sort_keys=True)


def schedule_environment(schedule: Schedule) -> str:
    """One schedule with its name, as the functions that follow the database's hours read it."""
    return json.dumps({"name": schedule.name, **schedule_to_dict(schedule)}, sort_keys=True)
