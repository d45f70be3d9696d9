"""How long a function's logs are kept: one of the periods CloudWatch Logs offers."""

from __future__ import annotations

from stack_config.section import Section

# CloudWatch Logs accepts only these retention periods.
LOG_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)


def log_retention(section: Section, key: str = "logRetentionDays") -> int:
    """`key` of `section`, a retention in days (default 90)."""
    days = section.integer(key, 1, 3653, default=90)
    if days not in LOG_RETENTION_DAYS:
        raise section.error(key, f"must be one CloudWatch Logs offers: {LOG_RETENTION_DAYS}")
    return days
