"""Turns raw field values (CSV text or JSON scalars) into the values a staging column binds.

The rules are strict on purpose: a value either converts exactly or fails the file. Python's own
parsers accept more than the databases do (`int("1_000")`, `date.fromisoformat("20200101")`,
digits of other scripts), so textual values are matched against patterns first.

Each converter has a fast path for the common well-formed text value and falls back to the full
check for everything else (nulls, JSON scalars, signs, errors); the two agree on every value the
fast path accepts. The loader calls these once per field, so the fast paths decide its speed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Context, Decimal, InvalidOperation

from functions.catalog import MAX_DECIMAL_PRECISION, Column

# Converts one raw value; raises InvalidValueError.
Converter = Callable[[object], object]
# Measures a string the way the target column counts its length.
TextLength = Callable[[str], int]

INTEGER_TEXT = re.compile(r"[+-]?[0-9]+")
DATE_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# ISO 8601 with a T or a space, optional seconds, up to microseconds, optional Z or offset.
TIMESTAMP_TEXT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?"
    r"(Z|[+-][0-9]{2}:?[0-9]{2})?"
)
# A JSON string may carry an escaped lone surrogate ("\ud800"), which no database encoding
# holds; text decoded from UTF-8 never does.
SURROGATE = re.compile("[\ud800-\udfff]")
BOOLEAN_TEXT = {"true": True, "t": True, "1": True, "false": False, "f": False, "0": False}

# The range of every dialect's bigint; 18 digits always fit.
INTEGER_RANGE = range(-(2**63), 2**63)
SAFE_INTEGER_DIGITS = 18

# Python's default context keeps 28 digits, fewer than the catalog allows: quantizing a valid
# decimal(38,s) value there fails. Two digits to spare; a quantize whose result would need more
# raises InvalidOperation, which the parser reports as a value that does not fit.
DECIMAL_CONTEXT = Context(prec=MAX_DECIMAL_PRECISION + 2, traps=[InvalidOperation])


class InvalidValueError(ValueError):
    """A raw value does not convert to its column's type.

    A `reason` that names the value says `{value}`: the message quotes the value (bounded), and
    `without_value` withholds it, for alerts that must not carry a file's contents.
    """

    def __init__(self, reason: str, raw: object = None) -> None:
        super().__init__(reason.replace("{value}", _shown(raw)))
        self.without_value = reason.replace("{value}", "[value withheld]")


def column_converter(
    column: Column,
    text_length: TextLength,
    units_per_character: int = 1,
    decimal_as_text: bool = False,
    bind: Callable[[object], object] | None = None,
) -> Converter:
    """The converter of one column.

    `text_length` and `units_per_character` (the most length units one character can take)
    describe how the database counts string lengths. With `decimal_as_text` decimals are bound
    as validated text, which the database parses exactly. `bind` adapts non-null values for a
    driver that cannot bind the Python type.
    """
    full_check = _full_check(column, text_length, decimal_as_text)
    fast = _fast_path(column, full_check, units_per_character)
    if bind is None:
        return fast

    def convert_and_bind(raw: object) -> object:
        value = fast(raw)
        return value if value is None else bind(value)

    return convert_and_bind


def _full_check(column: Column, text_length: TextLength, decimal_as_text: bool) -> Converter:
    if column.type == "string":
        parse = _string_parser(column.max_length, text_length)
    elif column.type == "decimal":
        assert column.precision is not None and column.scale is not None
        parse = _decimal_parser(column.precision, column.scale, decimal_as_text)
    else:
        parse = {
            "integer": _integer,
            "boolean": _boolean,
            "date": _date,
            "timestamp": _timestamp,
        }[column.type]
    nullable = column.nullable
    # CSV has no null: an empty field is NULL for every type except string, where it is ''.
    empty_is_null = column.type != "string"

    def convert(raw: object) -> object:
        if raw is None or (empty_is_null and raw == ""):
            if nullable:
                return None
            raise InvalidValueError("empty value in a column declared nullable: false")
        return parse(raw)

    return convert


def _fast_path(column: Column, full_check: Converter, units_per_character: int) -> Converter:
    """A shortcut for typical CSV text that defers to `full_check` for anything else."""
    if column.type == "string":
        # Within this many characters the value fits however the database counts.
        limit = (column.max_length or 2**62) // units_per_character

        def string(raw: object) -> object:
            if (
                type(raw) is str
                and len(raw) <= limit
                and "\x00" not in raw
                and (raw.isascii() or SURROGATE.search(raw) is None)
            ):
                return raw
            return full_check(raw)

        return string
    if column.type == "integer":

        def integer(raw: object) -> object:
            if (
                type(raw) is str
                and len(raw) <= SAFE_INTEGER_DIGITS
                and raw.isdigit()
                and raw.isascii()
            ):
                return int(raw)
            return full_check(raw)

        return integer
    if column.type == "date":

        def iso_date(raw: object) -> object:
            # fromisoformat() reads exactly YYYY-MM-DD from a 10-character string with dashes
            # at 4 and 7 (its other forms, YYYYMMDD and YYYY-Www-D, do not fit that shape).
            if type(raw) is str and len(raw) == 10 and raw[4] == raw[7] == "-" and raw.isascii():
                try:
                    return date.fromisoformat(raw)
                except ValueError:
                    pass
            return full_check(raw)

        return iso_date
    if column.type == "timestamp":

        def naive_timestamp(raw: object) -> object:
            # YYYY-MM-DDTHH:MM:SS exactly, the commonest form; anything else takes the full check.
            if (
                type(raw) is str
                and len(raw) == 19
                and raw[4] == raw[7] == "-"
                and raw[10] in "T "
                and raw[13] == raw[16] == ":"
                and raw.isascii()
            ):
                try:
                    return datetime.fromisoformat(raw)
                except ValueError:
                    pass
            return full_check(raw)

        return naive_timestamp
    if column.type == "boolean":

        def boolean(raw: object) -> object:
            value = BOOLEAN_TEXT.get(raw) if type(raw) is str else None
            return full_check(raw) if value is None else value

        return boolean
    return full_check


def _string_parser(max_length: int | None, text_length: TextLength) -> Converter:
    def parse(raw: object) -> str:
        if not isinstance(raw, str):
            raise InvalidValueError(f"expected a string, got {type(raw).__name__}")
        # PostgreSQL refuses NUL in text; SQL Server would keep it. Refuse it everywhere.
        if "\x00" in raw:
            raise InvalidValueError("NUL character in a string")
        surrogate = SURROGATE.search(raw)
        if surrogate:
            code_point = f"U+{ord(surrogate.group()):04X}"
            raise InvalidValueError(f"not valid Unicode: a lone surrogate ({code_point})")
        if max_length is not None and text_length(raw) > max_length:
            raise InvalidValueError(f"{text_length(raw)} characters, the column holds {max_length}")
        return raw

    return parse


def _integer(raw: object) -> int:
    if isinstance(raw, bool):
        raise InvalidValueError("expected an integer, got a boolean")
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, str) and INTEGER_TEXT.fullmatch(raw):
        value = int(raw)
    else:
        raise InvalidValueError("not an integer: {value}", raw)
    if value not in INTEGER_RANGE:
        raise InvalidValueError("integer out of the 64-bit range: {value}", raw)
    return value


def _decimal_parser(precision: int, scale: int, as_text: bool) -> Converter:
    integer_digits = precision - scale
    # Text that fits decimal(precision, scale) as it is: at most `integer_digits` digits
    # before the point (after leading zeros), at most `scale` after it (before trailing zeros).
    fitting_text = re.compile(
        rf"[+-]?(?=\.?[0-9])0*[0-9]{{0,{integer_digits}}}(?:\.[0-9]{{0,{scale}}}0*)?"
    )
    quantum = Decimal(1).scaleb(-scale)
    not_fitting = f"{{value}} is not a decimal({precision},{scale}) number"

    def parse(raw: object) -> Decimal | str:
        if isinstance(raw, str):
            if not fitting_text.fullmatch(raw):
                raise InvalidValueError(not_fitting, raw)
            # Validated text parses to the same number in the database as here.
            return raw if as_text else Decimal(raw).quantize(quantum, context=DECIMAL_CONTEXT)
        if isinstance(raw, bool) or not isinstance(raw, Decimal | int):
            raise InvalidValueError("not a decimal number: {value}", raw)
        value = Decimal(raw)
        try:
            exact = value.quantize(quantum, context=DECIMAL_CONTEXT)
        except InvalidOperation:
            exact = None
        if exact is None or exact != value or (exact and exact.adjusted() >= integer_digits):
            raise InvalidValueError(not_fitting, raw)
        return format(exact, "f") if as_text else exact

    return parse


def _boolean(raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str):
        value = BOOLEAN_TEXT.get(raw.lower())
        if value is not None:
            return value
    raise InvalidValueError("not a boolean (true/false/t/f/1/0): {value}", raw)


def _date(raw: object) -> date:
    if isinstance(raw, str) and DATE_TEXT.fullmatch(raw):
        try:
            return date.fromisoformat(raw)
        except ValueError as error:
            raise InvalidValueError(f"not a date: {{value}} ({error})", raw) from None
    raise InvalidValueError("not a date (YYYY-MM-DD): {value}", raw)


def _timestamp(raw: object) -> datetime:
    """Stored as naive UTC: an offset is applied, a naive value is taken as UTC.

    JSON has no date type, so a JSON number is read as seconds since the epoch (how DynamoDB
    items and stream records usually carry time).
    """
    if isinstance(raw, str) and TIMESTAMP_TEXT.fullmatch(raw):
        try:
            value = datetime.fromisoformat(raw)
        except ValueError as error:
            raise InvalidValueError(f"not a timestamp: {{value}} ({error})", raw) from None
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value
    if isinstance(raw, int | Decimal) and not isinstance(raw, bool):
        try:
            return datetime.fromtimestamp(float(raw), UTC).replace(tzinfo=None)
        except (OverflowError, OSError, ValueError):
            raise InvalidValueError("not a time since the epoch: {value}", raw) from None
    raise InvalidValueError("not an ISO 8601 timestamp: {value}", raw)


def _shown(raw: object) -> str:
    """A value as quoted in an error report: bounded, so a huge field cannot bloat the report."""
    text = repr(raw)
    return text if len(text) <= 80 else text[:77] + "..."
