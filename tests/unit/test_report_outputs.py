"""Report files: CSV text exactly, XLSX cells typed, written row by row."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from functions.report_runner import outputs
from functions.report_runner.outputs import ReportTooLargeError, write_report

ROWS = [
    (1, 'Ash, "the" school', Decimal("12.50"), True, date(2026, 11, 2), None),
    (2, "=SUM(A1)", Decimal("0.05"), False, datetime(2026, 11, 2, 9, 30, 15), "x"),
]
COLUMNS = ["id", "name", "score", "passed", "on", "note"]


def test_csv_holds_every_value_exactly(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"

    count = write_report(path, "csv", COLUMNS, iter(ROWS))

    assert count == 2
    assert path.read_bytes().decode() == (
        "id,name,score,passed,on,note\r\n"
        '1,"Ash, ""the"" school",12.50,true,2026-11-02,\r\n'
        "2,=SUM(A1),0.05,false,2026-11-02 09:30:15,x\r\n"
    )


def test_xlsx_cells_keep_their_types_and_text_is_never_a_formula(tmp_path: Path) -> None:
    path = tmp_path / "r.xlsx"

    count = write_report(path, "xlsx", COLUMNS, iter(ROWS))

    assert count == 2
    sheet = openpyxl.load_workbook(path).active
    cells = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert cells[0] == COLUMNS
    assert cells[1] == [1, 'Ash, "the" school', 12.5, True, datetime(2026, 11, 2), None]
    assert cells[2] == [2, "=SUM(A1)", 0.05, False, datetime(2026, 11, 2, 9, 30, 15), "x"]
    assert sheet["B3"].data_type == "s"


def test_an_empty_result_still_has_its_header(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"

    assert write_report(path, "csv", ["a"], iter([])) == 0
    assert path.read_bytes() == b"a\r\n"


def test_more_rows_than_a_sheet_holds_fail_clearly(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(outputs, "XLSX_MAX_ROWS", 3)

    with pytest.raises(ReportTooLargeError, match="do not fit one XLSX sheet: use format: csv"):
        write_report(tmp_path / "r.xlsx", "xlsx", ["a"], ((n,) for n in range(5)))
