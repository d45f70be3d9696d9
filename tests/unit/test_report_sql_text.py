"""A report's SQL: named parameters become qmark placeholders, and only one reading query
passes."""

from __future__ import annotations

import pytest

from functions.report_runner.sql_text import SqlTextError, to_qmark


def test_named_parameters_become_placeholders_in_order() -> None:
    query = to_qmark("SELECT a FROM t WHERE b >= :period_start AND c = :x AND d < :period_start")

    assert query.sql == "SELECT a FROM t WHERE b >= ? AND c = ? AND d < ?"
    assert query.parameter_names == ("period_start", "x", "period_start")


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT ':not_a_parameter' AS a FROM t",
        'SELECT 1 AS ":quoted" FROM t',
        "SELECT [col:name] FROM t",
        "SELECT 1 FROM t -- :comment\n",
        "SELECT 1 /* :block */ FROM t",
        "SELECT CAST(a AS text)::varchar FROM t",
        "SELECT 'it''s :fine' FROM t",
    ],
)
def test_text_inside_literals_comments_and_casts_is_not_a_parameter(sql: str) -> None:
    assert to_qmark(sql).parameter_names == ()


def test_a_trailing_semicolon_is_dropped() -> None:
    assert to_qmark("SELECT 1 FROM t;\n").sql == "SELECT 1 FROM t"


def test_common_table_expressions_read() -> None:
    query = to_qmark("WITH recent AS (SELECT * FROM t WHERE x > :since) SELECT * FROM recent")

    assert query.parameter_names == ("since",)


@pytest.mark.parametrize(
    ("sql", "problem"),
    [
        ("DELETE FROM t", "must be a query"),
        ("SELECT * INTO copy FROM t", "INTO is not allowed"),
        ("WITH gone AS (DELETE FROM t RETURNING *) SELECT * FROM gone", "DELETE is not allowed"),
        ("SELECT 1; DROP TABLE t", "one statement"),
        ("SELECT * FROM t WHERE a = ?", "named parameters"),
        ("SELECT 'unterminated FROM t", "unterminated"),
        ("-- only a comment", "must be a query"),
    ],
)
def test_anything_but_one_reading_query_is_refused(sql: str, problem: str) -> None:
    with pytest.raises(SqlTextError, match=problem):
        to_qmark(sql)


def test_keywords_inside_literals_are_text() -> None:
    assert to_qmark("SELECT 'DELETE' AS word, \"update\" FROM t").parameter_names == ()
