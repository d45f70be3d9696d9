"""Run a function on an EventBridge Scheduler schedule: a role that may invoke only it, retries
within an age limit, and undeliverable runs parked in the function's failure queue.

Resources are children of the caller's component (not a component of their own), so a function
moved onto this helper keeps its resources' names.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.lambda_function import LambdaFunction
from components.policy_documents import Document, policy_document, service_trust_policy


@dataclass(frozen=True)
class Invocation:
    # The schedule's name in EventBridge Scheduler (unique per account and group).
    schedule_name: str
    # rate(...) or cron(...); cron fields are read in `timezone`.
    expression: str
    timezone: str
    # A missed run is not retried after this long: the next one does the same work.
    maximum_event_age_seconds: int
    account_id: str
    # Encrypts the failure queue.
    queue_key_arn: pulumi.Input[str]
    tags: dict[str, str]


def invoke_on_schedule(
    name: str, function: LambdaFunction, invocation: Invocation, parent: pulumi.Resource
) -> aws.scheduler.Schedule:
    """The schedule `{name}-schedule` with its role, and the function's asynchronous settings
    (`{name}-async`), children of `parent`."""
    child = pulumi.ResourceOptions(parent=parent)
    # The schedule is the retry: an asynchronous retry would do the run again (and overlap the
    # next one); a run that fails is recorded in the failure queue instead.
    aws.lambda_.FunctionEventInvokeConfig(
        f"{name}-async",
        function_name=function.function_name,
        maximum_retry_attempts=0,
        destination_config={"on_failure": {"destination": function.failure_queue_arn}},
        opts=child,
    )
    role = aws.iam.Role(
        f"{name}-schedule-role",
        assume_role_policy=pulumi.Output.json_dumps(
            service_trust_policy("scheduler", invocation.account_id)
        ),
        tags=invocation.tags,
        opts=child,
    )
    role_policy = aws.iam.RolePolicy(
        f"{name}-schedule-policy",
        role=role.id,
        policy=pulumi.Output.json_dumps(
            pulumi.Output.all(
                function.function_arn, function.failure_queue_arn, invocation.queue_key_arn
            ).apply(lambda arns: scheduled_invocation_policy(*arns))
        ),
        opts=child,
    )
    return aws.scheduler.Schedule(
        f"{name}-schedule",
        name=invocation.schedule_name,
        schedule_expression=invocation.expression,
        schedule_expression_timezone=invocation.timezone,
        flexible_time_window={"mode": "OFF"},
        target={
            "arn": function.function_arn,
            "role_arn": role.arn,
            "input": json.dumps({"source": "schedule"}),
            "retry_policy": {
                "maximum_event_age_in_seconds": invocation.maximum_event_age_seconds,
                "maximum_retry_attempts": 2,
            },
            "dead_letter_config": {"arn": function.failure_queue_arn},
        },
        # The role must allow the invocation before the first one.
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[role_policy]),
    )


def scheduled_invocation_policy(function_arn: str, queue_arn: str, queue_key_arn: str) -> Document:
    """Invoke the one function; park an invocation it could not deliver in its failure queue."""
    return policy_document(
        {
            "Sid": "InvokeTheFunction",
            "Effect": "Allow",
            "Action": "lambda:InvokeFunction",
            "Resource": function_arn,
        },
        {
            "Sid": "DeadLetterUndeliveredRuns",
            "Effect": "Allow",
            "Action": "sqs:SendMessage",
            "Resource": queue_arn,
        },
        {
            "Sid": "EncryptIntoTheQueue",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": queue_key_arn,
        },
    )
