"""Readable alert emails: a function subscribed to the account's alert topic that turns each
notification (a CloudWatch alarm's JSON, a freshness report) into a plain email sent through SES
from a verified identity. Outside any VPC: it calls only SES."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.lambda_function import FunctionSpec, LambdaFunction, LambdaFunctionArgs
from components.operations_policies import mailer_policy
from stack_config import AlertMail

HANDLER = "functions.alert_mailer.handler.lambda_handler"


@dataclass(frozen=True)
class AlertMailerArgs:
    mail: AlertMail
    resource_prefix: str
    account_id: str
    region: str
    topic_arn: pulumi.Input[str]
    operations_key_arn: pulumi.Input[str]
    tags: dict[str, str]


class AlertMailer(pulumi.ComponentResource):
    """The mailer function and its subscription to the alert topic."""

    function_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: AlertMailerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("reporting:operations:AlertMailer", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        mail = args.mail
        identities = ses_identity_arns(args.region, args.account_id, mail.sender)
        function = LambdaFunction(
            f"{name}-fn",
            LambdaFunctionArgs(
                spec=FunctionSpec(
                    function_name=f"{args.resource_prefix}-alert-mailer",
                    description="Alert mailer (readable alert emails through SES)",
                    handler=HANDLER,
                    packages=["functions.alert_mailer"],
                    environment={
                        "SENDER": mail.sender,
                        "RECIPIENTS": ",".join(mail.recipients),
                        "POWERTOOLS_SERVICE_NAME": "alert-mailer",
                    },
                    policy=lambda logs, queue: pulumi.Output.from_input(
                        args.operations_key_arn
                    ).apply(lambda key: mailer_policy(identities, queue, key, logs)),
                ),
                account_id=args.account_id,
                architecture="arm64",
                memory_mb=256,
                timeout_seconds=30,
                layer_arns=[mail.powertools_layer_arn],
                log_retention_days=mail.log_retention_days,
                key_arn=args.operations_key_arn,
                # Its own alarms go to the topic too: a broken mailer still reaches the SNS
                # email subscribers.
                alert_topic_arn=args.topic_arn,
                tags=args.tags,
            ),
            opts=child,
        )
        # SNS invokes asynchronously: a failed send is retried twice, then parked.
        aws.lambda_.FunctionEventInvokeConfig(
            f"{name}-async",
            function_name=function.function_name,
            maximum_retry_attempts=2,
            destination_config={"on_failure": {"destination": function.failure_queue_arn}},
            opts=child,
        )
        permission = aws.lambda_.Permission(
            f"{name}-from-topic",
            action="lambda:InvokeFunction",
            function=function.function_name,
            principal="sns.amazonaws.com",
            source_arn=args.topic_arn,
            source_account=args.account_id,
            opts=child,
        )
        aws.sns.TopicSubscription(
            f"{name}-subscription",
            topic=args.topic_arn,
            protocol="lambda",
            endpoint=function.function_arn,
            # SNS may invoke only once the permission exists.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[permission]),
        )
        self.function_name = function.function_name
        self.register_outputs({"function_name": self.function_name})


def ses_identity_arns(region: str, account_id: str, sender: str) -> list[str]:
    """The SES identities SES may authorize a send from `sender` against: the identity itself
    and, for an address, its domain (whichever of the two is verified)."""
    identities = [sender] if "@" not in sender else [sender, sender.split("@", 1)[1]]
    return [f"arn:aws:ses:{region}:{account_id}:identity/{name}" for name in identities]
