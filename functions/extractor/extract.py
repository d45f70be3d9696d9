"""One dataset's extract: keyset pages from the window's start, one part each, then the state.

Memory stays bounded by a page: rows are fetched a slice at a time into the part being built,
and a part is uploaded and released before the next page is read. The watermark is stored
after every part of the run is written, never before.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from functions.catalog import Dataset
from functions.extractor.parts import PartWriter
from functions.extractor.privacy import ValueHasher
from functions.extractor.sql import Engine, PageQueries, page_queries
from functions.extractor.state import ExtractState, StateStore, storable_watermark
from functions.extractor.window import Window, window_after

# Rows taken from the driver at a time, within a page.
FETCH_ROWS = 1000


class KeysetError(RuntimeError):
    """The page cursor cannot move on: a NULL in the watermark or a key, or a page that ended
    where the one before did (the source compares the cursor differently than it sorts)."""


class NoProgressError(RuntimeError):
    """A run ran out of time before it read past the stored watermark: the next run would
    start from the same place and stop there again."""


@dataclass(frozen=True)
class Landing:
    """Where parts go: the landing bucket."""

    s3: Any
    bucket: str

    def put_part(self, key: str, body: bytes) -> None:
        """Uploads one part; an error propagates and the run stores no watermark."""
        self.s3.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=body,
            ContentType="text/csv",
            ContentEncoding="gzip",
        )


@dataclass(frozen=True)
class ExtractResult:
    """What one run of a dataset did."""

    dataset: str
    # "extracted", "unchanged" (no rows in the window) or "partial" (time ran out; the next
    # run goes on from the stored watermark).
    status: str
    window: str
    parts: int
    rows: int
    watermark: int | datetime | None

    def as_dict(self) -> dict[str, object]:
        """The result as logged and returned by the handler."""
        watermark = self.watermark
        return {
            "dataset": self.dataset,
            "status": self.status,
            "window": self.window,
            "parts": self.parts,
            "rows": self.rows,
            "watermark": watermark.isoformat() if isinstance(watermark, datetime) else watermark,
        }


@dataclass(frozen=True)
class DatasetExtract:
    """Everything a run of one dataset uses."""

    dataset: Dataset
    engine: Engine
    connection: Any
    landing: Landing
    states: StateStore
    hasher: ValueHasher | None
    overlap: timedelta
    # Called before each page: False stops the run there (Lambda's time is running out).
    may_start_page: Callable[[], bool] = lambda: True

    def run(self) -> ExtractResult:
        """Extracts the rows of the window; stores the watermark after the last part."""
        stored = self.states.read(self.dataset)
        window = window_after(self.dataset, stored.watermark if stored else None, self.overlap)
        queries = page_queries(self.dataset, self.engine)
        # The (watermark, keys) of the last row written: the next page starts after it.
        cursor: tuple[object, ...] | None = None
        parts = rows = 0
        complete = False
        while self.may_start_page():
            part, last_row = self._page(queries, window, cursor)
            if last_row is not None:
                self.landing.put_part(window.part_key(parts), part.finish())
                parts += 1
                rows += part.rows
                cursor = _moved_cursor(queries, cursor, last_row)
            if part.rows < self._batch_rows:
                complete = True
                break
        if cursor is None:
            # Nothing in the window: the stored state stands.
            return ExtractResult(
                dataset=self.dataset.qualified_name,
                status="unchanged" if complete else "partial",
                window=window.id,
                parts=0,
                rows=0,
                watermark=stored.watermark if stored else None,
            )
        watermark = storable_watermark(queries.order[0], cursor[0])
        if not complete and stored is not None and watermark <= stored.watermark:
            raise NoProgressError(
                f"{self.dataset.qualified_name}: out of time before passing watermark"
                f" {stored.watermark}: give the function more time or lower batch_rows"
            )
        self.states.write(self.dataset, ExtractState(watermark, window.id, parts, rows, complete))
        return ExtractResult(
            dataset=self.dataset.qualified_name,
            status="extracted" if complete else "partial",
            window=window.id,
            parts=parts,
            rows=rows,
            watermark=watermark,
        )

    @property
    def _batch_rows(self) -> int:
        assert self.dataset.extract is not None
        return self.dataset.extract.batch_rows

    def _page(
        self, queries: PageQueries, window: Window, cursor: Sequence[object] | None
    ) -> tuple[PartWriter, Sequence[object] | None]:
        """Reads one page into a part; returns it with the page's last row (None if empty)."""
        if cursor is not None:
            statement, parameters = queries.after_cursor, queries.after_cursor_parameters(cursor)
        elif window.start is not None:
            statement, parameters = queries.from_start, queries.from_start_parameters(window.start)
        else:
            statement, parameters = queries.every_row, []
        part = PartWriter(self.dataset, self.hasher)
        last: Sequence[object] | None = None
        db_cursor = self.connection.cursor()
        try:
            db_cursor.execute(statement, *parameters)
            while rows := db_cursor.fetchmany(FETCH_ROWS):
                part.write(rows)
                last = rows[-1]
        finally:
            db_cursor.close()
        return part, last


def _moved_cursor(
    queries: PageQueries, cursor: tuple[object, ...] | None, last_row: Sequence[object]
) -> tuple[object, ...]:
    """The cursor after a page: its last row's watermark and keys, which must have moved on
    (the same cursor again would read the same page forever)."""
    moved = queries.cursor_of(last_row)
    names = ", ".join(column.source_field for column in queries.order)
    if any(value is None for value in moved):
        raise KeysetError(f"a row has NULL in one of {names}: the pages cannot be ordered")
    if moved == cursor:
        raise KeysetError(
            f"a page ended on the same ({names}) as the one before: the source does not"
            " compare the bound cursor as it sorts it (e.g. a legacy SQL Server datetime)"
        )
    return moved
