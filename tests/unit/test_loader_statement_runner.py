"""The statement runner keeps one transaction's rules while statements run on a worker thread."""

from __future__ import annotations

import threading
import time

import pyodbc
import pytest

from functions.loader.errors import RejectedFileError
from functions.loader.statement_runner import StatementRunner


class WatchedCursor:
    """A cursor that records every statement it is sent, and how many ran at once.

    A statement can be held until the test releases it (`gate`), take a while (`seconds`), or
    fail (`fail_on`: the index of the statement that raises).
    """

    def __init__(self, seconds: float = 0.0, fail_on: int | None = None) -> None:
        self.seconds = seconds
        self.fail_on = fail_on
        self.gate = threading.Event()
        self.gate.set()
        self.sent: list[str] = []
        self.finished: list[str] = []
        self.threads: set[int] = set()
        self.running = 0
        self.most_running = 0
        self._lock = threading.Lock()

    def execute(self, statement: str, parameters: list[object]) -> None:
        with self._lock:
            self.sent.append(statement)
            self.threads.add(threading.get_ident())
            self.running += 1
            self.most_running = max(self.most_running, self.running)
        try:
            self.gate.wait()
            time.sleep(self.seconds)
            if len(self.sent) - 1 == self.fail_on:
                raise pyodbc.DataError("22003", f"refused {statement}")
            self.finished.append(statement)
        finally:
            with self._lock:
                self.running -= 1


def test_statements_run_one_at_a_time_in_order_on_one_worker_thread() -> None:
    cursor = WatchedCursor(seconds=0.002)

    with StatementRunner(cursor) as statements:
        for number in range(20):
            statements.execute(f"s{number}", [])

    assert cursor.finished == [f"s{number}" for number in range(20)]
    assert cursor.most_running == 1
    assert len(cursor.threads) == 1
    assert threading.get_ident() not in cursor.threads


def test_execute_returns_while_the_statement_runs_and_leaving_waits_for_it() -> None:
    cursor = WatchedCursor()
    cursor.gate.clear()

    with StatementRunner(cursor) as statements:
        statements.execute("first", [])
        # The caller goes on (parsing the next batch, in the loader) while "first" is held.
        statements.execute("second", [])
        assert cursor.finished == []
        assert cursor.sent in ([], ["first"])
        cursor.gate.set()

    assert cursor.finished == ["first", "second"]


def test_nothing_is_sent_after_a_failed_statement() -> None:
    cursor = WatchedCursor(seconds=0.002, fail_on=1)

    with (
        pytest.raises(pyodbc.DataError, match="refused s1") as raised,
        StatementRunner(cursor) as statements,
    ):
        for number in range(10):
            statements.execute(f"s{number}", [])

    assert raised.type is pyodbc.DataError
    assert cursor.sent == ["s0", "s1"]
    assert cursor.finished == ["s0"]
    assert cursor.most_running == 1


def test_a_failure_is_raised_by_the_next_execute_and_on_leaving_the_block() -> None:
    cursor = WatchedCursor(fail_on=0)

    with pytest.raises(pyodbc.DataError, match="refused s0"), StatementRunner(cursor) as statements:
        statements.execute("s0", [])
        while cursor.running or not cursor.sent:
            time.sleep(0.001)
        time.sleep(0.05)  # the worker records the failure just after the cursor raised it
        with pytest.raises(pyodbc.DataError, match="refused s0") as first:
            statements.execute("s1", [])
        with pytest.raises(pyodbc.DataError) as again:
            statements.execute("s2", [])
        assert again.value is first.value

    assert cursor.sent == ["s0"]


def test_a_caller_error_waits_for_the_statement_in_flight_and_drops_the_queued_one() -> None:
    cursor = WatchedCursor(seconds=0.05)

    with pytest.raises(RejectedFileError, match="bad value"), StatementRunner(cursor) as statements:
        statements.execute("in flight", [])
        while not cursor.sent:
            time.sleep(0.001)
        statements.execute("queued", [])
        raise RejectedFileError("s3://landing/f.csv", "bad value", 7, "id")

    # The connection is idle once the block is left: the statement in flight finished, and the
    # one queued behind it was never sent.
    assert cursor.running == 0
    assert cursor.sent == ["in flight"]
    assert cursor.finished == ["in flight"]


def test_a_failed_statement_is_reported_before_a_later_caller_error() -> None:
    # GIVEN a statement that fails while the caller meets a bad value in later rows
    cursor = WatchedCursor(seconds=0.05, fail_on=0)

    # THEN the statement's database error is raised (the event is retried), as a synchronous
    # write would have raised it before the later rows were read; the rejection is its context
    with (
        pytest.raises(pyodbc.DataError, match="refused") as raised,
        StatementRunner(cursor) as statements,
    ):
        statements.execute("s0", [])
        while not cursor.sent:
            time.sleep(0.001)
        raise RejectedFileError("s3://landing/f.csv", "bad value", 7, "id")

    assert isinstance(raised.value.__context__, RejectedFileError)
    assert cursor.sent == ["s0"]


def test_an_interrupt_goes_on_as_it_is() -> None:
    cursor = WatchedCursor(seconds=0.02, fail_on=0)

    with pytest.raises(KeyboardInterrupt), StatementRunner(cursor) as statements:
        statements.execute("s0", [])
        while not cursor.sent:
            time.sleep(0.001)
        raise KeyboardInterrupt

    assert cursor.running == 0


def test_execute_outside_the_block_is_refused() -> None:
    cursor = WatchedCursor()

    with pytest.raises(RuntimeError, match="outside its with block"):
        StatementRunner(cursor).execute("s0", [])

    assert cursor.sent == []
