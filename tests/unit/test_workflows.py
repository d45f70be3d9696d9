"""The GitHub workflows cover every stack file, in the runbook's order, with the policy pack.
(`make lint` checks them against GitHub's schema and audits them with zizmor.)"""

from __future__ import annotations

import re
from typing import Any

import yaml
from stack_helpers import ENVIRONMENTS, plain_config

from offline.stack_files import PROJECT_DIR, stack_names

WORKFLOWS = PROJECT_DIR / ".github" / "workflows"
PULUMI_ACTION = "pulumi/actions@"
PINNED = re.compile(r"^[\w.-]+/[\w.-]+@[0-9a-f]{40}$")


def workflow(name: str) -> dict[str, Any]:
    document = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    # YAML 1.1 reads the key `on` as true.
    document["on"] = document.pop(True)
    return document


def pulumi_steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for step in job["steps"] if step.get("uses", "").startswith(PULUMI_ACTION)]


def stack_prefix() -> str:
    """`<org>/<project>/` as the spoke files name their hub."""
    spoke = next(stack for stack in stack_names() if "-" in stack)
    return plain_config(spoke)["hubStack"].rsplit("/", 1)[0] + "/"


def test_pull_requests_preview_every_stack_file_with_the_policy_pack_and_comment():
    pull_request = workflow("pull-request.yml")
    assert set(pull_request["on"]) == {"pull_request"}
    preview = pull_request["jobs"]["preview"]
    assert preview["strategy"]["matrix"]["stack"] == stack_names()
    [step] = pulumi_steps(preview)
    assert step["with"] == {
        "command": "preview",
        "stack-name": stack_prefix() + "${{ matrix.stack }}",
        "policyPacks": "policy",
        "diff": True,
        "comment-on-pr": True,
    }
    assert preview["needs"] == "test"


def test_the_pull_request_test_job_runs_the_ci_script():
    steps = workflow("pull-request.yml")["jobs"]["test"]["steps"]
    assert steps[-1]["run"] == "bash .ci/run"


def test_merges_deploy_each_environment_hub_first_then_its_spokes_prod_after_dev():
    deploy = workflow("deploy.yml")
    assert deploy["on"] == {"push": {"branches": ["main"]}}
    assert deploy["concurrency"] == {"group": "deploy", "cancel-in-progress": False}
    jobs = deploy["jobs"]
    assert list(jobs) == list(ENVIRONMENTS)
    assert jobs["prod"]["needs"] == "dev"
    for environment in ENVIRONMENTS:
        job = jobs[environment]
        assert job["environment"] == environment
        steps = pulumi_steps(job)
        spokes = [stack for stack in stack_names() if stack.startswith(f"{environment}-")]
        assert [step["with"]["stack-name"] for step in steps] == [
            stack_prefix() + stack for stack in [environment, *spokes]
        ]
        assert all(step["with"]["command"] == "up" for step in steps)
        assert all(step["with"]["policyPacks"] == "policy" for step in steps)


def test_aws_credentials_come_from_oidc_only_in_the_jobs_that_need_them():
    for name in ("pull-request.yml", "deploy.yml"):
        document = workflow(name)
        assert document["permissions"] == {}
        for job in document["jobs"].values():
            assumes_role = any(
                step.get("uses", "").startswith("aws-actions/configure-aws-credentials@")
                for step in job["steps"]
            )
            assert (job["permissions"].get("id-token") == "write") == assumes_role
            for step in job["steps"]:
                if step.get("uses", "").startswith("aws-actions/configure-aws-credentials@"):
                    assert set(step["with"]) >= {"role-to-assume", "aws-region"}
                    assert "aws-access-key-id" not in step["with"]


def test_every_action_is_pinned_to_a_commit_with_its_version_beside_it():
    for path in sorted(WORKFLOWS.glob("*.yml")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if "uses:" not in line:
                continue
            reference, _, comment = line.split("uses:", 1)[1].partition("#")
            assert PINNED.match(reference.strip()), line
            assert re.match(r"^ v\d+(\.\d+)*$", comment), line
