"""PostgreSQL array literals built from hostile values: pinned text, and decoded back exactly.

`parse_array` below follows PostgreSQL's array input rules (src/backend/utils/adt/arrayfuncs.c,
one dimension) so every encoding is checked both as text and as the values the server reads.
The real server reads them in tests/functions/test_loader_pg_roundtrip.py.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hostile_values import HOSTILE_STRINGS

from functions.loader import pg_arrays
from functions.loader.pg_arrays import DateArray, plain_array, text_array, timestamp_array


def parse_array(literal: str) -> list[str | None]:
    """The elements PostgreSQL's array input reads from a one-dimensional literal."""
    assert literal[0] == "{" and literal[-1] == "}", literal
    body = literal[1:-1]
    if body == "":
        return []
    elements: list[str | None] = []
    position = 0
    while True:
        if body[position] == '"':
            position += 1
            characters = []
            while body[position] != '"':
                if body[position] == "\\":
                    position += 1
                characters.append(body[position])
                position += 1
            elements.append("".join(characters))
            position += 1
        else:
            end = body.find(",", position)
            end = len(body) if end == -1 else end
            bare = body[position:end]
            # An unquoted element may not hold the array's own syntax characters.
            assert not any(character in bare for character in '"\\{} \n'), bare
            elements.append(None if bare.upper() == "NULL" else bare)
            position = end
        if position == len(body):
            return elements
        assert body[position] == ",", body[position:]
        position += 1


def test_strings_are_quoted_with_backslashes_and_quotes_escaped() -> None:
    assert text_array(['a"b', "c\\d", "", "NULL", "x,y}"]) == (
        '{"a\\"b","c\\\\d","","NULL","x,y}"}'
    )


def test_a_null_string_is_unquoted_null_and_the_text_null_stays_quoted() -> None:
    assert text_array([None, "NULL", "", None]) == '{NULL,"NULL","",NULL}'


@pytest.mark.parametrize("with_null", [False, True], ids=["no-nulls", "with-nulls"])
def test_hostile_strings_decode_to_themselves(with_null: bool) -> None:
    values: list[str | None] = [*HOSTILE_STRINGS, None] if with_null else list(HOSTILE_STRINGS)

    assert parse_array(text_array(values)) == values


@pytest.mark.parametrize("value", [s for s in HOSTILE_STRINGS if len(s) < 1000])
def test_each_hostile_string_alone(value: str) -> None:
    assert parse_array(text_array([value])) == [value]
    assert parse_array(text_array([value, None])) == [value, None]


@pytest.mark.parametrize("values", [["a\x00b"], ["a", "b\x00"], ["a\x00b", None]])
def test_a_nul_fails_rather_than_shifting_the_column(values: list[str | None]) -> None:
    with pytest.raises(ValueError, match="NUL"):
        text_array(values)


def test_integers_booleans_and_decimal_text_are_bare() -> None:
    assert plain_array([0, -(2**63), 2**63 - 1, None]) == (
        "{0,-9223372036854775808,9223372036854775807,NULL}"
    )
    assert plain_array([True, False, None]) == "{True,False,NULL}"
    # decimal_as_text: the converters' validated text goes through unchanged.
    decimals = ["+001.50", "-0.01", ".5", "7.", "12345678901234567890.123456789012345678", None]
    assert plain_array(decimals) == (
        "{+001.50,-0.01,.5,7.,12345678901234567890.123456789012345678,NULL}"
    )
    assert parse_array(plain_array(decimals)) == decimals


def test_timestamps_are_iso_with_microseconds_when_they_have_them() -> None:
    values = [
        dt.datetime(2026, 11, 26, 10, 0, 0, 123456),
        dt.datetime(2026, 11, 26, 10, 0, 0, 1),
        dt.datetime(2026, 11, 26),
        dt.datetime(1, 1, 1),
        dt.datetime(9999, 12, 31, 23, 59, 59, 999999),
    ]

    expected = (
        "{2026-11-26T10:00:00.123456,2026-11-26T10:00:00.000001,2026-11-26T00:00:00,"
        "0001-01-01T00:00:00,9999-12-31T23:59:59.999999}"
    )
    assert timestamp_array(values) == expected
    assert timestamp_array([None, *values]) == "{NULL," + expected[1:]
    assert parse_array(timestamp_array(values)) == [value.isoformat() for value in values]


def test_dates_are_iso_and_remembered_per_column() -> None:
    encode = DateArray()
    values = [dt.date(2026, 11, 26), None, dt.date(1, 1, 1), dt.date(2026, 11, 26)]

    assert encode(values) == "{2026-11-26,NULL,0001-01-01,2026-11-26}"
    assert encode([dt.date(9999, 12, 31)]) == "{9999-12-31}"


def test_the_date_texts_stay_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pg_arrays, "DATE_TEXTS_LIMIT", 10)
    encode = DateArray()
    days = [dt.date(2026, 1, 1) + dt.timedelta(days=n) for n in range(100)]

    assert encode(days) == "{" + ",".join(day.isoformat() for day in days) + "}"
    assert len(encode._texts) <= 10
    assert encode([None, days[0]]) == "{NULL,2026-01-01}"


def test_a_datetime_in_a_date_column_is_refused() -> None:
    # A date column must not be sent a datetime: its ISO text would carry a time.
    with pytest.raises(TypeError, match="not a date"):
        DateArray()([dt.datetime(2026, 11, 26, 10, 0)])
