"""Staleness in working hours, and the alert that lists stale datasets: pure, no database."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from functions.freshness.staleness import (
    SUBJECT_LENGTH,
    DatasetFreshness,
    alert_body,
    alert_subject,
    assess,
)
from functions.working_hours.working_time import HolidayRegion, Period, Schedule

LONDON = ZoneInfo("Europe/London")
# 08:00-18:00 Monday to Friday, England's bank holidays off.
OFFICE_HOURS = Schedule(
    name="office-hours",
    timezone="Europe/London",
    periods=(Period(frozenset(range(5)), time(8), time(18)),),
    holidays=HolidayRegion("GB", "ENG"),
    enforced=False,
    maintenance_lead_minutes=0,
)


def london(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=LONDON)


def test_a_weekend_counts_no_hours() -> None:
    # GIVEN a load on Friday at 17:00 and a check on Monday at 10:00 (GMT: London is UTC)
    last_load = london(2026, 11, 27, 17)

    # WHEN the dataset is assessed against a 2-hour window
    [result] = assess(
        OFFICE_HOURS, {"maths/pupils": 2}, {"maths/pupils": last_load}, london(2026, 11, 30, 10)
    )

    # THEN Friday's last hour and Monday's first two count: 3 working hours, stale
    assert result == DatasetFreshness("maths/pupils", 2, last_load, 3.0)
    assert result.stale


def test_a_window_is_stale_only_once_exceeded() -> None:
    [result] = assess(
        OFFICE_HOURS,
        {"maths/pupils": 3},
        {"maths/pupils": london(2026, 11, 27, 17)},
        london(2026, 11, 30, 10),
    )

    assert (result.working_hours, result.stale) == (3.0, False)


def test_a_bank_holiday_counts_no_hours() -> None:
    # Friday 28 August 2026 17:00 BST to Tuesday 1 September 10:00 BST: Monday 31 August is
    # the late summer bank holiday.
    [result] = assess(
        OFFICE_HOURS,
        {"maths/pupils": 3},
        {"maths/pupils": london(2026, 8, 28, 17).astimezone(UTC)},
        london(2026, 9, 1, 10),
    )

    assert (result.working_hours, result.stale) == (3.0, False)


def test_a_dataset_never_loaded_is_stale_without_hours() -> None:
    [result] = assess(OFFICE_HOURS, {"maths/pupils": 24}, {}, london(2026, 11, 30, 10))

    assert result == DatasetFreshness("maths/pupils", 24, None, None)
    assert result.stale
    assert result.as_dict() == {
        "dataset": "maths/pupils",
        "last_successful_load": None,
        "working_hours_since": None,
        "window_hours": 24,
        "stale": True,
    }


def test_a_load_stamped_after_now_is_fresh() -> None:
    now = london(2026, 11, 30, 10)

    [result] = assess(
        OFFICE_HOURS, {"maths/pupils": 1}, {"maths/pupils": london(2026, 11, 30, 10, 5)}, now
    )

    assert (result.working_hours, result.stale) == (0.0, False)


def test_datasets_are_assessed_in_name_order() -> None:
    now = london(2026, 11, 30, 10)
    results = assess(OFFICE_HOURS, {"reading/books": 1, "maths/pupils": 1}, {}, now)

    assert [result.dataset for result in results] == ["maths/pupils", "reading/books"]


def test_subject_names_the_stale_datasets() -> None:
    stale = [
        DatasetFreshness("maths/pupils", 2, None, None),
        DatasetFreshness("reading/books", 2, None, None),
    ]

    assert alert_subject(stale) == "Stale reporting data: maths/pupils, reading/books"


def test_subject_counts_datasets_whose_names_do_not_fit_sns_limit() -> None:
    stale = [DatasetFreshness(f"platform{n}/dataset_{n}", 2, None, None) for n in range(10)]

    subject = alert_subject(stale)

    assert subject == "Stale reporting data: 10 datasets"
    assert len(subject) <= SUBJECT_LENGTH < 100


@pytest.mark.parametrize("count", [1, 2, 3, 4])
def test_subjects_stay_under_sns_limit(count: int) -> None:
    stale = [DatasetFreshness(f"p{n}/{'d' * 30}", 2, None, None) for n in range(count)]

    assert len(alert_subject(stale)) < 100


def test_body_lists_each_stale_dataset_in_utc_and_local_time() -> None:
    stale = [
        DatasetFreshness("maths/pupils", 2, london(2026, 8, 28, 17).astimezone(UTC), 3.0),
        DatasetFreshness("reading/books", 24, None, None),
    ]

    body = alert_body(stale, OFFICE_HOURS, london(2026, 9, 1, 10).astimezone(UTC))

    assert body.splitlines() == [
        "2 datasets have had no successful load for longer than allowed.",
        "Hours are working hours of schedule 'office-hours' (Europe/London): the time it is "
        "stopped does not count.",
        "",
        "maths/pupils",
        "  Last successful load: Fri 2026-08-28 16:00 UTC (Fri 2026-08-28 17:00 BST, "
        "Europe/London)",
        "  Working hours since:  3.0",
        "  Window:               2 working hours",
        "",
        "reading/books",
        "  Last successful load: never loaded",
        "  Window:               24 working hours",
        "",
        "Checked at Tue 2026-09-01 09:00 UTC (Tue 2026-09-01 10:00 BST, Europe/London).",
        "Loads are read from the load_ledger table of the reporting database. Look for "
        "quarantined files and for extractor, copier or loader errors.",
    ]


def test_body_of_one_dataset_says_so() -> None:
    stale = [DatasetFreshness("maths/pupils", 1.5, None, None)]

    lines = alert_body(stale, OFFICE_HOURS, london(2026, 11, 30, 10)).splitlines()

    assert lines[0] == "1 dataset has had no successful load for longer than allowed."
    assert "  Window:               1.5 working hours" in lines
