"""Writes a query's rows to a report file as they are fetched: CSV, or XLSX through XlsxWriter
in its constant-memory mode (each row is flushed to disk before the next), so no whole result is
ever held in memory."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

# One worksheet holds 1,048,576 rows; the header takes one.
XLSX_MAX_ROWS = 1_048_575
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class ReportTooLargeError(ValueError):
    """The result does not fit the report's format."""


def write_report(
    path: Path, report_format: str, columns: Sequence[str], rows: Iterable[Sequence[object]]
) -> int:
    """Writes the header and `rows` to `path` in `report_format`; returns the number of rows."""
    if report_format == "csv":
        return _write_csv(path, columns, rows)
    return _write_xlsx(path, columns, rows)


def csv_text(value: object) -> str:
    """A value as CSV text: empty for NULL, ISO 8601 times, decimals exactly, lower-case
    booleans."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def _write_csv(path: Path, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
    count = 0
    with path.open("w", newline="", encoding="utf-8") as output:
        writer = csv.writer(output)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([csv_text(value) for value in row])
            count += 1
    return count


def _write_xlsx(path: Path, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
    import xlsxwriter  # noqa: PLC0415 -- CSV reports never need it

    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    try:
        sheet = workbook.add_worksheet("Report")
        bold = workbook.add_format({"bold": True})
        formats = {
            datetime: workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"}),
            date: workbook.add_format({"num_format": "yyyy-mm-dd"}),
        }
        sheet.write_row(0, 0, list(columns), bold)
        sheet.freeze_panes(1, 0)
        count = 0
        for count, row in enumerate(rows, start=1):
            if count > XLSX_MAX_ROWS:
                raise ReportTooLargeError(
                    f"more than {XLSX_MAX_ROWS:,} rows do not fit one XLSX sheet: use format: csv"
                )
            for column, value in enumerate(row):
                _write_cell(sheet, count, column, value, formats)
    finally:
        workbook.close()
    return count


def _write_cell(sheet, row: int, column: int, value: object, formats: dict) -> None:
    """Numbers as numbers, times as Excel dates, text always as text (never a formula)."""
    if value is None:
        sheet.write_blank(row, column, None)
    elif isinstance(value, bool):
        sheet.write_boolean(row, column, value)
    elif isinstance(value, int | float | Decimal):
        sheet.write_number(row, column, float(value))
    elif isinstance(value, datetime):
        sheet.write_datetime(row, column, value.replace(tzinfo=None), formats[datetime])
    elif isinstance(value, date):
        sheet.write_datetime(row, column, value, formats[date])
    else:
        sheet.write_string(row, column, str(value))
