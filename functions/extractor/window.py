"""An extract's window: where a run starts reading, and the names of the parts it writes.

After a run that read to the end, the next starts at the stored watermark, less the overlap
for timestamps: a row committed late with a watermark up to that much older than the newest one
read is still picked up. An integer watermark starts at the stored value itself (`>=`): rows
sharing the last value are read again. Rows read twice are harmless: the merge keeps one row
per key, ordered by the watermark.

After a run that stopped early, the next resumes strictly after the (watermark, keys) of the
last row it wrote, without overlap: however many rows share one watermark, every run moves on.

The window's id depends only on where it starts, so a run that failed before it stored its
state is rerun from the same place under the same names.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from functions.catalog import Dataset

# 64 bits: windows of one dataset never share an id in practice.
WINDOW_ID_HEX_DIGITS = 16


@dataclass(frozen=True)
class Window:
    """Rows whose watermark is at least `start` (every row when None), or strictly after the
    cursor `after` when resuming, and their parts' names."""

    platform: str
    dataset: str
    start: int | datetime | None
    id: str
    # The (watermark, keys) of the last row a run that stopped early wrote.
    after: tuple[object, ...] | None = None

    def part_key(self, number: int) -> str:
        """The landing key of the window's part `number` (from 0)."""
        return f"incoming/{self.platform}/{self.dataset}/{self.id}-{number:05d}.csv.gz"


def window_after(
    dataset: Dataset,
    watermark: int | datetime | None,
    overlap: timedelta,
    resume_keys: Sequence[object] | None = None,
) -> Window:
    """The window of a run that finds `watermark` stored (None: nothing extracted yet), and
    `resume_keys` when the run that stored it stopped early."""
    start: int | datetime | None = watermark
    after = None
    if watermark is not None and resume_keys is not None:
        after = (watermark, *resume_keys)
    elif isinstance(watermark, datetime):
        start = watermark - overlap
    bounds = ["" if start is None else _text(start)]
    if after is not None:
        bounds += ["after", *(_text(value) for value in after)]
    identity = "\0".join((dataset.platform, dataset.name, *bounds))
    window_id = hashlib.sha256(identity.encode("utf-8")).hexdigest()[:WINDOW_ID_HEX_DIGITS]
    return Window(dataset.platform, dataset.name, start, window_id, after)


def _text(value: object) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)
