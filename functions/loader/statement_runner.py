"""Runs a cursor's statements on a worker thread, one at a time, while the caller works on.

pyodbc releases the GIL while a statement executes, so the loader parses and converts the next
batches on its own thread meanwhile. What keeps this one transaction on one connection:

- at most one statement in flight: a single worker thread executes the statements in order,
  and only it touches the cursor (and so its connection) inside the `with` block;
- nothing is sent after a failure: the worker discards every statement queued behind a failed
  one, and the failure is raised, with its own type, by the next `execute` or on leaving the
  block;
- leaving the block waits for the statement in flight and stops the worker, even on an error, so
  the caller commits or rolls back on an idle connection.
"""

from __future__ import annotations

import queue
import threading
from types import TracebackType
from typing import Any

# Statements handed over but not yet started. The worker needs the GIL to start and to finish
# each statement, and while the caller runs Python it gets it only at the interpreter's switch
# interval (5 ms). Handing a statement over only once the previous one had finished, the loader
# waited 0.5-0.7 s in all on the 1M-row benchmark; with one queued behind the running one, 0.02 s.
# A queued statement of 5,000 rows holds about 0.4 MB of literals.
QUEUED_STATEMENTS = 1

# The worker's order to stop once the queue is drained.
_STOP = None


class StatementRunner:
    """Executes statements on one cursor from one worker thread, inside a `with` block."""

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor
        self._pending: queue.Queue[tuple[str, list[object]] | None] = queue.Queue(QUEUED_STATEMENTS)
        self._worker: threading.Thread | None = None
        # Set by the worker only. The caller checks it before each hand-over; a failure it misses
        # there is still caught by the worker, which sends nothing after it.
        self._failure: BaseException | None = None
        # Set by the caller when it gives up: statements not yet started are discarded.
        self._abandoned = False

    def __enter__(self) -> StatementRunner:
        self._failure = None
        self._abandoned = False
        self._worker = threading.Thread(target=self._run, name="loader-statement-runner")
        self._worker.start()
        return self

    def execute(self, statement: str, parameters: list[object]) -> None:
        """Queues `statement` behind the running one; raises an earlier statement's error."""
        if self._worker is None:
            raise RuntimeError("StatementRunner.execute outside its with block")
        self._raise_failure()
        self._pending.put((statement, parameters))

    def __exit__(
        self,
        error_type: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        assert self._worker is not None
        if error is not None:
            # The load is failing: rows still queued would only be rolled back.
            self._abandoned = True
        try:
            self._pending.join()
            if error is not self._failure:
                self._raise_failure()
        except Exception:
            # A failed statement held rows from before whatever the caller was doing when its own
            # error came (parsing or encoding later rows): report the statement's error, as a
            # synchronous write would have. Only an interrupt (KeyboardInterrupt, SystemExit)
            # goes on as it is; the caller rolls back either way.
            if error is None or isinstance(error, Exception):
                raise
        finally:
            # Joins the worker (after the statement in flight): nothing runs on the connection
            # after this.
            self._pending.put(_STOP)
            self._worker.join()
            self._worker = None

    def _raise_failure(self) -> None:
        if self._failure is not None:
            raise self._failure

    def _run(self) -> None:
        while (job := self._pending.get()) is not _STOP:
            try:
                if self._failure is None and not self._abandoned:
                    self._cursor.execute(*job)
            except BaseException as failure:  # the caller re-raises it, type and all
                self._failure = failure
            finally:
                self._pending.task_done()
        self._pending.task_done()
