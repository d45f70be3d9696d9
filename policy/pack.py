"""The CrossGuard policies, one per rule of `policy.rules`, and the translation of what
CrossGuard hands a policy into what the rules take.

Kept apart from `__main__.py` because constructing a `PolicyPack` starts its gRPC server and
blocks: the tests build and call these policies without it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy import (
    Policy,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

from policy.rules import RESOURCE_RULES, STACK_RULES, GraphResource, ResourceRule, StackRule
from policy.rules.values import UNKNOWN

PACK_NAME = "reporting-platform-security"


def plain(value: Any) -> Any:
    """CrossGuard's properties as plain dicts and lists, each unknown value as `UNKNOWN`.

    CrossGuard wraps properties in proxies that raise `UnknownValueError` when a rule reads a
    value unknown during preview, and then skips the whole policy for that resource (for a
    stack policy: for the whole stack). Reading each value here, once, confines an unknown to
    the one setting it stands for.
    """
    if isinstance(value, Mapping):
        return {key: plain(_read(value, key)) for key in value}
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return [plain(_read(value, index)) for index in range(len(value))]
    return value


def _read(container: Any, key: Any) -> Any:
    try:
        return container[key]
    except UnknownValueError:
        return UNKNOWN


def graph_resource(resource: PolicyResource) -> GraphResource:
    """A stack policy's resource as the stack rules take it."""
    parent = resource.parent.urn if resource.parent is not None else resource.opts.parent
    return GraphResource(
        urn=resource.urn,
        type=resource.resource_type,
        name=resource.name,
        parent_urn=parent or "",
        props=plain(resource.props),
    )


def resource_policy(rule: ResourceRule) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        for violation in rule.check(args.resource_type, plain(args.props)):
            report(violation, None)

    return ResourceValidationPolicy(name=rule.name, description=rule.description, validate=validate)


def stack_policy(rule: StackRule) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        for violation in rule.check([graph_resource(r) for r in args.resources]):
            report(violation.message, violation.urn)

    return StackValidationPolicy(name=rule.name, description=rule.description, validate=validate)


def build_policies() -> list[Policy]:
    """Every rule of the registry as a policy, resource rules first."""
    return [
        *(resource_policy(rule) for rule in RESOURCE_RULES),
        *(stack_policy(rule) for rule in STACK_RULES),
    ]
