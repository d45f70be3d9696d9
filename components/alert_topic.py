"""The account's operational alert topic, encrypted with the operations key, TLS only."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.policy_documents import alert_topic_policy


@dataclass(frozen=True)
class AlertTopicArgs:
    account_id: str
    key_arn: pulumi.Input[str]
    tags: dict[str, str]
    # Addresses subscribed by email; each confirms through the link SNS sends it.
    emails: tuple[str, ...] = ()


class AlertTopic(pulumi.ComponentResource):
    """An SNS topic that this account's principals and CloudWatch alarms publish to, and the
    people subscribed to it by email."""

    arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: AlertTopicArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("reporting:operations:AlertTopic", name, None, opts)
        topic = aws.sns.Topic(
            f"{name}-topic",
            kms_master_key_id=args.key_arn,
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.sns.TopicPolicy(
            f"{name}-policy",
            arn=topic.arn,
            policy=pulumi.Output.json_dumps(
                topic.arn.apply(lambda arn: alert_topic_policy(arn, args.account_id))
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        for address in args.emails:
            aws.sns.TopicSubscription(
                # Named by the address, not its place in the list: removing one address must
                # not replace (and make re-confirm) the subscriptions after it.
                f"{name}-email-{address_digest(address)}",
                topic=topic.arn,
                protocol="email",
                endpoint=address,
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.arn = topic.arn
        self.register_outputs({"arn": self.arn})


def address_digest(address: str) -> str:
    """A short, stable name part for an email address (case-insensitive, as mail is)."""
    return hashlib.sha256(address.strip().lower().encode()).hexdigest()[:10]
