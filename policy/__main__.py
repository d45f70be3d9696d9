"""Entry point of the policy pack: `pulumi preview --policy-pack policy` runs this file (with
`policy/` first on sys.path); it serves the policies until the engine is done."""

import sys
from pathlib import Path

# The rules are imported as `policy.rules`, as the tests import them: the repository root
# must be importable, not only this directory.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import EnforcementLevel, PolicyPack

from policy.pack import PACK_NAME, build_policies

PolicyPack(
    PACK_NAME,
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=build_policies(),
)
