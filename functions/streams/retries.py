"""Batch puts that fail entry by entry: resend only the failed entries, with backoff.

Kinesis PutRecords and Firehose PutRecordBatch answer 200 even when some entries failed
(throttled, internal error); each failed entry's result carries an `ErrorCode`. Resending the
whole batch would duplicate the entries that got through, so only the failed ones are resent.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

Entry = TypeVar("Entry")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to wait before resending: exponential backoff, full jitter."""

    attempts: int = 5
    base_seconds: float = 0.1
    cap_seconds: float = 2.0
    # Injected so tests neither wait nor depend on chance.
    sleep: Callable[[float], None] = time.sleep
    uniform: Callable[[float, float], float] = random.uniform

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number `retry` (0 for the first resend)."""
        return self.uniform(0.0, min(self.cap_seconds, self.base_seconds * 2**retry))


@dataclass(frozen=True)
class FailedEntry(Generic[Entry]):
    """An entry still failing after the last attempt, with the error its last result gave."""

    entry: Entry
    error_code: str
    error_message: str


def send_resending_failures(
    entries: Sequence[Entry],
    send: Callable[[Sequence[Entry]], Sequence[Mapping[str, Any]]],
    policy: RetryPolicy,
) -> list[FailedEntry[Entry]]:
    """Sends `entries` with `send` (which returns one result per entry, in order) and resends
    those whose result has an `ErrorCode`; returns the ones that never got through."""
    pending = list(entries)
    failures: list[FailedEntry[Entry]] = []
    for attempt in range(policy.attempts):
        if attempt:
            policy.sleep(policy.delay(attempt - 1))
        results = send(pending)
        failures = [
            FailedEntry(entry, result["ErrorCode"], result.get("ErrorMessage", ""))
            for entry, result in zip(pending, results, strict=True)
            if result.get("ErrorCode")
        ]
        if not failures:
            return []
        pending = [failure.entry for failure in failures]
    return failures
