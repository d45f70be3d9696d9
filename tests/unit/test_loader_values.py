"""Value conversion: the fast paths and the full checks agree, and nothing inexact passes."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest

from functions.catalog import Column
from functions.loader.values import InvalidValueError, column_converter


def convert(column: Column, raw: object, **options) -> object:
    return column_converter(column, len, **options)(raw)


INTEGER = Column("n", "integer", nullable=False)
DECIMAL = Column("d", "decimal", precision=5, scale=2)
DATE = Column("day", "date")
TIMESTAMP = Column("at", "timestamp")
BOOLEAN = Column("b", "boolean")
TEXT = Column("s", "string", max_length=3)


@pytest.mark.parametrize(
    ("column", "raw", "expected"),
    [
        (INTEGER, "42", 42),
        (INTEGER, "-42", -42),
        (INTEGER, "+7", 7),
        (INTEGER, 5, 5),
        (INTEGER, "9223372036854775807", 2**63 - 1),
        (DECIMAL, "123.45", Decimal("123.45")),
        (DECIMAL, "-.5", Decimal("-0.50")),
        (DECIMAL, "0001.50000", Decimal("1.50")),
        (DECIMAL, Decimal("2.5"), Decimal("2.50")),
        (DECIMAL, "", None),
        (DATE, "2024-02-29", dt.date(2024, 2, 29)),
        (TIMESTAMP, "2026-11-26T10:00:00", dt.datetime(2026, 11, 26, 10)),
        (TIMESTAMP, "2026-11-26 10:00", dt.datetime(2026, 11, 26, 10)),
        (TIMESTAMP, "2026-11-26T10:00:00.5Z", dt.datetime(2026, 11, 26, 10, 0, 0, 500000)),
        (TIMESTAMP, "2026-11-26T00:30:00+0100", dt.datetime(2026, 11, 25, 23, 30)),
        (TIMESTAMP, 0, dt.datetime(1970, 1, 1)),
        (BOOLEAN, "TRUE", True),
        (BOOLEAN, "f", False),
        (BOOLEAN, False, False),
        (TEXT, "", ""),
        (TEXT, "Zoë", "Zoë"),
    ],
)
def test_values_convert_exactly(column: Column, raw: object, expected: object) -> None:
    assert convert(column, raw) == expected


@pytest.mark.parametrize(
    ("column", "raw", "message"),
    [
        (INTEGER, "", "empty value in a column declared nullable: false"),
        (INTEGER, "1_000", "not an integer: '1_000'"),
        (INTEGER, "١٢", "not an integer: '١٢'"),
        (INTEGER, " 1", "not an integer: ' 1'"),
        (INTEGER, True, "expected an integer, got a boolean"),
        (INTEGER, "9223372036854775808", "integer out of the 64-bit range"),
        (DECIMAL, "1234.5", "'1234.5' is not a decimal(5,2) number"),
        (DECIMAL, "1.005", "'1.005' is not a decimal(5,2) number"),
        (DECIMAL, "1e2", "'1e2' is not a decimal(5,2) number"),
        (DECIMAL, "NaN", "'NaN' is not a decimal(5,2) number"),
        (DECIMAL, Decimal("1.001"), "Decimal('1.001') is not a decimal(5,2) number"),
        (DATE, "20240229", "not a date (YYYY-MM-DD): '20240229'"),
        (DATE, "2023-02-29", "not a date: '2023-02-29' (day is out of range for month)"),
        (TIMESTAMP, "2026-11-26T10:00:00.1234567", "not an ISO 8601 timestamp"),
        (BOOLEAN, "yes", "not a boolean"),
        (TEXT, "abcd", "4 characters, the column holds 3"),
        (TEXT, "a\x00", "NUL character in a string"),
        (TEXT, 12, "expected a string, got int"),
        (TEXT, "\ud800", "not valid Unicode: a lone surrogate (U+D800)"),
        (Column("s", "string"), "é\udfff", "not valid Unicode: a lone surrogate (U+DFFF)"),
    ],
)
def test_values_that_do_not_convert_are_refused(column: Column, raw: object, message: str) -> None:
    with pytest.raises(InvalidValueError, match=re.escape(message)):
        convert(column, raw)


def test_string_lengths_are_counted_as_the_database_counts_them() -> None:
    utf16 = Column("s", "string", max_length=2)

    def utf16_units(value: str) -> int:
        return len(value.encode("utf-16-le")) // 2

    check = column_converter(utf16, utf16_units, units_per_character=2)
    assert check("é😀"[0:1]) == "é"
    with pytest.raises(InvalidValueError, match="3 characters, the column holds 2"):
        check("é😀")


def test_decimals_can_be_bound_as_their_validated_text() -> None:
    assert convert(DECIMAL, "+001.5", decimal_as_text=True) == "+001.5"
    assert convert(DECIMAL, Decimal("3"), decimal_as_text=True) == "3.00"


def test_bind_adapts_non_null_values_only() -> None:
    adapted = column_converter(DATE, len, bind=lambda value: f"<{value}>")

    assert (adapted("2026-01-02"), adapted("")) == ("<2026-01-02>", None)
