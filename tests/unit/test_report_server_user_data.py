"""The report server's cloud-init user data, rendered from plain values: a valid cloud-config
that writes the runner's environment, service and timer, and installs the runner offline."""

from __future__ import annotations

import configparser
import json
import shlex

import pytest
import yaml

from components.report_server_user_data import (
    MAX_USER_DATA_BYTES,
    RunnerSetup,
    environment_file,
    render_user_data,
    timer_calendar,
)

SCHEDULE = json.dumps({"name": "office-hours", "timezone": "Europe/London", "enforced": True})
SETUP = RunnerSetup(
    region="eu-west-2",
    bucket_name="reporting-reports-output-bucket-1a2b3c4d",
    reports_key_arn="arn:aws:kms:eu-west-2:111100000001:key/1234abcd-0000-4000-a000-000000000001",
    bundle_key="runner/report-runner-0123456789abcdef.zip",
    database_secret_arn="arn:aws:secretsmanager:eu-west-2:111100000001:secret:rds!db-1-AbCdEf",
    database_host="reporting-db.c0.eu-west-2.rds.amazonaws.com",
    database_port=1433,
    database_name="reporting",
    database_schedule=SCHEDULE,
    alert_topic_arn="arn:aws:sns:eu-west-2:111100000001:reporting-alerts",
    sender="reports@example.org",
    link_expiry_hours=6,
    catch_up_days=7,
    check_every_minutes=15,
)
# The runner's contract (functions/report_runner/settings.py and the spec): every
# variable it reads; systemd sets STATE_DIRECTORY itself.
SPEC_VARIABLES = {
    "REPORTS_BUCKET": SETUP.bucket_name,
    "REPORTS_KEY_ARN": SETUP.reports_key_arn,
    "REPORTS_DIRECTORY": "/opt/report-runner/app/reports",
    "DATABASE_SECRET_ARN": SETUP.database_secret_arn,
    "DATABASE_HOST": SETUP.database_host,
    "DATABASE_PORT": "1433",
    "DATABASE_NAME": "reporting",
    "DATABASE_SCHEDULE": SCHEDULE,
    "ALERT_TOPIC_ARN": SETUP.alert_topic_arn,
    "REPORT_SENDER": "reports@example.org",
    "LINK_EXPIRY_HOURS": "6",
    "CATCH_UP_DAYS": "7",
    "AWS_REGION": "eu-west-2",
    "AWS_DEFAULT_REGION": "eu-west-2",
}


def _document(setup: RunnerSetup = SETUP) -> dict:
    text = render_user_data(setup)
    assert text.startswith("#cloud-config\n")
    return yaml.safe_load(text)


def _file(path: str, setup: RunnerSetup = SETUP) -> dict:
    (found,) = [f for f in _document(setup)["write_files"] if f["path"] == path]
    return found


def _unit(path: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string(_file(path)["content"])
    return parser


def _environment(content: str) -> dict[str, str]:
    """The variables as systemd's EnvironmentFile (and a shell's `.`) reads them."""
    return dict(shlex.split(line)[0].split("=", 1) for line in content.splitlines())


def test_the_user_data_is_a_cloud_config_with_files_and_commands_only():
    document = _document()
    assert list(document) == ["write_files", "runcmd"]
    assert len(render_user_data(SETUP).encode()) < MAX_USER_DATA_BYTES


def test_the_environment_file_holds_every_variable_of_the_contract_for_root_only():
    env = _file("/etc/report-runner/environment")
    assert (env["owner"], env["permissions"]) == ("root:root", "0600")
    assert _environment(env["content"]) == SPEC_VARIABLES
    # The schedule is JSON: quoted so that it reaches the runner unchanged.
    assert json.loads(_environment(env["content"])["DATABASE_SCHEDULE"])["enforced"] is True


def test_a_database_without_a_schedule_gets_no_schedule_variable():
    unscheduled = RunnerSetup(**{**vars(SETUP), "database_schedule": ""})
    variables = _environment(_file("/etc/report-runner/environment", unscheduled)["content"])
    assert "DATABASE_SCHEDULE" not in variables
    assert set(variables) == set(SPEC_VARIABLES) - {"DATABASE_SCHEDULE"}


def test_an_environment_value_cannot_smuggle_a_second_variable():
    with pytest.raises(ValueError, match="REPORT_SENDER must be one line"):
        environment_file({"REPORT_SENDER": "a@example.org\nDATABASE_HOST=evil"})


def test_the_service_is_one_sandboxed_run_as_its_own_user():
    unit = _unit("/etc/systemd/system/report-runner.service")
    service = unit["Service"]
    assert service["Type"] == "oneshot"
    assert service["User"] == "report-runner"
    assert service["EnvironmentFile"] == "/etc/report-runner/environment"
    assert service["StateDirectory"] == "report-runner"
    assert service["WorkingDirectory"] == "/opt/report-runner/app"
    assert service["ExecStart"] == (
        "/opt/report-runner/venv/bin/python -m functions.report_runner run"
    )
    hardening = {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "PrivateDevices": "yes",
        "CapabilityBoundingSet": "",
    }
    assert {key: service[key] for key in hardening} == hardening
    assert "network-online.target" in unit["Unit"]["After"]


def test_a_run_that_did_not_end_by_itself_alerts_the_ops_topic():
    post = _unit("/etc/systemd/system/report-runner.service")["Service"]["ExecStopPost"]
    # systemd turns $$ into $: the shell reads the result systemd passes it.
    assert "$${SERVICE_RESULT}" in post and "success|exit-code) exit 0" in post
    assert f"sns publish --region eu-west-2 --topic-arn {SETUP.alert_topic_arn}" in post


def test_the_timer_runs_every_interval_catches_up_and_waits_after_boot():
    unit = _unit("/etc/systemd/system/report-runner.timer")
    timer = unit["Timer"]
    assert timer["OnCalendar"] == "*-*-* *:00,15,30,45:00"
    assert timer["Persistent"] == "true"
    assert timer["OnBootSec"] == "2min"
    assert timer["Unit"] == "report-runner.service"
    assert unit["Install"]["WantedBy"] == "timers.target"


@pytest.mark.parametrize(
    ("minutes", "calendar"),
    [(5, "*-*-* *:00,05,10,15,20,25,30,35,40,45,50,55:00"), (30, "*-*-* *:00,30:00")],
)
def test_the_calendar_fires_at_the_same_minutes_every_hour(minutes, calendar):
    assert timer_calendar(minutes) == calendar
    assert timer_calendar(60) == "*-*-* *:00:00"


def test_an_interval_that_does_not_divide_the_hour_is_refused():
    with pytest.raises(ValueError, match="does not divide the hour"):
        timer_calendar(7)


def _commands() -> list[str]:
    """runcmd as the shell lines cloud-init writes (a list item is one quoted command)."""
    return [c if isinstance(c, str) else shlex.join(c) for c in _document()["runcmd"]]


def _index(commands: list[str], fragment: str) -> int:
    (found,) = [index for index, command in enumerate(commands) if fragment in command]
    return found


def test_the_install_stops_at_the_first_failure_and_alerts():
    commands = _commands()
    assert commands[0].startswith("trap ") and commands[0].endswith(" EXIT")
    assert f"sns publish --region eu-west-2 --topic-arn {SETUP.alert_topic_arn}" in commands[0]
    assert commands[1] == "set -eu"


def test_runcmd_installs_the_runner_from_the_bucket_only_then_enables_the_timer():
    commands = _commands()
    bucket = f"s3://{SETUP.bucket_name}"
    steps = [
        _index(commands, "dnf install -y python3.11 python3.11-pip unixODBC"),
        _index(commands, f"aws s3 sync --delete {bucket}/packages/ /opt/report-runner/packages/"),
        _index(commands, "ACCEPT_EULA=Y dnf install -y /opt/report-runner/packages/*.rpm"),
        _index(commands, "rds-ca-bundle.pem /etc/pki/ca-trust/source/anchors/"),
        _index(commands, f"aws s3 cp {bucket}/{SETUP.bundle_key} /opt/report-runner/runner.zip"),
        _index(
            commands,
            "python3.11 -m zipfile -e /opt/report-runner/runner.zip /opt/report-runner/app",
        ),
        _index(commands, "python3.11 -m venv"),
        _index(
            commands,
            "pip install --no-index --find-links /opt/report-runner/packages -r "
            "/opt/report-runner/app/functions/report_runner/requirements.txt",
        ),
        _index(commands, "-m functions.report_runner check"),
        _index(commands, "useradd --system"),
        _index(commands, "systemctl daemon-reload"),
        _index(commands, "systemctl enable --now report-runner.timer"),
    ]
    assert steps == sorted(steps)
    assert steps[-1] == len(commands) - 1


def test_user_data_over_ec2s_limit_is_refused():
    huge = RunnerSetup(**{**vars(SETUP), "database_schedule": "x" * MAX_USER_DATA_BYTES})
    with pytest.raises(ValueError, match="EC2 takes at most 16384"):
        render_user_data(huge)
