"""The report server's cloud-init user data: the runner's environment file, its systemd service
and timer, and the first-boot install from the reports bucket (the server has no internet: dnf
reaches the Amazon Linux repositories and the AWS CLI the bucket through the S3 gateway
endpoint). Pure: rendered from plain values, tested without Pulumi."""

from __future__ import annotations

import shlex
from dataclasses import dataclass

import yaml

RUNNER_USER = "report-runner"
INSTALL_DIR = "/opt/report-runner"
APP_DIR = f"{INSTALL_DIR}/app"
PACKAGES_DIR = f"{INSTALL_DIR}/packages"
VENV_DIR = f"{INSTALL_DIR}/venv"
BUNDLE_FILE = f"{INSTALL_DIR}/runner.zip"
REQUIREMENTS_FILE = f"{APP_DIR}/functions/report_runner/requirements.txt"
DEFINITIONS_DIRECTORY = f"{APP_DIR}/reports"
ENVIRONMENT_FILE = "/etc/report-runner/environment"
SERVICE_NAME = "report-runner.service"
TIMER_NAME = "report-runner.timer"
UNIT_DIR = "/etc/systemd/system"
# The region's RDS certificate authorities, uploaded with the packages: ODBC Driver 18 verifies
# the database's certificate against the system trust store, which does not hold them.
RDS_CA_BUNDLE = "rds-ca-bundle.pem"
CA_ANCHORS_DIR = "/etc/pki/ca-trust/source/anchors"
# The first run after a boot waits for the network, SSM and IMDS to settle.
BOOT_DELAY = "2min"
# A run that hangs (a database that never answers) is ended, so the timer can start the next.
RUN_TIMEOUT = "1h"
# EC2 refuses user data over 16 KB.
MAX_USER_DATA_BYTES = 16 * 1024


@dataclass(frozen=True)
class RunnerSetup:
    """Everything the server's user data is rendered from."""

    region: str
    bucket_name: str
    reports_key_arn: str
    # The runner bundle's key under runner/ (it holds the bundle's content hash).
    bundle_key: str
    database_secret_arn: str
    database_host: str
    database_port: int
    database_name: str
    # The database's out-of-hours schedule as the loader reads it (JSON); "" for none.
    database_schedule: str
    alert_topic_arn: str
    sender: str
    link_expiry_hours: int
    catch_up_days: int
    check_every_minutes: int


def runner_environment(setup: RunnerSetup) -> dict[str, str]:
    """The runner's environment (docs/report-server.md); systemd adds STATE_DIRECTORY."""
    environment = {
        "REPORTS_BUCKET": setup.bucket_name,
        "REPORTS_KEY_ARN": setup.reports_key_arn,
        "REPORTS_DIRECTORY": DEFINITIONS_DIRECTORY,
        "DATABASE_SECRET_ARN": setup.database_secret_arn,
        "DATABASE_HOST": setup.database_host,
        "DATABASE_PORT": str(setup.database_port),
        "DATABASE_NAME": setup.database_name,
        "DATABASE_SCHEDULE": setup.database_schedule,
        "ALERT_TOPIC_ARN": setup.alert_topic_arn,
        "REPORT_SENDER": setup.sender,
        "LINK_EXPIRY_HOURS": str(setup.link_expiry_hours),
        "CATCH_UP_DAYS": str(setup.catch_up_days),
        "AWS_REGION": setup.region,
        "AWS_DEFAULT_REGION": setup.region,
    }
    return {name: value for name, value in environment.items() if value != ""}


def environment_file(environment: dict[str, str]) -> str:
    """`KEY=value` lines, each value quoted as a shell would read it: systemd's
    EnvironmentFile and `.` in a shell read the same values (the schedule is JSON)."""
    lines = []
    for name, value in environment.items():
        if "\n" in value:
            raise ValueError(f"environment variable {name} must be one line")
        lines.append(f"{name}={shlex.quote(value)}")
    return "\n".join(lines) + "\n"


def timer_calendar(every_minutes: int) -> str:
    """A systemd OnCalendar expression firing every `every_minutes` (a divisor of 60) at the
    same minutes of every hour."""
    if every_minutes < 1 or 60 % every_minutes:
        raise ValueError(f"{every_minutes} minutes does not divide the hour")
    minutes = ",".join(f"{minute:02d}" for minute in range(0, 60, every_minutes))
    return f"*-*-* *:{minutes}:00"


def _unit(sections: dict[str, list[tuple[str, str]]]) -> str:
    blocks = [
        "\n".join([f"[{section}]", *(f"{key}={value}" for key, value in entries)])
        for section, entries in sections.items()
    ]
    return "\n\n".join(blocks) + "\n"


def _abort_alert(topic_arn: str, region: str) -> str:
    """A shell command (systemd escapes `$` as `$$`) that alerts when a run did not end by
    itself: killed at RUN_TIMEOUT, or by a signal. A run that exits (0 or 1) has alerted
    already if anything failed."""
    return (
        '/bin/sh -c \'case "$${SERVICE_RESULT}" in success|exit-code) exit 0;; esac; '
        f"aws sns publish --region {region} --topic-arn {topic_arn} "
        '--subject "Report runner run ended: $${SERVICE_RESULT}" '
        '--message "report-runner.service ended with $${SERVICE_RESULT} before finishing. '
        "Reports due in that run are sent by the next one; journalctl -u report-runner "
        "through Session Manager shows the run (docs/report-server.md).\"'"
    )


def service_unit(setup: RunnerSetup) -> str:
    """One run of the runner as its own system user, sandboxed: the only writable place is its
    state directory (temporary files)."""
    return _unit(
        {
            "Unit": [
                ("Description", "Report runner: send the reports that are due (reports/*.yaml)"),
                ("Wants", "network-online.target"),
                ("After", "network-online.target"),
            ],
            "Service": [
                ("Type", "oneshot"),
                ("User", RUNNER_USER),
                ("Group", RUNNER_USER),
                ("EnvironmentFile", ENVIRONMENT_FILE),
                ("WorkingDirectory", APP_DIR),
                ("StateDirectory", "report-runner"),
                ("StateDirectoryMode", "0700"),
                ("Environment", "PYTHONDONTWRITEBYTECODE=1"),
                ("ExecStart", f"{VENV_DIR}/bin/python -m functions.report_runner run"),
                ("ExecStopPost", _abort_alert(setup.alert_topic_arn, setup.region)),
                ("TimeoutStartSec", RUN_TIMEOUT),
                ("UMask", "0077"),
                ("NoNewPrivileges", "yes"),
                ("ProtectSystem", "strict"),
                ("ProtectHome", "yes"),
                ("PrivateTmp", "yes"),
                ("PrivateDevices", "yes"),
                ("ProtectKernelTunables", "yes"),
                ("ProtectKernelModules", "yes"),
                ("ProtectKernelLogs", "yes"),
                ("ProtectControlGroups", "yes"),
                ("ProtectClock", "yes"),
                ("ProtectHostname", "yes"),
                ("RestrictSUIDSGID", "yes"),
                ("RestrictRealtime", "yes"),
                ("RestrictNamespaces", "yes"),
                ("LockPersonality", "yes"),
                ("RestrictAddressFamilies", "AF_INET AF_INET6 AF_NETLINK AF_UNIX"),
                ("SystemCallArchitectures", "native"),
                ("CapabilityBoundingSet", ""),
            ],
        }
    )


def timer_unit(setup: RunnerSetup) -> str:
    """Every `check_every_minutes`, once `BOOT_DELAY` after boot, and at boot for a run the
    server missed while stopped (Persistent; the runner itself catches up on missed reports)."""
    return _unit(
        {
            "Unit": [
                ("Description", f"Run the report runner every {setup.check_every_minutes} min"),
            ],
            "Timer": [
                ("OnCalendar", timer_calendar(setup.check_every_minutes)),
                ("Persistent", "true"),
                ("OnBootSec", BOOT_DELAY),
                ("Unit", SERVICE_NAME),
            ],
            "Install": [("WantedBy", "timers.target")],
        }
    )


def _install_alert(setup: RunnerSetup) -> str:
    """The first runcmd line: if any later step fails, the install stops (`set -eu`) and this
    alerts through the ops topic, so a server that will never send a report is noticed."""
    publish = (
        f"aws sns publish --region {setup.region} --topic-arn {setup.alert_topic_arn} "
        '--subject "Report server install failed" '
        '--message "The report server could not install the runner, so no report is sent. '
        "See /var/log/cloud-init-output.log through Session Manager; "
        'docs/report-server.md says how to retry."'
    )
    return f'trap \'code=$?; [ "$code" -eq 0 ] || {publish}; exit "$code"\' EXIT'


def install_commands(setup: RunnerSetup) -> list[str | list[str]]:
    """cloud-init runcmd: packages from the Amazon Linux repositories and from the bucket's
    packages/ prefix, the bundle, a virtualenv from the uploaded wheels only, the runner's user,
    and the timer. Each step is idempotent: the whole list can be run again."""
    bucket = f"s3://{setup.bucket_name}"
    quiet = ["--region", setup.region, "--no-progress"]
    python = f"{VENV_DIR}/bin/python"
    return [
        _install_alert(setup),
        "set -eu",
        ["dnf", "install", "-y", "python3.11", "python3.11-pip", "unixODBC"],
        ["mkdir", "-p", PACKAGES_DIR, APP_DIR],
        ["aws", "s3", "sync", "--delete", f"{bucket}/packages/", f"{PACKAGES_DIR}/", *quiet],
        # Microsoft's ODBC Driver 18 (its licence needs the EULA accepted); its dependencies
        # come from the Amazon Linux repositories.
        f"ACCEPT_EULA=Y dnf install -y {PACKAGES_DIR}/*.rpm",
        ["install", "-m", "0644", f"{PACKAGES_DIR}/{RDS_CA_BUNDLE}", f"{CA_ANCHORS_DIR}/"],
        ["update-ca-trust", "extract"],
        ["aws", "s3", "cp", f"{bucket}/{setup.bundle_key}", BUNDLE_FILE, *quiet],
        ["rm", "-rf", APP_DIR],
        ["python3.11", "-m", "zipfile", "-e", BUNDLE_FILE, APP_DIR],
        ["python3.11", "-m", "venv", "--clear", VENV_DIR],
        [
            f"{VENV_DIR}/bin/pip",
            "install",
            "--no-index",
            "--find-links",
            PACKAGES_DIR,
            "-r",
            REQUIREMENTS_FILE,
        ],
        # The definitions and the runner's imports, before the timer is switched on.
        f"cd {APP_DIR} && REPORTS_DIRECTORY={DEFINITIONS_DIRECTORY} "
        f"{python} -m functions.report_runner check",
        f"id -u {RUNNER_USER} >/dev/null 2>&1 || "
        f"useradd --system --no-create-home --shell /sbin/nologin {RUNNER_USER}",
        ["systemctl", "daemon-reload"],
        ["systemctl", "enable", "--now", TIMER_NAME],
    ]


def cloud_config(setup: RunnerSetup) -> dict:
    """The cloud-config document: files first (cloud-init writes them before runcmd runs)."""
    return {
        "write_files": [
            {
                "path": ENVIRONMENT_FILE,
                "owner": "root:root",
                "permissions": "0600",
                "content": environment_file(runner_environment(setup)),
            },
            {
                "path": f"{UNIT_DIR}/{SERVICE_NAME}",
                "owner": "root:root",
                "permissions": "0644",
                "content": service_unit(setup),
            },
            {
                "path": f"{UNIT_DIR}/{TIMER_NAME}",
                "owner": "root:root",
                "permissions": "0644",
                "content": timer_unit(setup),
            },
        ],
        "runcmd": install_commands(setup),
    }


class _ReadableDumper(yaml.SafeDumper):
    """Multi-line strings as literal blocks and commands as one-line lists, so the user data
    reads as written."""


def _represent_text(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


def _represent_list(dumper: yaml.SafeDumper, items: list) -> yaml.SequenceNode:
    one_line = all(isinstance(item, str) and "\n" not in item for item in items)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", items, flow_style=one_line)


_ReadableDumper.add_representer(str, _represent_text)
_ReadableDumper.add_representer(list, _represent_list)


def render_user_data(setup: RunnerSetup) -> str:
    """`#cloud-config` and the document as YAML; refused if EC2 would refuse it."""
    body = yaml.dump(
        cloud_config(setup),
        Dumper=_ReadableDumper,
        sort_keys=False,
        width=1000,
        allow_unicode=False,
    )
    text = f"#cloud-config\n{body}"
    if len(text.encode()) > MAX_USER_DATA_BYTES:
        raise ValueError(
            f"the report server's user data is {len(text.encode())} bytes; "
            f"EC2 takes at most {MAX_USER_DATA_BYTES}"
        )
    return text
