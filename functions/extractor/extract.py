"""One dataset's extract: keyset pages from the window's start, one part each, then the state.

Memory stays bounded by a page: rows are fetched a slice at a time into the part being built,
and a part is uploaded and released before the next page is read. The state is stored after
every part of the run is written, never before.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from functions.catalog import Dataset
from functions.extractor.parts import PartWriter
from functions.extractor.privacy import ValueHasher
from functions.extractor.sql import Engine, PageQueries, page_queries
from functions.extractor.state import ExtractState, StateStore, storable_value
from functions.extractor.window import Window, window_after

# Rows taken from the driver at a time, within a page.
FETCH_ROWS = 1000


class KeysetError(RuntimeError):
    """The page cursor cannot move on: a NULL in the watermark or a key, or a page that ended
    where the one before did (the source compares the cursor differently than it sorts)."""


@dataclass(frozen=True)
class Landing:
    """Where parts go: the landing bucket."""

    s3: Any
    bucket: str

    def put_part(self, key: str, body: bytes) -> None:
        """Uploads one part; an error propagates and the run stores no state."""
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
    # "extracted", "unchanged" (no rows in the window, or every part the same as the last
    # run's) or "partial" (time ran out; the next run goes on after the stored cursor).
    status: str
    window: str
    parts: int
    rows: int
    # Parts not written again: the last run wrote the same bytes under the same key.
    skipped: int
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
            "skipped": self.skipped,
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
        """Extracts the rows of the window; stores the state after the last part."""
        stored = self.states.read(self.dataset)
        window = window_after(
            self.dataset,
            stored.watermark if stored else None,
            self.overlap,
            stored.resume_keys if stored else None,
        )
        written_before = stored.part_digests if stored else {}
        queries = page_queries(self.dataset, self.engine)
        # The (watermark, keys) of the last row written: the next page starts after it.
        cursor = window.after
        digests: dict[str, str] = {}
        rows = skipped = 0
        complete = False
        while self.may_start_page():
            part, last_row = self._page(queries, window, cursor)
            if last_row is not None:
                key = window.part_key(len(digests))
                body = part.finish()
                digests[key] = hashlib.sha256(body).hexdigest()
                if written_before.get(key) == digests[key]:
                    # A new version of the same bytes would only be loaded and merged again.
                    skipped += 1
                else:
                    self.landing.put_part(key, body)
                rows += part.rows
                cursor = _moved_cursor(queries, cursor, last_row)
            if part.rows < self._batch_rows:
                complete = True
                break
        if cursor is None or not digests:
            # Nothing in the window: the stored state stands.
            return ExtractResult(
                dataset=self.dataset.qualified_name,
                status="unchanged" if complete else "partial",
                window=window.id,
                parts=0,
                rows=0,
                skipped=0,
                watermark=stored.watermark if stored else None,
            )
        watermark_column, *key_columns = queries.order
        watermark = storable_value(watermark_column, cursor[0])
        # The catalog takes integer and timestamp watermarks only.
        assert isinstance(watermark, int | datetime)
        state = ExtractState(
            watermark=watermark,
            resume_keys=None
            if complete
            else tuple(
                storable_value(column, value)
                for column, value in zip(key_columns, cursor[1:], strict=True)
            ),
            window=window.id,
            parts=len(digests),
            rows=rows,
            part_digests=digests,
        )
        if state != stored:
            self.states.write(self.dataset, state)
        status = "extracted" if skipped < len(digests) else "unchanged"
        return ExtractResult(
            dataset=self.dataset.qualified_name,
            status=status if complete else "partial",
            window=window.id,
            parts=len(digests),
            rows=rows,
            skipped=skipped,
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
