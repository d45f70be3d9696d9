"""The demo's figures per dataset, and the summary table printed at the end."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from functions.catalog import Catalog


@dataclass
class DatasetFigures:
    """What one dataset went through: rows taken from its source (`extracted`: the extractor's
    rows, a file's rows, the table's stream records), rows the loader staged, rows of its
    reporting table (`merged`, of which `deleted` tombstones), rows in quarantined files."""

    platform: str
    dataset: str
    path: str
    extracted: int = 0
    loaded: int = 0
    merged: int = 0
    deleted: int = 0
    quarantined: int = 0
    seconds: float = 0.0

    @property
    def qualified_name(self) -> str:
        """`<platform>/<dataset>`."""
        return f"{self.platform}/{self.dataset}"


def count_merged(database: Path, catalog: Catalog, figures: Iterable[DatasetFigures]) -> None:
    """Fills `merged` and `deleted` from each dataset's reporting table, `<table>_current`."""
    with sqlite3.connect(database) as connection:
        for figure in figures:
            table = catalog.find(figure.qualified_name).reporting_table
            merged, deleted = connection.execute(
                f'SELECT COUNT(*), COALESCE(SUM("_deleted"), 0) FROM "{table}"'
            ).fetchone()
            figure.merged, figure.deleted = merged, deleted
    connection.close()


HEADINGS = (
    "platform",
    "dataset",
    "path",
    "extracted",
    "loaded",
    "merged",
    "quarantined",
    "seconds",
)


def summary_table(figures: Iterable[DatasetFigures]) -> list[str]:
    """The table's lines: one row per dataset, then the totals."""
    rows = [
        (
            figure.platform,
            figure.dataset,
            figure.path,
            f"{figure.extracted:,}",
            f"{figure.loaded:,}",
            f"{figure.merged:,}",
            f"{figure.quarantined:,}",
            f"{figure.seconds:.2f}",
        )
        for figure in figures
    ]
    totals = (
        "total",
        "",
        "",
        *(f"{sum(int(row[i].replace(',', '')) for row in rows):,}" for i in range(3, 7)),
        f"{sum(float(row[7]) for row in rows):.2f}",
    )
    widths = [max(len(row[i]) for row in (HEADINGS, *rows, totals)) for i in range(len(HEADINGS))]

    def line(cells: tuple[str, ...]) -> str:
        text = [
            cell.ljust(width) if i < 3 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  " + "  ".join(text).rstrip()

    rule = "  " + "  ".join("-" * width for width in widths)
    return [line(HEADINGS), rule, *(line(row) for row in rows), rule, line(totals)]
