"""S3: every bucket has, beside it under the same component, KMS default encryption with a
customer managed key, a public access block with all four flags, owner-enforced objects and a
policy that refuses plain HTTP."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from fnmatch import fnmatchcase
from typing import Any

from policy.rules.databases import customer_managed_key_problem
from policy.rules.graph import GraphResource, StackViolation, by_parent, of_types
from policy.rules.values import as_list, document, is_unknown, label, lookup, statements

# pulumi-aws 7 names the buckets `Bucket`; the V2 names are its deprecated aliases.
BUCKET_TYPES = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
ENCRYPTION_TYPES = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
)
PUBLIC_ACCESS_BLOCK_TYPES = ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",)
OWNERSHIP_TYPES = ("aws:s3/bucketOwnershipControls:BucketOwnershipControls",)
POLICY_TYPES = ("aws:s3/bucketPolicy:BucketPolicy",)
PUBLIC_ACCESS_FLAGS = (
    "blockPublicAcls",
    "blockPublicPolicy",
    "ignorePublicAcls",
    "restrictPublicBuckets",
)
KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")
BUCKET_OWNER_ENFORCED = "BucketOwnerEnforced"


def encryption_problems(props: Mapping[str, Any]) -> list[str]:
    """Default encryption is SSE-KMS (or DSSE-KMS) with a customer managed key."""
    rules = props.get("rules")
    if is_unknown(rules):
        return []
    for rule in as_list(rules):
        default = lookup(rule, "applyServerSideEncryptionByDefault")
        algorithm = lookup(default, "sseAlgorithm")
        if is_unknown(default) or is_unknown(algorithm):
            return []
        if algorithm in KMS_ALGORITHMS:
            return customer_managed_key_problem("kmsMasterKeyId", lookup(default, "kmsMasterKeyId"))
    return ["no rule sets sseAlgorithm aws:kms: objects would be encrypted with S3's own keys"]


def public_access_block_problems(props: Mapping[str, Any]) -> list[str]:
    """All four flags true: no public ACL or policy can be set, and none already set applies."""
    return [
        f"{flag} is not true"
        for flag in PUBLIC_ACCESS_FLAGS
        if not is_unknown(props.get(flag)) and props.get(flag) is not True
    ]


def ownership_problems(props: Mapping[str, Any]) -> list[str]:
    """Object ownership BucketOwnerEnforced: ACLs are off, the bucket's account owns every
    object (a cross-account writer cannot keep objects the bucket's key policy cannot reach)."""
    ownership = lookup(props, "rule", "objectOwnership")
    if is_unknown(ownership) or ownership == BUCKET_OWNER_ENFORCED:
        return []
    return [f"objectOwnership is {ownership!r}, not {BUCKET_OWNER_ENFORCED}"]


S3_ARN_PREFIX = "arn:aws:s3:::"


def _denies_insecure_transport(statement: Mapping[str, Any]) -> bool:
    principal = statement.get("Principal")
    secure_transport = lookup(statement, "Condition", "Bool", "aws:SecureTransport")
    return (
        statement.get("Effect") == "Deny"
        and principal in ("*", {"AWS": "*"})
        and any(action in ("*", "s3:*") for action in as_list(statement.get("Action")))
        and any(str(value).lower() == "false" for value in as_list(secure_transport))
    )


def _covers_bucket_and_objects(statement: Mapping[str, Any], bucket: str | None) -> bool:
    """Whether the statement's Resource covers a bucket and every object in it (`b` and `b/*`):
    `bucket` (its name) when known, else some bucket the Resource names (or, "*", every one)."""
    patterns = [r for r in as_list(statement.get("Resource")) if isinstance(r, str)]
    names = (
        [bucket]
        if bucket
        else [
            "*",
            *(
                pattern.removeprefix(S3_ARN_PREFIX)
                for pattern in patterns
                if pattern.startswith(S3_ARN_PREFIX) and "/" not in pattern
            ),
        ]
    )
    return any(
        any(fnmatchcase(f"{S3_ARN_PREFIX}{name}", pattern) for pattern in patterns)
        # `b/*` read as a name: only a pattern that covers every key matches it.
        and any(fnmatchcase(f"{S3_ARN_PREFIX}{name}/*", pattern) for pattern in patterns)
        for name in names
    )


def tls_only_problems(props: Mapping[str, Any]) -> list[str]:
    """The policy (of the bucket `bucket`, when known) has a statement denying every S3 action
    to everyone when `aws:SecureTransport` is false, on the bucket and all its objects."""
    doc = document(props.get("policy"))
    if is_unknown(doc):
        return []
    if doc is None:
        return ["the policy is missing or not valid JSON"]
    denials = [
        (index, statement)
        for index, statement in enumerate(statements(doc))
        if _denies_insecure_transport(statement)
    ]
    if not denials:
        return [
            "no statement denies s3:* to Principal '*' when aws:SecureTransport is false "
            f"(statements: {', '.join(label(s, i) for i, s in enumerate(statements(doc)))})"
        ]
    bucket = props.get("bucket")
    bucket = bucket if isinstance(bucket, str) and bucket else None
    if any(_covers_bucket_and_objects(statement, bucket) for _, statement in denials):
        return []
    return [
        f"{label(statement, index)} denies plain HTTP on {statement.get('Resource')!r}, which "
        f"does not cover both the bucket{f' {bucket}' if bucket else ''} and its objects "
        "(<bucket> and <bucket>/*)"
        for index, statement in denials
    ]


def bucket_policy_tls_only(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """A bucket policy refuses plain HTTP on its bucket and every object: judged on the policy
    itself, so a bad document stops `pulumi up` before the policy is created (a stack rule
    judges only after everything is provisioned)."""
    if resource_type not in POLICY_TYPES:
        return []
    return tls_only_problems(props)


# What each bucket needs beside it: (what, sibling types, the problems of one sibling).
_CONTROLS: tuple[tuple[str, Sequence[str], Callable[[Mapping[str, Any]], list[str]]], ...] = (
    ("KMS default encryption", ENCRYPTION_TYPES, encryption_problems),
    ("public access block", PUBLIC_ACCESS_BLOCK_TYPES, public_access_block_problems),
    ("ownership controls", OWNERSHIP_TYPES, ownership_problems),
    ("TLS-only bucket policy", POLICY_TYPES, tls_only_problems),
)


def _bucket_acl_problems(bucket: GraphResource) -> list[str]:
    acl = bucket.props.get("acl")
    if acl is None or is_unknown(acl) or acl == "private":
        return []
    return [f"acl is {acl!r}: the bucket itself grants access beyond its owner"]


def buckets_fully_protected(resources: Sequence[GraphResource]) -> list[StackViolation]:
    """Every bucket has sibling (same parent) encryption, public access block, ownership and
    policy resources that pass; N buckets under one component need N of each."""
    violations = []
    for siblings in by_parent(resources).values():
        buckets = of_types(siblings, BUCKET_TYPES)
        if not buckets:
            continue
        findings: list[str] = []
        for what, types, problems_of in _CONTROLS:
            controls = of_types(siblings, types)
            problems = {control.name: problems_of(control.props) for control in controls}
            passing = [name for name, found in problems.items() if not found]
            if len(passing) >= len(buckets):
                continue
            if not controls:
                findings.append(f"no sibling {what} under the same component")
            findings += [
                f"{what} {name}: {'; '.join(found)}" for name, found in problems.items() if found
            ]
            if controls and not any(problems.values()):
                findings.append(
                    f"{len(buckets)} buckets share a component but only {len(passing)} "
                    f"{what} resource(s) pass"
                )
        violations += [
            StackViolation(bucket.urn, f"bucket {bucket.name}: {finding}")
            for bucket in buckets
            for finding in [*_bucket_acl_problems(bucket), *findings]
        ]
    return violations
