"""Splits a request's entries into batches within an AWS API's count and size limits."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

Entry = TypeVar("Entry")


def size_bounded_batches(
    entries: Sequence[Entry], size: Callable[[Entry], int], max_count: int, max_bytes: int
) -> Iterator[list[Entry]]:
    """Consecutive entries, in order, at most `max_count` and `max_bytes` (by `size`) a batch.

    An entry larger than `max_bytes` raises ValueError: callers refuse those first, as poison.
    """
    batch: list[Entry] = []
    batch_bytes = 0
    for entry in entries:
        entry_bytes = size(entry)
        if entry_bytes > max_bytes:
            raise ValueError(f"an entry of {entry_bytes} bytes exceeds the {max_bytes}-byte batch")
        if batch and (len(batch) == max_count or batch_bytes + entry_bytes > max_bytes):
            yield batch
            batch, batch_bytes = [], 0
        batch.append(entry)
        batch_bytes += entry_bytes
    if batch:
        yield batch
