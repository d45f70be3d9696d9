"""What every Lambda function of every stack shares (components/lambda_function.py), and the
prefixes the infrastructure and the functions must agree on."""

from __future__ import annotations

import json

from components.change_delivery import SOURCE_PREFIXES
from components.landing_loader import INCOMING_PREFIX
from functions.cross_account_copier import routing
from functions.loader.layout import INCOMING
from offline.engine import StackRun

LAMBDA_FUNCTION = "reporting:functions:LambdaFunction"


def _children(run: StackRun, component, typ: str) -> list:
    return [r for r in run.of_type(typ) if r.parent == component.urn]


def test_each_function_can_encrypt_into_its_own_failure_queue(stack_run: StackRun):
    # Lambda sends what a function gives up on with the function's own role: without the
    # queue key, the failure record (or parked poison record) would be lost.
    components = stack_run.of_type(LAMBDA_FUNCTION)
    for component in components:
        (queue,) = _children(stack_run, component, "aws:sqs/queue:Queue")
        (policy,) = _children(stack_run, component, "aws:iam/rolePolicy:RolePolicy")
        statements = json.loads(policy.inputs["policy"])["Statement"]
        key = queue.inputs["kmsMasterKeyId"]
        assert any(
            s["Effect"] == "Allow" and "kms:GenerateDataKey" in s["Action"] and s["Resource"] == key
            for s in statements
        ), component.name
        assert any(
            s["Action"] == "sqs:SendMessage" or "sqs:SendMessage" in s["Action"]
            for s in statements
            if queue.outputs["arn"]
            in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])
        ), component.name


def test_each_function_role_is_named_after_its_function(stack_run: StackRun):
    for component in stack_run.of_type(LAMBDA_FUNCTION):
        (role,) = _children(stack_run, component, "aws:iam/role:Role")
        (function,) = _children(stack_run, component, "aws:lambda/function:Function")
        assert role.inputs["name"] == function.inputs["name"]
        assert function.inputs["role"] == role.outputs["arn"]


def test_the_staging_prefixes_are_the_ones_the_copier_routes():
    assert SOURCE_PREFIXES == {"lambda": routing.ENVELOPES, "native": routing.RECORDS}
    assert INCOMING_PREFIX == INCOMING == routing.INCOMING
