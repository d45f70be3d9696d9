"""A customer-managed KMS key, rotated yearly, with the key policy its caller builds."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.policy_documents import Document

# Long enough to notice and cancel a mistaken deletion; AWS allows 7-30 days.
_DELETION_WINDOW_DAYS = 30


@dataclass(frozen=True)
class ServiceKeyArgs:
    purpose: str
    policy: pulumi.Input[Document]
    tags: dict[str, str]


class ServiceKey(pulumi.ComponentResource):
    """A KMS key and its alias `alias/<name>`."""

    arn: pulumi.Output[str]
    key_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: ServiceKeyArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("reporting:security:ServiceKey", name, None, opts)
        key = aws.kms.Key(
            f"{name}-key",
            description=args.purpose,
            enable_key_rotation=True,
            deletion_window_in_days=_DELETION_WINDOW_DAYS,
            policy=pulumi.Output.json_dumps(args.policy),
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.kms.Alias(
            f"{name}-alias",
            name=f"alias/{name}",
            target_key_id=key.key_id,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.arn = key.arn
        self.key_id = key.key_id
        self.register_outputs({"arn": self.arn, "key_id": self.key_id})
