"""An S3 bucket's new objects under some prefixes invoke a function: asynchronously, retried,
and sent to the function's failure queue when the retries run out."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.lambda_function import LambdaFunction

# Lambda retries a failed asynchronous invocation (S3 notifications are asynchronous) up to
# twice, the most it allows; then the event goes to the failure queue.
ASYNC_RETRIES = 2


def s3_trigger(
    name: str,
    *,
    function: LambdaFunction,
    bucket_name: pulumi.Input[str],
    bucket_arn: pulumi.Input[str],
    account_id: str,
    prefixes: list[str],
    parent: pulumi.Resource,
) -> None:
    """The permission, the notification (one per prefix) and the asynchronous retry policy."""
    child = pulumi.ResourceOptions(parent=parent)
    invoke_config = aws.lambda_.FunctionEventInvokeConfig(
        f"{name}-async",
        function_name=function.function_name,
        maximum_retry_attempts=ASYNC_RETRIES,
        destination_config={"on_failure": {"destination": function.failure_queue_arn}},
        opts=child,
    )
    permission = aws.lambda_.Permission(
        f"{name}-s3-invoke",
        action="lambda:InvokeFunction",
        function=function.function_name,
        principal="s3.amazonaws.com",
        source_arn=bucket_arn,
        source_account=account_id,
        opts=child,
    )
    aws.s3.BucketNotification(
        f"{name}-trigger",
        bucket=bucket_name,
        lambda_functions=[
            {
                "lambda_function_arn": function.function_arn,
                "events": ["s3:ObjectCreated:*"],
                "filter_prefix": prefix,
            }
            for prefix in prefixes
        ],
        # S3 validates the destination when the notification is saved: the permission first;
        # and no event may arrive before its failures have somewhere to go.
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[permission, invoke_config]),
    )
