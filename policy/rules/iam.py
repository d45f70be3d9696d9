"""IAM: no Allow of every action of a service, and `Resource: "*"` only for the few actions
tolerated there, never for data actions."""

from __future__ import annotations

import re
from collections.abc import Mapping
from fnmatch import fnmatchcase
from typing import Any

from policy.rules.encryption import KMS_KEY
from policy.rules.values import Document, as_list, document, is_unknown, label, statements

# Identity policies and where each keeps its document.
IDENTITY_POLICY_TYPES = {
    "aws:iam/policy:Policy": "policy",
    "aws:iam/rolePolicy:RolePolicy": "policy",
    "aws:iam/userPolicy:UserPolicy": "policy",
    "aws:iam/groupPolicy:GroupPolicy": "policy",
}
ROLE = "aws:iam/role:Role"
# Actions tolerated on "*". `ec2:Describe*` and `kinesis:ListStreams` have no resource-level
# permissions ("*" is the only Resource they accept): the scheduler lists instances, the stream
# writer's event source mapping lists streams. The network-interface actions do take resources
# (network interfaces, subnets, security groups), but Lambda creates and removes a function's
# interfaces itself, in subnets and groups it is handed (components/policy_documents.py
# RUN_INSIDE_THE_VPC); they are granted on "*" as AWS's AWSLambdaVPCAccessExecutionRole does,
# and they touch no data.
ACTIONS_TOLERATED_ON_ANY_RESOURCE = (
    "ec2:Describe*",
    "ec2:CreateNetworkInterface",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
    "kinesis:ListStreams",
)
# Actions that read or write data: named in a message as the worst case of a Resource "*".
DATA_ACTIONS = (
    "s3:*",
    "dynamodb:*",
    "kinesis:*",
    "firehose:*",
    "sqs:*",
    "sns:Publish",
    "secretsmanager:*",
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:GenerateDataKey*",
    "kms:ReEncrypt*",
    "lambda:InvokeFunction",
)
_SERVICE_WILDCARD = re.compile(r"[A-Za-z0-9-]+:\*")


def _matches(action: str, patterns: tuple[str, ...]) -> bool:
    """Whether `action` (itself possibly a pattern, e.g. ec2:Describe*) is covered by one of
    `patterns`; IAM action names are case-insensitive."""
    return any(fnmatchcase(action.lower(), pattern.lower()) for pattern in patterns)


def _touches_data(action: str) -> bool:
    """Whether `action` is a data action, or a wildcard that covers one (s3:Get*, *)."""
    return _matches(action, DATA_ACTIONS) or any(
        fnmatchcase(pattern.lower(), action.lower()) for pattern in DATA_ACTIONS
    )


def _documents(resource_type: str, props: Mapping[str, Any]) -> list[tuple[str, Document]]:
    """The known identity policy documents of a resource, each with how to name it."""
    found: list[tuple[str, Any]] = []
    if resource_type in IDENTITY_POLICY_TYPES:
        setting = IDENTITY_POLICY_TYPES[resource_type]
        found.append((setting, document(props.get(setting))))
    elif resource_type == ROLE and not is_unknown(props.get("inlinePolicies")):
        found += [
            (f"inline policy {policy.get('name')!r}", document(policy.get("policy")))
            for policy in as_list(props.get("inlinePolicies"))
            if isinstance(policy, Mapping)
        ]
    return [(where, doc) for where, doc in found if isinstance(doc, Mapping)]


def _allows(doc: Document) -> list[tuple[str, Mapping[str, Any]]]:
    return [
        (label(statement, index), statement)
        for index, statement in enumerate(statements(doc))
        if statement.get("Effect") == "Allow"
    ]


def _wildcard_action_problems(where: str, doc: Document) -> list[str]:
    problems = []
    for name, statement in _allows(doc):
        if "NotAction" in statement:
            problems.append(f"{where} {name}: Allow with NotAction allows every other action")
        problems += [
            f"{where} {name}: Allow of {action!r} grants every action of "
            f"{'every service' if action == '*' else action.split(':')[0]}"
            for action in as_list(statement.get("Action"))
            if isinstance(action, str) and (action == "*" or _SERVICE_WILDCARD.fullmatch(action))
        ]
    return problems


def iam_no_wildcard_actions(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """No Allow statement of `"Action": "*"`, `"<service>:*"` or NotAction, in an identity policy
    (managed, inline, role inline) or a KMS key policy."""
    if resource_type == KMS_KEY:
        doc = document(props.get("policy"))
        return _wildcard_action_problems("key policy", doc) if isinstance(doc, Mapping) else []
    return [
        problem
        for where, doc in _documents(resource_type, props)
        for problem in _wildcard_action_problems(where, doc)
    ]


def iam_no_wildcard_resources(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """An Allow on `"Resource": "*"` (or NotResource) names only actions tolerated there
    (`ACTIONS_TOLERATED_ON_ANY_RESOURCE`): never a data action. A KMS key policy is not judged:
    its "*" is the key itself."""
    problems = []
    for where, doc in _documents(resource_type, props):
        for name, statement in _allows(doc):
            if "NotResource" in statement:
                problems.append(
                    f"{where} {name}: Allow with NotResource applies to every other resource"
                )
            if "*" not in as_list(statement.get("Resource")):
                continue
            unscoped = [
                action
                for action in as_list(statement.get("Action"))
                if isinstance(action, str)
                and not _matches(action, ACTIONS_TOLERATED_ON_ANY_RESOURCE)
            ]
            data = [action for action in unscoped if _touches_data(action)]
            if unscoped:
                problems.append(
                    f"{where} {name}: Allow of {sorted(unscoped)} on Resource '*'"
                    + (f", data action(s) {sorted(data)} among them" if data else "")
                    + ": these actions can be scoped to resources"
                )
    return problems
