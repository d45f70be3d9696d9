"""Checks for single config values. Each takes the text and returns the parsed value or raises
ValueError with a message a person can act on."""

from __future__ import annotations

import ipaddress
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from functions.catalog.reader import LAYOUT_NAME

ENVIRONMENTS = ("dev", "prod")
REPLICA_ENGINES = ("mysql", "mariadb", "postgres", "sqlserver-ee")
# Web edition is licensed for public web workloads only and Express caps a database at 10 GiB:
# neither fits an internal reporting database.
REPORTING_ENGINES = ("sqlserver-ee", "sqlserver-se")
# RDS parameter group families per engine (`aws rds describe-db-engine-versions`).
_FAMILY_PATTERNS = {
    "mysql": r"mysql\d+\.\d+",
    "mariadb": r"mariadb\d+\.\d+",
    "postgres": r"postgres\d+",
    "sqlserver-ee": r"sqlserver-ee-\d+\.0",
}
_DNS_LABEL = re.compile(r"[a-z][a-z0-9-]{0,22}[a-z0-9]")
_ACCOUNT_ID = re.compile(r"\d{12}")
_ROLE_ARN = re.compile(r"arn:aws:iam::(\d{12}):role/[\w+=,.@/-]{1,512}")
_REGION = re.compile(r"[a-z]{2}(-gov)?-[a-z]+-\d")
_STACK_REF = re.compile(r"[\w.-]+/[\w.-]+/([\w.-]+)")
_IAM_NAME = re.compile(r"[\w+=,.@-]{1,64}")
_DYNAMODB_TABLE = re.compile(r"[a-zA-Z0-9_.-]{3,255}")
_VPC_ID = re.compile(r"vpc-[0-9a-f]{8,17}")
_INSTANCE_CLASS = re.compile(r"db\.[a-z0-9]+\.[a-z0-9]+")
_LAYER_ARN = re.compile(r"arn:aws:lambda:[a-z0-9-]+:\d{12}:layer:[A-Za-z0-9_-]{1,140}:\d+")
_SQL_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,127}")
_RDS_IDENTIFIER = re.compile(r"[a-zA-Z][a-zA-Z0-9-]{0,62}")
_SES_IDENTITY = re.compile(r"([^@\s]+@)?[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


def choice(*options: str):
    """A check that admits only the given options."""

    def check(value: str) -> str:
        if value not in options:
            raise ValueError(f"must be one of {', '.join(options)}; got '{value}'")
        return value

    return check


def matching(pattern: re.Pattern[str], what: str):
    """A check that the whole value matches `pattern`, described as `what`."""

    def check(value: str) -> str:
        if not pattern.fullmatch(value):
            raise ValueError(f"must be {what}; got '{value}'")
        return value

    return check


account_id = matching(_ACCOUNT_ID, "a 12-digit AWS account id (quote it in YAML)")
region = matching(_REGION, "an AWS region such as eu-west-2")
vpc_id = matching(_VPC_ID, "a VPC id such as vpc-0123456789abcdef0")
instance_class = matching(_INSTANCE_CLASS, "an RDS instance class such as db.t3.large")
rds_identifier = matching(_RDS_IDENTIFIER, "an RDS instance identifier (letters, digits, '-')")
iam_name = matching(_IAM_NAME, "an IAM role name")
layer_arn = matching(
    _LAYER_ARN,
    "a versioned Lambda layer ARN (arn:aws:lambda:<region>:<account>:layer:<name>:<version>)",
)
sql_name = matching(_SQL_NAME, "a database name of letters, digits and '_'")
dynamodb_table = matching(_DYNAMODB_TABLE, "a DynamoDB table name")
ses_identity = matching(_SES_IDENTITY, "an SES identity: an email address or a domain")
# As the dataset catalog names its datasets.
dataset_name = matching(LAYOUT_NAME, "a catalog dataset name ([a-z][a-z0-9_]*)")


# EventBridge Scheduler: rate(<n> <unit>) or cron(<six fields>).
_SCHEDULE_EXPRESSION = re.compile(
    r"rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\(\S+( \S+){5}\)"
)
schedule_expression = matching(
    _SCHEDULE_EXPRESSION, "a schedule such as rate(15 minutes) or cron(0/15 7-19 ? * MON-FRI *)"
)


def timezone(value: str) -> str:
    """An IANA time zone name, as EventBridge Scheduler takes it."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"must be an IANA time zone such as Europe/London; got '{value}'"
        ) from None
    return value


def platform_name(value: str) -> str:
    """Platform names become parts of DNS-style resource names and stack names."""
    if not _DNS_LABEL.fullmatch(value):
        raise ValueError(
            "must be DNS-safe: 2-24 characters of lower-case letters, digits and '-', "
            f"starting with a letter and not ending with '-'; got '{value}'"
        )
    return value


def schedule_name(value: str) -> str:
    """Schedule names are tag values the scheduler matches exactly."""
    if not re.fullmatch(r"[a-z][a-z0-9-]{0,62}", value):
        raise ValueError(
            f"must be a schedule name of lower-case letters, digits and '-'; got '{value}'"
        )
    return value


def role_arn(value: str) -> str:
    if not _ROLE_ARN.fullmatch(value):
        raise ValueError(
            f"must be an IAM role ARN such as arn:aws:iam::111122223333:role/x; got '{value}'"
        )
    return value


def role_arn_account(value: str) -> str:
    """The account id inside an IAM role ARN already checked by `role_arn`."""
    match = _ROLE_ARN.fullmatch(value)
    assert match is not None
    return match.group(1)


def stack_reference(value: str) -> str:
    if not _STACK_REF.fullmatch(value):
        raise ValueError(
            f"must be a fully qualified stack name '<org>/<project>/<stack>'; got '{value}'"
        )
    return value


def stack_reference_stack(value: str) -> str:
    """The stack part of a reference already checked by `stack_reference`."""
    return value.rsplit("/", 1)[1]


def ipv4_network(value: str) -> ipaddress.IPv4Network:
    try:
        return ipaddress.IPv4Network(value, strict=True)
    except ValueError as problem:
        raise ValueError(f"must be an IPv4 CIDR block such as 10.0.0.0/16 ({problem})") from None


def private_network(value: str) -> ipaddress.IPv4Network:
    """VPC ranges: RFC 1918 only, so nothing routes to them from the internet by accident."""
    network = ipv4_network(value)
    rfc1918 = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
    if not any(network.subnet_of(ipaddress.IPv4Network(block)) for block in rfc1918):
        raise ValueError(f"must be inside an RFC 1918 private range; got '{value}'")
    if not 16 <= network.prefixlen <= 24:
        raise ValueError(f"must be between /16 and /24 (AWS VPC limits); got /{network.prefixlen}")
    return network


def office_network(value: str) -> ipaddress.IPv4Network:
    """Office egress ranges: a narrow public range, never the whole internet."""
    network = ipv4_network(value)
    if network.prefixlen == 0:
        raise ValueError("must not be 0.0.0.0/0: that opens access to the whole internet")
    if network.prefixlen < 16:
        raise ValueError(
            f"is broader than /16 (/{network.prefixlen}); list the office's own ranges"
        )
    return network


def parameter_group_family(engine: str):
    """A check that a parameter group family belongs to `engine`."""
    pattern = re.compile(_FAMILY_PATTERNS[engine])

    def check(value: str) -> str:
        if not pattern.fullmatch(value):
            raise ValueError(
                f"must be a parameter group family of engine {engine} "
                f"(pattern {pattern.pattern}); got '{value}'"
            )
        return value

    return check


def sqlserver_version(value: str) -> str:
    """A major version prefix (16.00), which lets RDS apply minor upgrades without the next
    preview trying to downgrade, or an exact version (16.00.4165.4.v1)."""
    if not re.fullmatch(r"1[3-9]\.00(\.\d+\.\d+\.v\d+)?", value):
        raise ValueError(
            "must be an RDS SQL Server version: a major version such as 16.00 "
            f"or an exact one such as 16.00.4165.4.v1; got '{value}'"
        )
    return value


rate_expression = matching(
    re.compile(r"rate\(\d+ (minute|minutes|hour|hours)\)"), "a rate such as rate(5 minutes)"
)
daily_window = matching(
    re.compile(r"([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d"),
    "an RDS daily window in UTC such as 08:00-08:30",
)
weekly_window = matching(
    re.compile(
        r"(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):[0-5]\d-"
        r"(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):[0-5]\d"
    ),
    "an RDS weekly window in UTC such as tue:08:30-tue:09:00",
)
