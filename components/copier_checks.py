"""What the hub checks before its landing bucket and key admit a platform's copier. Pure.

The spoke's stack names its copier's role and VPC endpoint; the hub writes them into its own
policies, so it takes them only if they can belong to that platform's account."""

from __future__ import annotations

import re

_ROLE_ARN = re.compile(r"arn:aws:iam::(\d{12}):role/[\w+=,.@/-]{1,512}")
_ENDPOINT_ID = re.compile(r"vpce-[0-9a-f]{8,17}")


def copier_problems(account_id: str, role_arn: str, endpoint_id: str) -> list[str]:
    """Why the exported copier cannot be the platform's; empty if it can. Both empty: the
    platform streams nothing."""
    if not role_arn and not endpoint_id:
        return []
    problems = []
    role = _ROLE_ARN.fullmatch(role_arn)
    if role is None:
        problems.append(f"copierRoleArn '{role_arn}' is not an IAM role ARN")
    elif role[1] != account_id:
        problems.append(
            f"copierRoleArn '{role_arn}' is a role of account {role[1]}, not of the "
            f"platform's account {account_id}"
        )
    if not _ENDPOINT_ID.fullmatch(endpoint_id):
        problems.append(f"copierEndpointId '{endpoint_id}' is not a VPC endpoint id")
    return problems
