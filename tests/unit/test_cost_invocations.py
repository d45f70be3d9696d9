"""Monthly invocations of EventBridge Scheduler expressions, counted over a fixed year."""

from __future__ import annotations

import re
from datetime import date

import pytest

from offline.cost.invocations import UnsupportedExpressionError, monthly_invocations
from offline.cost.period import twelve_months_from

# 2025: 365 days from a Wednesday; 261 weekdays, 52 Sundays.
YEAR_2025 = twelve_months_from(date(2025, 1, 1))


@pytest.mark.parametrize(
    ("expression", "per_year"),
    [
        ("rate(5 minutes)", 365 * 24 * 12),
        ("rate(1 hour)", 365 * 24),
        ("rate(2 days)", 365 / 2),
        # Every 15 minutes from 08:00 to 17:45 on weekdays: 4 x 10 runs a weekday.
        ("cron(0/15 8-17 ? * MON-FRI *)", 261 * 40),
        ("cron(30 9-17 ? * MON-FRI *)", 261 * 9),
        # AWS numbers weekdays from 1 = Sunday.
        ("cron(0 12 ? * 1 *)", 52),
        ("cron(0 6 1 * ? *)", 12),
        # Weekdays of January (from a Wednesday), February and March (from Saturdays).
        ("cron(0,30 7 ? JAN-MAR 2-6 *)", (23 + 20 + 21) * 2),
        ("cron(0 0 1 1 ? 2026)", 0),
        ("at(2025-06-01T09:00:00)", 1),
    ],
)
def test_expressions_fire_the_hand_counted_number_of_times(expression, per_year):
    assert monthly_invocations(expression, YEAR_2025) == pytest.approx(per_year / 12)


def test_cron_days_are_the_schedules_local_days():
    # 23:30 in London on every Monday; in UTC some of those runs fall on Sundays or Mondays,
    # but each local Monday still runs once.
    assert monthly_invocations(
        "cron(30 23 ? * MON *)", YEAR_2025, "Europe/London"
    ) == pytest.approx(52 / 12)


def test_the_always_on_month_is_730_hours():
    assert YEAR_2025.hours_per_month == 730
    assert twelve_months_from(date(2027, 3, 1)).hours_per_month == 8784 / 12


@pytest.mark.parametrize(
    "expression",
    [
        "cron(0 12 L * ? *)",
        "cron(0 12 ? * 6#3 *)",
        "cron(0 12 * * * *)",
        "every day",
        "rate(0 hours)",
    ],
)
def test_expressions_it_cannot_count_are_refused_not_guessed(expression):
    # The message quotes the expression it refused.
    with pytest.raises(UnsupportedExpressionError, match=re.escape(expression)):
        monthly_invocations(expression, YEAR_2025)
