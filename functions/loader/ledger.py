"""The load ledger: one row per loaded object version, written in the load's own transaction.

Claiming an object inserts its row first. The primary key makes a second claim of the same
version fail: at once when the first load committed (a redelivered event), or, while the first
load is still running, after the database has made the second wait on the first's key lock.
Either way the second load becomes a no-op and the rows are written once.
"""

from __future__ import annotations

from typing import Any

from functions.catalog import LEDGER_TABLE, Dataset
from functions.loader.database import Database
from functions.loader.schema import LEDGER_COLUMNS
from functions.loader.source import SourceObject


class Ledger:
    """Claims and completes ledger rows through one database's cursor."""

    def __init__(self, database: Database) -> None:
        self.database = database
        quote = database.dialect.quote
        table = quote(LEDGER_TABLE)
        names = ", ".join(quote(column.name) for column in LEDGER_COLUMNS)
        markers = ", ".join("?" for _ in LEDGER_COLUMNS)
        self._insert = f"INSERT INTO {table} ({names}) VALUES ({markers})"
        self._update = (
            f"UPDATE {table} SET {quote('row_count')} = ? WHERE {quote('ledger_key')} = ?"
        )
        self._select = (
            f"SELECT {quote('load_id')}, {quote('row_count')} FROM {table} "
            f"WHERE {quote('ledger_key')} = ?"
        )

    def claim(
        self,
        cursor: Any,
        source: SourceObject,
        dataset: Dataset,
        load_id: str,
        loaded_at: object,
    ) -> bool:
        """Inserts the object's row; False when the object is (being) loaded by another load.

        After False the transaction is unusable (PostgreSQL aborts it): roll it back.
        """
        row = (
            source.ledger_key,
            source.bucket,
            source.key,
            source.version,
            dataset.qualified_name,
            load_id,
            None,
            loaded_at,
        )
        try:
            cursor.execute(self._insert, row)
        except self.database.driver.IntegrityError:
            return False
        return True

    def complete(self, cursor: Any, source: SourceObject, row_count: int) -> None:
        """Records how many rows the load inserted, just before it commits: skipped duplicates
        of a change stream not counted, except on SQL Server, which does not say (`load.py`)."""
        cursor.execute(self._update, (row_count, source.ledger_key))

    def lookup(self, cursor: Any, source: SourceObject) -> tuple[str, int] | None:
        """(load id, row count) of a committed load of this object version, if any."""
        cursor.execute(self._select, (source.ledger_key,))
        row = cursor.fetchone()
        return None if row is None else (row[0], row[1])
