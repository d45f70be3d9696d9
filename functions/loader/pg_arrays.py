"""PostgreSQL array literals: a whole column of a batch as one bound text parameter.

The loader binds `'{"a","b",NULL}'` and the server casts it (`CAST(? AS text[])`) and unnests
it, so a batch costs one parameter per column instead of one per value. The literal is data
only: array input parses it as elements of the cast's type, never as SQL.

Array input syntax (https://www.postgresql.org/docs/current/arrays.html#ARRAYS-IO): elements are
separated by commas; an unquoted NULL (any case) is the null value; a double-quoted element is
taken literally once `\\` escapes its `"` and `\\`. So every string is quoted, and a string
"NULL" stays a string.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime

NULL = "NULL"
# Strings reaching the loader never hold NUL (PostgreSQL text cannot store it, and the
# converters refuse it), so it can mark element boundaries while a whole column is escaped
# with two str.replace calls instead of two per value.
BOUNDARY = "\x00"
# Distinct dates kept formatted per column: a file's dates repeat (days, not instants), and a
# dict lookup is about 6x cheaper than date.isoformat(). Cleared when full, so memory is bounded.
DATE_TEXTS_LIMIT = 100_000

# Encodes one column of a batch (Python values as the converters produce them, None for NULL).
ArrayEncoder = Callable[[Sequence[object]], str]


def text_array(values: Sequence[object]) -> str:
    """`{"...","...",NULL}`: every string double-quoted with `\\` and `"` backslash-escaped."""
    if None in values:
        # NULL must stay unquoted: escape the strings apart, then quote all but the nulls.
        quoted = [NULL if value is None else _quoted(value) for value in values]
        return "{" + ",".join(quoted) + "}"
    joined = BOUNDARY.join(values)  # type: ignore[arg-type]  # a text column holds str or None
    if joined.count(BOUNDARY) != len(values) - 1:
        # A NUL would split its value in two and shift the rest of the column: never guess.
        raise ValueError("a string holds NUL, which PostgreSQL text cannot store")
    escaped = joined.replace("\\", "\\\\").replace('"', '\\"')
    return '{"' + escaped.replace(BOUNDARY, '","') + '"}'


def _quoted(value: object) -> str:
    assert isinstance(value, str)
    if BOUNDARY in value:
        raise ValueError("a string holds NUL, which PostgreSQL text cannot store")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def plain_array(values: Sequence[object]) -> str:
    """`{1,-2,NULL}` for values whose str() needs no quoting.

    Integers, booleans (`True`/`False`, which boolean input reads in any case) and decimals as
    validated text (`[+-]digits.digits`) hold no comma, brace, quote, backslash or space, and no
    letter sequence "None": only a null becomes "None", and then NULL.
    """
    return "{" + ",".join(map(str, values)).replace("None", NULL) + "}"


def timestamp_array(values: Sequence[object]) -> str:
    """`{2026-11-26T10:00:00.123456,NULL}`: ISO 8601, which timestamp input reads exactly.

    The values are naive UTC, as the converters produce them: the text of an aware datetime
    would carry an offset, which PostgreSQL's `timestamp` input ignores.
    """
    if None in values:
        texts = [NULL if value is None else _iso_timestamp(value) for value in values]
        return "{" + ",".join(texts) + "}"
    return "{" + ",".join(map(datetime.isoformat, values)) + "}"  # type: ignore[arg-type]


def _iso_timestamp(value: object) -> str:
    assert isinstance(value, datetime)
    return value.isoformat()


class DateArray:
    """`{2026-11-26,NULL}`, with the ISO text of each distinct date remembered."""

    def __init__(self) -> None:
        self._texts = _DateTexts()

    def __call__(self, values: Sequence[object]) -> str:
        return "{" + ",".join(map(self._texts.__getitem__, values)) + "}"


class _DateTexts(dict[object, str]):
    """date -> ISO text, filled on first use; None -> NULL."""

    def __init__(self) -> None:
        super().__init__({None: NULL})

    def __missing__(self, value: object) -> str:
        if not isinstance(value, date) or isinstance(value, datetime):
            raise TypeError(f"not a date: {value!r}")
        if len(self) >= DATE_TEXTS_LIMIT:
            self.clear()
            self[None] = NULL
        text = self[value] = value.isoformat()
        return text
