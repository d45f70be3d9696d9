"""`make plan`: the printed tree is complete, annotated with accounts, and deterministic."""

from __future__ import annotations

import pytest

from offline import plan
from offline.estate import run_environment


def test_plan_lists_every_resource_once_with_its_account(estates):
    run = estates["dev"].spokes["dev-maths"]
    text = plan.render(run)
    for resource in run.resources:
        assert f"{resource.type}  {resource.name}" in text
    assert "DEFAULT-PROVIDER" not in text
    aws_lines = [line for line in text.splitlines() if "+ aws:" in line]
    assert aws_lines and all("account=222200000001" in line for line in aws_lines)
    assert "> pulumi:pulumi:StackReference  example-edu/reporting/dev" in text
    assert text.splitlines()[-1] == f"Resources: {len(run.resources) - 1} to create, 1 to read"


def test_plan_nests_children_under_their_component(estates):
    text = plan.render(estates["prod"].hub).splitlines()
    component = next(
        i
        for i, line in enumerate(text)
        if "reporting:storage:SecureBucket  reporting-landing" in line
    )
    indent = len(text[component]) - len(text[component].lstrip())
    bucket = text[component + 1]
    assert "aws:s3/bucket:Bucket  reporting-landing-bucket" in bucket
    assert len(bucket) - len(bucket.lstrip()) == indent + 4


def test_plan_shows_key_settings_as_written(estates):
    text = plan.render(estates["prod"].hub)
    assert (
        "engine=sqlserver-se" in text
        and "multiAz=false" in text
        and "publiclyAccessible=false" in text
    )
    assert '"fromPort":1433' in text  # whole numbers, not the engine's doubles


def test_plan_is_deterministic_across_runs():
    first = plan.render(run_environment("prod").run_of("prod-science"))
    second = plan.render(run_environment("prod").run_of("prod-science"))
    assert first == second


def test_plan_command_prints_the_requested_stacks(capsys):
    assert plan.main(["dev-reading", "prod"]) == 0
    out = capsys.readouterr().out
    assert "Plan for stack dev-reading" in out and "Plan for stack prod " in out
    assert "Plan for stack dev " not in out


def test_plan_command_refuses_an_unknown_stack(capsys):
    with pytest.raises(SystemExit):
        plan.main(["staging"])
    assert "no stack file for staging" in capsys.readouterr().err


def test_plan_command_prints_a_whole_environment_hub_first(capsys):
    assert plan.main(["--environment", "dev"]) == 0
    headings = [
        line for line in capsys.readouterr().out.splitlines() if line.startswith("Plan for stack")
    ]
    assert [h.split()[3] for h in headings] == [
        "dev",
        "dev-languages",
        "dev-maths",
        "dev-reading",
        "dev-science",
    ]
