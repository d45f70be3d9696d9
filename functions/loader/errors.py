"""The two ways a load can fail: the file's fault, or the database's (which may just be
stopped out of hours)."""

from __future__ import annotations


class RejectedFileError(Exception):
    """The file cannot be loaded as it is: it goes to quarantine and is never retried."""

    def __init__(
        self,
        source: str,
        message: str,
        line: int | None = None,
        column: str | None = None,
        without_value: str | None = None,
    ) -> None:
        self.source = source
        self.reason = message
        # The reason without the file's contents, where `message` quotes some.
        self.reason_without_value = message if without_value is None else without_value
        self.line = line
        self.column = column
        super().__init__(self.describe())

    def describe(self) -> str:
        """One line naming the file, and the line and column where known."""
        where = self.source
        if self.line is not None:
            where += f", line {self.line}"
        if self.column is not None:
            where += f", column {self.column}"
        return f"{where}: {self.reason}"

    def as_report(self) -> dict[str, object]:
        """The error report written beside a quarantined file."""
        return {
            "source": self.source,
            "line": self.line,
            "column": self.column,
            "error": self.reason,
        }

    def as_alert(self) -> dict[str, object]:
        """The report without the offending value: alerts leave the encrypted bucket."""
        return {**self.as_report(), "error": self.reason_without_value}


class DatabaseUnavailableError(Exception):
    """The database could not be reached: the file stays in `incoming/` and the event is retried."""


class DatabaseStoppedError(DatabaseUnavailableError):
    """The database could not be reached while its schedule has it stopped, or still starting:
    not an outage. The file stays in `incoming/` for the incoming sweeper; the event succeeds."""
