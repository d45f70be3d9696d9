"""`make demo` end to end, in this process: the summary's figures are the ones the seeded data
must give (computed here from `offline.demo.samples`, not copied from a run), the bad file is
quarantined with its error report, the weekly report holds exactly the seeded week, and a second
run starts clean and leaves nothing running.
"""

from __future__ import annotations

import io
import os
import re
import sqlite3
import threading
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from service_fixtures import unavailable

from offline.demo.samples import DEMO_NOW, PASS_MARK, samples
from offline.demo.sources import csv_file
from offline.stack_files import PROJECT_DIR

# The demo's emulator is moto in this process, whatever the other tests run against.
pytestmark = [pytest.mark.services, pytest.mark.emulator_needs("moto")]

EXTRACTED = {"maths/staff", "reading/book_progress"}
STREAMED = "languages/lesson_progress"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    """Two runs into the same directory, and the threads alive before, between and after."""
    try:
        from moto import mock_aws  # noqa: F401 -- the emulator the demo runs in this process

        from offline.demo.run import run_demo
    except ImportError as error:
        unavailable(f"the demo's emulator (moto) is not installed: {error}")
    output = tmp_path_factory.mktemp("demo") / ".demo"
    threads = [_thread_names()]
    first = run_demo(output, io.StringIO(), live=False)
    threads.append(_thread_names())
    stale = output / "sources" / "left-over.sqlite"
    stale.write_bytes(b"from an earlier run")
    printed = io.StringIO()
    second = run_demo(output, printed, live=False)
    threads.append(_thread_names())
    return first, second, printed.getvalue(), threads, stale


def _thread_names() -> set[str]:
    return {thread.name for thread in threading.enumerate()}


def _expected_figures() -> dict[str, tuple[str, int, int, int, int, int]]:
    """Per dataset: path, extracted, loaded, merged, deleted, quarantined, from the seed."""
    data = samples()
    expected = {}
    for database in data.databases:
        for table in database.tables:
            rows = len(table.rows)
            if table.dataset == "maths/staff":
                # The catalog's `where: deleted_at IS NULL`.
                rows = sum(left is None for left in table.values("deleted_at"))
            path = "extract" if table.dataset in EXTRACTED else "by hand"
            expected[table.dataset] = (path, rows, rows, rows, 0, 0)
    path, extracted, loaded, merged, deleted, _ = expected["science/experiment_results"]
    expected["science/experiment_results"] = (
        path,
        extracted,
        loaded,
        merged,
        deleted,
        len(data.bad_upload.rows),
    )
    last_change: dict[tuple[str, str], str] = {}
    for change in data.lesson_changes:
        key = (change.item["learnerId"]["N"], change.item["lessonId"]["S"])
        last_change[key] = change.operation
    changes = len(data.lesson_changes)
    tombstones = sum(operation == "delete" for operation in last_change.values())
    expected[STREAMED] = ("stream", changes, changes, len(last_change), tombstones, 0)
    return expected


def _figures(result) -> dict[str, tuple[str, int, int, int, int, int]]:
    return {
        f.qualified_name: (f.path, f.extracted, f.loaded, f.merged, f.deleted, f.quarantined)
        for f in result.figures
    }


def test_the_summary_counts_every_seeded_row_of_every_dataset(runs) -> None:
    first, *_ = runs

    assert _figures(first) == _expected_figures()


def test_the_printed_table_shows_those_figures(runs) -> None:
    _, second, printed, *_ = runs

    for figure in second.figures:
        row = next(line for line in printed.splitlines() if f" {figure.dataset} " in line)
        assert row.split()[:2] == [figure.platform, figure.dataset]
        numbers = [figure.extracted, figure.loaded, figure.merged, figure.quarantined]
        assert row.split()[-5:-1] == [f"{n:,}" for n in numbers]
    assert f"local copy {second.report.local_copy}" in printed


def test_the_bad_file_is_quarantined_with_its_error_report_and_one_alert(runs) -> None:
    first, *_ = runs
    upload = samples().bad_upload
    bad_row = next(i for i, row in enumerate(upload.rows) if row[3] == "absent")
    quarantined = first.quarantined

    # The header is line 1.
    assert (quarantined.error_report["line"], quarantined.error_report["column"]) == (
        bad_row + 2,
        "Score",
    )
    assert quarantined.uri.endswith(f"/quarantine/science/experiment_results/{upload.file_name}")
    assert quarantined.error_report_uri == f"{quarantined.uri}.error.json"
    assert quarantined.local_copy.read_bytes() == csv_file(upload.header, upload.rows)
    (alert,) = quarantined.alerts
    assert alert["key"] == f"incoming/science/experiment_results/{upload.file_name}"
    # Alerts leave the encrypted bucket: they name the problem, never the value.
    assert "absent" not in str(alert)


def test_the_weekly_report_holds_the_seeded_week_and_was_delivered(runs) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    first, *_ = runs
    data = samples()
    period_end = DEMO_NOW.replace(hour=7, minute=0)
    period_start = period_end - timedelta(days=7)
    schools = data.table("maths/schools")
    pupils = data.table("maths/pupils")
    school_name = dict(zip(schools.values("school_id"), schools.values("name"), strict=True))
    school_of = dict(zip(pupils.values("pupil_id"), pupils.values("school_id"), strict=True))
    taken: Counter[tuple[str, str]] = Counter()
    passed: Counter[tuple[str, str]] = Counter()
    for _, pupil_id, topic, score, _, _, completed in data.table("maths/assessments").rows:
        if completed is not None and period_start <= completed < period_end:
            group = (school_name[school_of[pupil_id]], topic)
            taken[group] += 1
            passed[group] += score >= PASS_MARK
    expected = [(*group, taken[group], passed[group]) for group in sorted(taken)]

    sheet = openpyxl.load_workbook(first.report.local_copy).active
    header, *rows = sheet.iter_rows(values_only=True)
    assert header == ("school", "topic", "assessments", "passed")
    assert rows == expected
    assert first.report.rows == len(expected)
    assert first.report.uri.endswith(
        f"/reports/maths-weekly-attainment/{period_end:%Y-%m-%d}/"
        f"maths-weekly-attainment_{period_end:%Y%m%dT%H%M}Z.xlsx"
    )
    assert first.report.recipients == ("maths-leads@example.org",)
    assert first.report.ses_message_id


def test_no_clear_value_the_catalog_hashes_reaches_the_reporting_database(runs) -> None:
    first, *_ = runs
    with sqlite3.connect(first.reporting_database) as database:
        hashes = [
            value for (value,) in database.execute("SELECT email_hash FROM maths_staff_current")
        ]
    database.close()

    assert hashes and all(len(value) == 64 and "@" not in value for value in hashes)


def test_the_readme_shows_what_the_demo_prints(runs) -> None:
    _, second, printed, *_ = runs
    readme = (PROJECT_DIR / "README.md").read_text(encoding="utf-8")
    start = readme.index("```text\nThe dev estate on this machine")
    shown = readme[start + len("```text\n") : readme.index("```", start + 3)]
    # The output directory is `.demo` under this test's temporary directory.
    printed = printed.replace(f"{second.output.parent}{os.sep}", "")

    assert _without_times(shown) == _without_times(printed)


def _without_times(text: str) -> list[str]:
    """The lines with every time replaced and spacing normalised."""
    text = re.sub(r"\b\d+\.\d+ ?s\b", "#s", text)
    text = re.sub(r"\d+\.\d\d$", "#", text, flags=re.MULTILINE)
    return [" ".join(line.split()) for line in text.strip().splitlines()]


def test_a_second_run_starts_clean_and_nothing_is_left_running(runs) -> None:
    first, second, _, (before, between, after), stale = runs

    assert _figures(second) == _figures(first)
    assert not stale.exists()
    # No server, no worker: only the idle executor of the event loop Pulumi's mocked runs use
    # (`asyncio_<n>`, the same for every run, as after `make plan`).
    assert between == after
    assert all(name.startswith("asyncio_") for name in after - before)
    assert Path(second.output).is_dir()
    assert second.seconds < 60
