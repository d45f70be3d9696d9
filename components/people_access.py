"""People's access to the reporting account: the report developers' right to forward ports
through the access host, and the office-only guard on every role and group of people."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.access_policies import (
    SessionGrants,
    deny_outside_office_policy,
    report_developer_policy,
)
from stack_config import AccessSettings


@dataclass(frozen=True)
class PeopleAccessArgs:
    settings: AccessSettings
    office_cidrs: list[str]
    resource_prefix: str
    region: str
    account_id: str
    access_host_arn: pulumi.Input[str]
    session_key_arn: pulumi.Input[str]
    tags: dict[str, str]


class PeopleAccess(pulumi.ComponentResource):
    """Two managed policies, attached to the existing roles and groups the config names."""

    office_only_policy_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: PeopleAccessArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("reporting:access:PeopleAccess", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        settings = args.settings
        office_only = aws.iam.Policy(
            f"{name}-office-only",
            name=f"{args.resource_prefix}-office-only",
            description="Denies every action made from outside the office ranges",
            policy=pulumi.Output.json_dumps(deny_outside_office_policy(args.office_cidrs)),
            tags=args.tags,
            opts=child,
        )
        for role in settings.office_only_roles:
            aws.iam.RolePolicyAttachment(
                f"{name}-office-only-{role}", role=role, policy_arn=office_only.arn, opts=child
            )
        for group in settings.office_only_groups:
            aws.iam.GroupPolicyAttachment(
                f"{name}-office-only-group-{group}",
                group=group,
                policy_arn=office_only.arn,
                opts=child,
            )
        developers = aws.iam.Policy(
            f"{name}-report-developers",
            name=f"{args.resource_prefix}-report-developer-sessions",
            description="Port forwarding to the reporting databases through the access host",
            policy=pulumi.Output.json_dumps(
                pulumi.Output.all(args.access_host_arn, args.session_key_arn).apply(
                    lambda arns: report_developer_policy(
                        SessionGrants(args.region, args.account_id, arns[0], arns[1])
                    )
                )
            ),
            tags=args.tags,
            opts=child,
        )
        for role in settings.report_developer_roles:
            aws.iam.RolePolicyAttachment(
                f"{name}-sessions-{role}", role=role, policy_arn=developers.arn, opts=child
            )
        self.office_only_policy_arn = office_only.arn
        self.register_outputs({"office_only_policy_arn": self.office_only_policy_arn})
