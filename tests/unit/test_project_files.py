"""The project file, the stack files and the README agree with each other and with the code."""

from __future__ import annotations

import re

import pytest
from stack_helpers import ENVIRONMENTS, SPOKE_STACKS, parsed_config

from offline.stack_files import PROJECT_DIR, engine_config, project_settings, stack_names
from stack_config.load import SCALAR_KEYS, STRUCTURED_KEYS

READ_KEYS = set(SCALAR_KEYS) | set(STRUCTURED_KEYS)
# The real AWS account that publishes the Powertools Lambda layers.
POWERTOOLS_PUBLISHER = "017000801446"


def test_every_key_the_program_reads_is_declared_with_a_description():
    declared = {key: value for key, value in project_settings()["config"].items() if ":" not in key}
    assert set(declared) == READ_KEYS
    assert all(value.get("description") for value in declared.values())


def test_default_providers_are_disabled_for_every_stack():
    assert project_settings()["config"]["pulumi:disable-default-providers"] == {"value": ["*"]}
    for stack in stack_names():
        assert engine_config(stack)["pulumi:disable-default-providers"] == '["*"]'


def test_python_runtime_uses_the_projects_virtualenv():
    runtime = project_settings()["runtime"]
    assert runtime["name"] == "python"
    assert runtime["options"]["virtualenv"] == ".venv"


def test_the_readme_documents_every_config_key():
    readme = (PROJECT_DIR / "README.md").read_text()
    for key in READ_KEYS:
        assert f"`{key}`" in readme, key


def test_the_readme_starts_with_the_two_commands():
    readme = (PROJECT_DIR / "README.md").read_text()
    first_commands = re.findall(r"^make [a-z-]+", readme, flags=re.MULTILINE)[:2]
    assert first_commands == ["make demo", "make test"]


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_sample_estate_is_four_platforms_in_three_accounts(environment):
    hub = parsed_config(environment)
    assert len(hub.platforms) == 4
    assert len({p.account_id for p in hub.platforms}) == 3
    spokes = [parsed_config(stack) for stack in SPOKE_STACKS if stack.startswith(f"{environment}-")]
    assert sum(1 for spoke in spokes if spoke.change_streams) == 1


@pytest.mark.parametrize("stack", SPOKE_STACKS)
def test_the_hub_knows_each_spoke_as_the_spoke_describes_itself(stack):
    spoke = parsed_config(stack)
    hub = parsed_config(spoke.deployment.environment)
    (link,) = [p for p in hub.platforms if p.name == spoke.platform.name]
    assert link.account_id == spoke.deployment.account.account_id
    assert link.vpc_cidr == spoke.platform.vpc_cidr
    assert link.stack.rsplit("/", 1)[1] == stack
    assert spoke.hub_stack.rsplit("/", 1)[1] == hub.deployment.stack
    # The requester's DNS option waits until the hub has accepted (runbook step 5).
    assert not spoke.platform.peering_accepted or link.attached


def test_fake_account_ids_and_documentation_ranges_only():
    for stack in stack_names():
        text = (PROJECT_DIR / f"Pulumi.{stack}.yaml").read_text()
        for account in set(re.findall(r"\b\d{12}\b", text)) - {POWERTOOLS_PUBLISHER}:
            assert re.fullmatch(r"(1111|2222|3333|4444)0{6}\d\d", account), account
    for cidr in parsed_config("prod").office_cidrs:
        assert any(cidr.subnet_of(block) for block in _documentation_ranges())


def _documentation_ranges():
    from ipaddress import IPv4Network

    return [IPv4Network(block) for block in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")]
