"""Reads a report's SQL: its `:name` parameters, turned into the qmark placeholders of DB-API,
and the checks that keep it one read-only query.

The scan skips string literals, quoted and bracketed identifiers and comments, so a `:name` or a
keyword inside them is text, and PostgreSQL's `::type` cast is not a parameter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Statements and clauses that write or run code: a report only reads. `INTO` catches SQL
# Server's `SELECT ... INTO new_table`; a data-modifying CTE needs one of the others.
WRITING_KEYWORDS = frozenset(
    {
        "ALTER",
        "CALL",
        "CREATE",
        "DELETE",
        "DROP",
        "EXEC",
        "EXECUTE",
        "GRANT",
        "INSERT",
        "INTO",
        "MERGE",
        "REVOKE",
        "TRUNCATE",
        "UPDATE",
    }
)
_PARAMETER_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")
# What opens a skipped region, and what closes it.
_SKIPPED = {"'": "'", '"': '"', "[": "]", "--": "\n", "/*": "*/"}


class SqlTextError(ValueError):
    """The SQL is not one read-only query with named parameters."""


@dataclass(frozen=True)
class QmarkQuery:
    """The SQL with `?` placeholders, and the parameter bound to each, in order."""

    sql: str
    parameter_names: tuple[str, ...]


def to_qmark(sql: str) -> QmarkQuery:
    """Replaces every `:name` outside literals and comments with `?`; checks that the SQL is one
    SELECT (or WITH ... SELECT) that writes nothing and uses no positional placeholder."""
    pieces: list[str] = []
    names: list[str] = []
    words: list[str] = []
    index = 0
    while index < len(sql):
        opener = _opener_at(sql, index)
        if opener:
            end = _region_end(sql, index, opener)
            pieces.append(sql[index:end])
            index = end
            continue
        character = sql[index]
        if sql.startswith("::", index):
            pieces.append("::")
            index += 2
        elif character == ":" and (match := _PARAMETER_NAME.match(sql, index + 1)):
            names.append(match.group())
            pieces.append("?")
            index = match.end()
        elif character == "?":
            raise SqlTextError("use named parameters (:name), not '?'")
        elif match := _WORD.match(sql, index):
            words.append(match.group().upper())
            pieces.append(match.group())
            index = match.end()
        else:
            if character == ";" and sql[index + 1 :].strip():
                raise SqlTextError("must be one statement: text follows ';'")
            pieces.append(character)
            index += 1
    _check_read_only(words)
    return QmarkQuery("".join(pieces).strip().rstrip(";").rstrip(), tuple(names))


def _opener_at(sql: str, index: int) -> str | None:
    for opener in ("--", "/*", "'", '"', "["):
        if sql.startswith(opener, index):
            return opener
    return None


def _region_end(sql: str, index: int, opener: str) -> int:
    """The index just past the region `opener` starts at `index` (a doubled quote stays in)."""
    closer = _SKIPPED[opener]
    position = index + len(opener)
    while True:
        found = sql.find(closer, position)
        if found < 0:
            if opener == "--":
                return len(sql)
            raise SqlTextError(f"unterminated {opener}...{closer.strip() or 'line'} in the SQL")
        end = found + len(closer)
        if closer in ("'", '"', "]") and sql.startswith(closer, end):
            position = end + 1
            continue
        return end


def _check_read_only(words: list[str]) -> None:
    if not words or words[0] not in ("SELECT", "WITH"):
        raise SqlTextError("must be a query: SELECT ... or WITH ... SELECT ...")
    writing = sorted(set(words) & WRITING_KEYWORDS)
    if writing:
        raise SqlTextError(f"must only read: {writing[0]} is not allowed in a report")
