"""What every account runs to operate itself, hub or spoke: the out-of-hours scheduler and the
readable alert mails, each when its config asks for it."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.alert_mailer import AlertMailer, AlertMailerArgs
from components.instance_scheduler import InstanceScheduler, InstanceSchedulerArgs
from stack_config import Deployment, Operations


@dataclass(frozen=True)
class AccountOperationsArgs:
    operations: Operations
    deployment: Deployment
    # reporting-<environment>[-<platform>]: names the functions and schedules.
    resource_prefix: str
    alert_topic_arn: pulumi.Input[str]
    operations_key_arn: pulumi.Input[str]
    tags: dict[str, str]


def account_operations(
    name: str, args: AccountOperationsArgs, opts: pulumi.ResourceOptions
) -> None:
    """The scheduler and the mailer of one account, with `opts` (parent and provider)."""
    operations = args.operations
    account = args.deployment.account
    resource_prefix = args.resource_prefix
    alert_topic_arn = args.alert_topic_arn
    operations_key_arn = args.operations_key_arn
    tags = args.tags
    if operations.scheduler:
        InstanceScheduler(
            f"{name}-scheduler",
            InstanceSchedulerArgs(
                settings=operations.scheduler,
                schedules=operations.schedules,
                resource_prefix=resource_prefix,
                account_id=account.account_id,
                region=account.region,
                operations_key_arn=operations_key_arn,
                alert_topic_arn=alert_topic_arn,
                tags=tags,
            ),
            opts=opts,
        )
    if operations.alerts.mail:
        AlertMailer(
            f"{name}-mailer",
            AlertMailerArgs(
                mail=operations.alerts.mail,
                resource_prefix=resource_prefix,
                account_id=account.account_id,
                region=account.region,
                topic_arn=alert_topic_arn,
                operations_key_arn=operations_key_arn,
                tags=tags,
            ),
            opts=opts,
        )
