"""An extract's window: where a run starts reading, and the names of the parts it writes.

A run starts at the stored watermark, less the overlap for timestamps: a row committed late
with a watermark up to that much older than the newest one read is still picked up. An integer
watermark starts at the stored value itself (`>=`): rows sharing the last value are read again.
Rows read twice are harmless: the merge keeps one row per key, ordered by the watermark.

The window's id depends only on where it starts, so a run that failed before it stored its
watermark is rerun from the same place under the same names.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from functions.catalog import Dataset

# 64 bits: windows of one dataset never share an id in practice.
WINDOW_ID_HEX_DIGITS = 16


@dataclass(frozen=True)
class Window:
    """Rows whose watermark is at least `start` (every row when None), and their parts' names."""

    platform: str
    dataset: str
    start: int | datetime | None
    id: str

    def part_key(self, number: int) -> str:
        """The landing key of the window's part `number` (from 0)."""
        return f"incoming/{self.platform}/{self.dataset}/{self.id}-{number:05d}.csv.gz"


def window_after(dataset: Dataset, watermark: int | datetime | None, overlap: timedelta) -> Window:
    """The window of a run that finds `watermark` stored (None: nothing extracted yet)."""
    start: int | datetime | None = watermark
    if isinstance(watermark, datetime):
        start = watermark - overlap
    identity = "\0".join((dataset.platform, dataset.name, "" if start is None else _text(start)))
    window_id = hashlib.sha256(identity.encode("utf-8")).hexdigest()[:WINDOW_ID_HEX_DIGITS]
    return Window(dataset.platform, dataset.name, start, window_id)


def _text(start: int | datetime) -> str:
    return start.isoformat() if isinstance(start, datetime) else str(start)
