"""What the catalog declares: datasets, their columns and their staging tables."""

from __future__ import annotations

from dataclasses import dataclass

COLUMN_TYPES = ("string", "integer", "decimal", "boolean", "date", "timestamp")
# What leaves the source for a column: its value, or a keyed hash of it (joins still work, the
# value does not travel). A column whose rule is `drop` is not a column of the dataset at all.
PRIVACY_RULES = ("keep", "hash", "drop")
# A watermark grows with every change of a row: an updated-at time or an increasing id.
WATERMARK_TYPES = ("integer", "timestamp")
# The reporting table of a dataset is its staging table's name with this suffix.
REPORTING_SUFFIX = "_current"

# `dynamodb-stream` is JSON Lines whose lines are change envelopes written by the stream
# pipeline; the loader flattens each envelope into one staging row.
FILE_FORMATS = ("csv", "jsonl", "dynamodb-stream")


# The loader's ledger shares the staging tables' schema, so no dataset may take its name.
LEDGER_TABLE = "load_ledger"
# The merge step's ledger: likewise reserved.
MERGE_LEDGER_TABLE = "merge_ledger"


class CatalogError(ValueError):
    """The catalog files are invalid; the message names the file and the key."""


class UnknownDatasetError(LookupError):
    """No dataset of that platform and name is declared."""


@dataclass(frozen=True)
class Column:
    """One declared column of a dataset."""

    name: str
    type: str
    nullable: bool = True
    # Name of the CSV header or JSON key the values come from, when it differs from `name`.
    field: str | None = None
    max_length: int | None = None
    precision: int | None = None
    scale: int | None = None
    # "keep" or "hash" (see PRIVACY_RULES).
    privacy: str = "keep"

    @property
    def source_field(self) -> str:
        """The header or key that feeds this column."""
        return self.field or self.name


@dataclass(frozen=True)
class Extract:
    """Where the extractor reads a dataset: a table or view of one of the platform's replicas."""

    # The replica, by the name the platform's stack gives it (`platform.databases[].name`).
    database: str
    # `schema.table` or `table`, each part a plain identifier.
    relation: str
    # A row filter in the source's SQL, from the catalog (reviewed like code), or None.
    where: str | None = None
    batch_rows: int = 10_000


@dataclass(frozen=True)
class Dataset:
    """One dataset of a platform: the files of `incoming/<platform>/<name>/`."""

    platform: str
    name: str
    source: str
    table: str
    file_format: str
    columns: tuple[Column, ...]
    keys: tuple[str, ...]
    # The column that orders a row's versions (and bounds incremental extracts), or None.
    watermark: str | None = None
    extract: Extract | None = None
    # Source fields never read: declared `privacy: drop`, kept to say so.
    dropped_fields: tuple[str, ...] = ()
    # Merged staging rows are deleted after this many days.
    staging_retention_days: int = 30

    @property
    def reporting_table(self) -> str:
        """The table the merge keeps current: one row per key, deletes applied."""
        return self.table + REPORTING_SUFFIX

    @property
    def qualified_name(self) -> str:
        """`<platform>/<name>`, as used on the command line and in the landing layout."""
        return f"{self.platform}/{self.name}"

    @property
    def is_change_stream(self) -> bool:
        """True when the files are change envelopes from a DynamoDB stream."""
        return self.file_format == "dynamodb-stream"


@dataclass(frozen=True)
class Catalog:
    """Every dataset of every platform, looked up by platform and name."""

    datasets: tuple[Dataset, ...]

    def dataset(self, platform: str, name: str) -> Dataset:
        """The dataset declared as `<platform>/<name>`."""
        for dataset in self.datasets:
            if dataset.platform == platform and dataset.name == name:
                return dataset
        raise UnknownDatasetError(f"no dataset {platform}/{name} in the catalog")

    def find(self, qualified_name: str) -> Dataset:
        """The dataset named `<platform>/<name>`."""
        platform, _, name = qualified_name.partition("/")
        return self.dataset(platform, name)

    @property
    def platforms(self) -> tuple[str, ...]:
        """The platforms that have at least one dataset, in catalog order."""
        return tuple(dict.fromkeys(dataset.platform for dataset in self.datasets))
