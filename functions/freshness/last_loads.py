"""When each dataset last loaded successfully, from the loader's load ledger.

The ledger holds one row per loaded object version, inserted and committed in the load's own
transaction (functions/loader/ledger.py): a row is a successful load, and a failed load leaves
none. A load of an empty file counts (the pipeline delivered; there was nothing new), and so does
a load whose merge failed afterwards (that has an alarm of its own).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from functions.catalog import LEDGER_TABLE
from functions.loader.database import Database


def last_successful_loads(
    database: Database, datasets: Sequence[str]
) -> dict[str, datetime | None]:
    """Each dataset's latest ledger `loaded_at` (UTC), None for a dataset never loaded.

    Database errors propagate: a check that cannot read the ledger must fail, not pass.
    """
    if not datasets:
        return {}
    quote = database.dialect.quote
    markers = ", ".join("?" for _ in datasets)
    statement = (
        f"SELECT {quote('dataset')}, MAX({quote('loaded_at')}) FROM {quote(LEDGER_TABLE)} "
        f"WHERE {quote('dataset')} IN ({markers}) GROUP BY {quote('dataset')}"
    )
    cursor = database.connection.cursor()
    try:
        cursor.execute(statement, list(datasets))
        latest = {row[0]: as_utc(row[1]) for row in cursor.fetchall()}
    finally:
        cursor.close()
    return {dataset: latest.get(dataset) for dataset in datasets}


def as_utc(value: object) -> datetime:
    """A ledger timestamp as an aware UTC datetime: the loader writes naive UTC, which SQLite
    returns as ISO text and the ODBC drivers as naive datetimes."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if not isinstance(moment, datetime):
        raise TypeError(f"the ledger's loaded_at is not a timestamp: {value!r}")
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
