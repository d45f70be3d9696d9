"""RDS: encrypted with a customer managed key, backed up, never public; read replicas guarded
against promotion."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fnmatch import fnmatchcase
from typing import Any

from policy.rules.graph import GraphResource, StackViolation, by_parent, of_types
from policy.rules.values import as_list, document, is_set, is_unknown, shown, statements

RDS_INSTANCE = "aws:rds/instance:Instance"
IAM_POLICY = "aws:iam/policy:Policy"
ROLE_POLICY_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
# Attaches a managed policy to `roles` (and users, groups) at once.
POLICY_ATTACHMENT = "aws:iam/policyAttachment:PolicyAttachment"
ATTACHMENT_TYPES = (ROLE_POLICY_ATTACHMENT, POLICY_ATTACHMENT)
PROMOTE_ACTION = "rds:PromoteReadReplica"
# Key ids that name AWS managed keys (alias/aws/rds, ...): not a key the account controls.
AWS_MANAGED_KEY_MARKER = "alias/aws/"


def is_replica(props: Mapping[str, Any]) -> bool:
    """A read replica: `replicateSourceDb` names its source (unknown still means one is named)."""
    return is_set(props.get("replicateSourceDb"))


def customer_managed_key_problem(setting: str, key: Any) -> list[str]:
    """Why `key` (the value of `setting`) is not a customer managed key, if it is not."""
    if is_unknown(key):
        return []
    if not is_set(key):
        return [f"{setting} is not set: no customer managed key protects the data"]
    if isinstance(key, str) and AWS_MANAGED_KEY_MARKER in key:
        return [f"{setting} {key!r} is an AWS managed key, not a customer managed key"]
    return []


def rds_storage_encrypted_with_cmk(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """Primaries: `storageEncrypted` true with a CMK in `kmsKeyId`. A replica inherits its
    source's encryption (a same-region replica cannot differ), so it is not judged here."""
    if resource_type != RDS_INSTANCE or is_replica(props):
        return []
    encrypted = props.get("storageEncrypted")
    problems = []
    if not is_unknown(encrypted) and encrypted is not True:
        problems.append(
            "storageEncrypted is not true: the database's storage, snapshots and backups "
            "would be in clear"
        )
    return problems + customer_managed_key_problem("kmsKeyId", props.get("kmsKeyId"))


def rds_backups_enabled(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """Primaries keep at least a day of automated backups (`backupRetentionPeriod` >= 1).
    Replicas re-sync from their source and need none."""
    if resource_type != RDS_INSTANCE or is_replica(props):
        return []
    days = props.get("backupRetentionPeriod")
    if is_unknown(days):
        return []
    if isinstance(days, bool) or not isinstance(days, int | float) or days < 1:
        return [
            f"backupRetentionPeriod is {shown(days)}: a primary needs automated backups "
            "(at least 1 day)"
        ]
    return []


def rds_not_public(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """No instance, primary or replica, gets a public endpoint (the provider's default is
    private, so only an explicit true fails)."""
    if resource_type != RDS_INSTANCE:
        return []
    if props.get("publiclyAccessible") is True:
        return ["publiclyAccessible is true: the database would get an internet-facing address"]
    return []


def _promotion_denials(policy: GraphResource) -> list[Mapping[str, Any]] | None:
    """The policy's Deny statements naming `rds:PromoteReadReplica` (or a wildcard covering
    it); None if its document is unknown yet."""
    doc = document(policy.props.get("policy"))
    if is_unknown(doc):
        return None
    if doc is None:
        return []
    return [
        statement
        for statement in statements(doc)
        if statement.get("Effect") == "Deny"
        and any(
            isinstance(action, str) and fnmatchcase(PROMOTE_ACTION.lower(), action.lower())
            for action in as_list(statement.get("Action"))
        )
    ]


def _attaches(attachment: GraphResource, policy: GraphResource) -> bool:
    """Whether `attachment` attaches `policy` to a role. The two are linked by their ARNs when
    both are known (after `pulumi up`); before that, by parent alone."""
    roles = (
        attachment.props.get("role")
        if attachment.type == ROLE_POLICY_ATTACHMENT
        else attachment.props.get("roles")
    )
    if not is_set(roles):
        return False
    attached, arn = attachment.props.get("policyArn"), policy.props.get("arn")
    if isinstance(attached, str) and isinstance(arn, str):
        return attached == arn
    return True


def _names(denials: list[Mapping[str, Any]], replica_arn: str) -> bool:
    return any(
        isinstance(pattern, str) and fnmatchcase(replica_arn, pattern)
        for statement in denials
        for pattern in as_list(statement.get("Resource"))
    )


def _guard_problem(
    replica: GraphResource, guards: list[tuple[GraphResource, list[Mapping[str, Any]] | None]]
) -> str | None:
    """Why the attached guards (each with its denials, None if unknown) leave `replica`
    promotable; None if they cover it or cannot tell yet."""
    arn = replica.props.get("arn")
    if not isinstance(arn, str) or not arn:
        return None
    if any(denials is None or _names(denials, arn) for _, denials in guards):
        return None
    names = ", ".join(policy.name for policy, _ in guards)
    return f"no attached deny-promote policy ({names}) names its ARN {arn} in Resource"


def replicas_have_promote_guard(resources: Sequence[GraphResource]) -> list[StackViolation]:
    """Every read replica has a sibling IAM policy (same parent component) that denies
    `rds:PromoteReadReplica`, attached to a role by a sibling attachment (a stack file names at
    least one role in `promoteGuardRoles`), whose Deny names the replica's ARN once both are
    known: a promoted reporting replica would split from its source."""
    violations = []
    for siblings in by_parent(resources).values():
        replicas = [r for r in of_types(siblings, (RDS_INSTANCE,)) if is_replica(r.props)]
        if not replicas:
            continue
        policies = of_types(siblings, (IAM_POLICY,))
        attachments = of_types(siblings, ATTACHMENT_TYPES)
        guards = [(policy, _promotion_denials(policy)) for policy in policies]
        guards = [(policy, denials) for policy, denials in guards if denials is None or denials]
        attached = [
            (policy, denials)
            for policy, denials in guards
            if any(_attaches(attachment, policy) for attachment in attachments)
        ]
        if not policies:
            reason: str | None = "no sibling IAM policy under the same component"
        elif not guards:
            reason = "no sibling IAM policy has a Deny statement naming rds:PromoteReadReplica"
        elif not attached:
            reason = (
                f"the deny-promote policy ({', '.join(p.name for p, _ in guards)}) is attached "
                "to no role by a sibling role policy attachment: it guards nothing"
            )
        else:
            reason = None
        for replica in replicas:
            problem = reason or _guard_problem(replica, attached)
            if problem:
                violations.append(
                    StackViolation(replica.urn, f"read replica {replica.name}: {problem}")
                )
    return violations
