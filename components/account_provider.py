"""The explicit AWS provider for the one account a stack deploys into."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.tags import SCHEDULER_TAG_PREFIX
from stack_config import Deployment


def account_provider(name: str, deployment: Deployment, parent: pulumi.Resource) -> aws.Provider:
    """Assume the deploy role, and refuse to touch any account but the configured one."""
    account = deployment.account
    return aws.Provider(
        name,
        region=account.region,
        allowed_account_ids=[account.account_id],
        assume_roles=[
            aws.ProviderAssumeRoleArgs(
                role_arn=account.deploy_role_arn,
                session_name=f"pulumi-{deployment.stack}",
            )
        ],
        # The scheduler records what it did in these tags on resources Pulumi manages; a
        # refresh must not plan them away (its record tells a person's start from its own).
        ignore_tags=aws.ProviderIgnoreTagsArgs(key_prefixes=[SCHEDULER_TAG_PREFIX]),
        opts=pulumi.ResourceOptions(parent=parent),
    )
