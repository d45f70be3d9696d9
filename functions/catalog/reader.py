"""Reads `datasets/<platform>.yaml` files into a validated `Catalog`.

Every rule that protects the loader is checked here, once, so that nothing read from a file at
load time can reach SQL: table and column names must be plain identifiers, and the types and
sizes must be ones every dialect can create.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from functions.catalog.model import (
    COLUMN_TYPES,
    FILE_FORMATS,
    LEDGER_TABLE,
    MERGE_LEDGER_TABLE,
    PRIVACY_RULES,
    REPORTING_SUFFIX,
    WATERMARK_TYPES,
    Catalog,
    CatalogError,
    Column,
    Dataset,
    Extract,
)

# Platform and dataset names are S3 prefixes and CLI arguments: lower case, no separators.
LAYOUT_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")
# A stream's string keys, in characters: two of them and the sequence number stay within SQL
# Server's 1,700-byte nonclustered index key.
MAX_STREAM_KEY_LENGTH = 400
# Table and column names: 63 characters is PostgreSQL's limit, the smallest of the dialects.
# A leading underscore is reserved for the load metadata columns.
SQL_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,62}")
# A staging table's name leaves room for its reporting table's suffix.
MAX_TABLE_LENGTH = 63 - len(REPORTING_SUFFIX)
# Source relations and columns: plain identifiers, optionally `schema.`-qualified relations.
SOURCE_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_$]{0,127}")
# A keyed hash is 64 hex characters (HMAC-SHA-256).
HASH_LENGTH = 64
# SQL Server's nvarchar(n) stops at 4000; longer strings are declared without max_length.
MAX_STRING_LENGTH = 4000
MAX_DECIMAL_PRECISION = 38

_PLATFORM_KEYS = {"platform", "datasets"}
_DATASET_KEYS = {
    "name",
    "source",
    "table",
    "format",
    "keys",
    "columns",
    "watermark",
    "extract",
    "staging_retention_days",
}
_COLUMN_KEYS = {"name", "type", "nullable", "field", "max_length", "precision", "scale", "privacy"}
_EXTRACT_KEYS = {"database", "from", "where", "batch_rows"}


def load_catalog(directory: str | Path) -> Catalog:
    """Reads and validates every `*.yaml` file of `directory`."""
    return catalog_from_documents(read_documents(directory))


def read_documents(directory: str | Path) -> dict[str, tuple[str, Any]]:
    """Platform -> (source file, parsed YAML document) for every `*.yaml` file of `directory`."""
    # Imported here: the Lambda functions read the JSON bundle and ship no YAML parser.
    import yaml  # noqa: PLC0415

    paths = sorted(Path(directory).glob("*.yaml"))
    if not paths:
        raise CatalogError(f"{directory}: no dataset catalog files (*.yaml)")
    return {
        path.stem: (str(path), yaml.safe_load(path.read_text(encoding="utf-8"))) for path in paths
    }


def catalog_from_documents(documents: Mapping[str, tuple[str, Any]]) -> Catalog:
    """Validates platform -> (source, document) pairs into one catalog."""
    datasets: list[Dataset] = []
    for platform, (source, document) in documents.items():
        datasets.extend(parse_platform(document, source=source, expected_platform=platform))
    _check_unique_tables(datasets)
    return Catalog(datasets=tuple(datasets))


def parse_platform(
    document: Any, source: str, expected_platform: str | None = None
) -> list[Dataset]:
    """Validates one platform's catalog document; errors name `source` and the key."""
    where = _Where(source)
    mapping = where.mapping(document, "")
    where.only_keys(mapping, _PLATFORM_KEYS, "")
    platform = where.name(mapping, "platform", "platform", LAYOUT_NAME)
    if expected_platform is not None and platform != expected_platform:
        raise where.error("platform", f"must match the file name ({expected_platform!r})")
    entries = mapping.get("datasets")
    if not isinstance(entries, list) or not entries:
        raise where.error("datasets", "must be a non-empty list")
    datasets = [
        _parse_dataset(where, platform, entry, f"datasets[{index}]")
        for index, entry in enumerate(entries)
    ]
    _check_unique(where, [dataset.name for dataset in datasets], "datasets", "dataset name")
    return datasets


def _parse_dataset(where: _Where, platform: str, entry: Any, path: str) -> Dataset:
    mapping = where.mapping(entry, path)
    where.only_keys(mapping, _DATASET_KEYS, path)
    name = where.name(mapping, "name", f"{path}.name", LAYOUT_NAME)
    source = mapping.get("source")
    if not isinstance(source, str) or not source.strip():
        raise where.error(f"{path}.source", "must be a non-empty string")
    table = where.name(mapping, "table", f"{path}.table", SQL_IDENTIFIER)
    if len(table) > MAX_TABLE_LENGTH:
        raise where.error(
            f"{path}.table",
            f"at most {MAX_TABLE_LENGTH} characters: the reporting table adds '{REPORTING_SUFFIX}'",
        )
    if table.lower() in (LEDGER_TABLE, MERGE_LEDGER_TABLE):
        raise where.error(f"{path}.table", f"{table!r} is reserved for the loader's ledgers")
    file_format = mapping.get("format", "csv")
    if file_format not in FILE_FORMATS:
        raise where.error(f"{path}.format", f"must be one of {', '.join(FILE_FORMATS)}")
    column_entries = mapping.get("columns")
    if not isinstance(column_entries, list) or not column_entries:
        raise where.error(f"{path}.columns", "must be a non-empty list")
    parsed = [
        _parse_column(where, column, f"{path}.columns[{index}]")
        for index, column in enumerate(column_entries)
    ]
    columns = tuple(column for column in parsed if column.privacy != "drop")
    dropped = tuple(column.source_field for column in parsed if column.privacy == "drop")
    if not columns:
        raise where.error(f"{path}.columns", "must declare a column that is not dropped")
    _check_unique(where, [c.name.lower() for c in columns], f"{path}.columns", "column name")
    _check_unique(
        where, [c.source_field.lower() for c in columns], f"{path}.columns", "column field"
    )
    keys = _parse_keys(where, mapping.get("keys"), columns, f"{path}.keys")
    watermark = _parse_watermark(where, mapping.get("watermark"), columns, f"{path}.watermark")
    extract = None
    if "extract" in mapping:
        extract = _parse_extract(where, mapping["extract"], f"{path}.extract")
        if watermark is None:
            raise where.error(f"{path}.watermark", "is required for an extracted dataset")
        if file_format != "csv":
            raise where.error(
                f"{path}.format", "an extracted dataset is csv: the extractor writes it"
            )
        hashed_keys = [c.name for c in columns if c.name in keys and c.privacy == "hash"]
        if hashed_keys:
            # The extractor stores the last key values in its state to resume after them.
            raise where.error(
                f"{path}.keys",
                "an extracted dataset cannot be keyed on hashed columns "
                f"({', '.join(hashed_keys)})",
            )
    retention = (
        where.integer(mapping, "staging_retention_days", f"{path}.staging_retention_days", 1, 3650)
        if "staging_retention_days" in mapping
        else 30
    )
    if file_format == "dynamodb-stream":
        # A REMOVE envelope carries only the keys: every other column must accept NULL.
        for column in columns:
            if column.name not in keys and not column.nullable:
                raise where.error(
                    f"{path}.columns",
                    f"{column.name}: non-key columns of a stream must be nullable",
                )
            # The staging table is unique on the keys (plus the sequence number): an index
            # takes bounded keys only (SQL Server: 1,700 bytes, nvarchar being 2 per character).
            if (
                column.name in keys
                and column.type == "string"
                and (column.max_length is None or column.max_length > MAX_STREAM_KEY_LENGTH)
            ):
                raise where.error(
                    f"{path}.columns",
                    f"{column.name}: string keys of a stream need a max_length of at most "
                    f"{MAX_STREAM_KEY_LENGTH}",
                )
    return Dataset(
        platform=platform,
        name=name,
        source=source,
        table=table,
        file_format=file_format,
        columns=columns,
        keys=keys,
        watermark=watermark,
        extract=extract,
        dropped_fields=dropped,
        staging_retention_days=retention,
    )


def _parse_watermark(
    where: _Where, watermark: Any, columns: tuple[Column, ...], path: str
) -> str | None:
    if watermark is None:
        return None
    by_name = {column.name: column for column in columns}
    if not isinstance(watermark, str) or watermark not in by_name:
        raise where.error(path, f"{watermark!r} is not a declared column")
    column = by_name[watermark]
    if column.type not in WATERMARK_TYPES or column.nullable:
        raise where.error(
            path, f"{watermark!r} must be a non-nullable {' or '.join(WATERMARK_TYPES)} column"
        )
    return watermark


def _parse_extract(where: _Where, entry: Any, path: str) -> Extract:
    mapping = where.mapping(entry, path)
    where.only_keys(mapping, _EXTRACT_KEYS, path)
    database = where.name(mapping, "database", f"{path}.database", LAYOUT_NAME)
    relation = mapping.get("from")
    parts = relation.split(".") if isinstance(relation, str) else []
    if not 1 <= len(parts) <= 2 or not all(SOURCE_IDENTIFIER.fullmatch(p) for p in parts):
        raise where.error(f"{path}.from", "must be `table` or `schema.table`, plain identifiers")
    row_filter = mapping.get("where")
    if row_filter is not None and not _one_condition(row_filter):
        raise where.error(
            f"{path}.where",
            "must be one SQL condition: balanced parentheses, no ';', '?' or comments",
        )
    batch_rows = (
        where.integer(mapping, "batch_rows", f"{path}.batch_rows", 100, 100_000)
        if "batch_rows" in mapping
        else 10_000
    )
    return Extract(database, relation, row_filter, batch_rows)


def _one_condition(text: Any) -> bool:
    """A filter the extractor can put in parentheses beside its own conditions: trusted catalog
    text (reviewed like code), checked only against mistakes that would change the query's
    shape: a second statement, a comment, a parameter marker, unbalanced parentheses."""
    if not isinstance(text, str) or not text.strip():
        return False
    if any(mark in text for mark in (";", "--", "/*", "#", "?")):
        return False
    depth = 0
    for character in text:
        depth += {"(": 1, ")": -1}.get(character, 0)
        if depth < 0:
            return False
    return depth == 0


def _parse_column(where: _Where, entry: Any, path: str) -> Column:
    mapping = where.mapping(entry, path)
    where.only_keys(mapping, _COLUMN_KEYS, path)
    name = where.name(mapping, "name", f"{path}.name", SQL_IDENTIFIER)
    column_type = mapping.get("type")
    if column_type not in COLUMN_TYPES:
        raise where.error(f"{path}.type", f"must be one of {', '.join(COLUMN_TYPES)}")
    nullable = mapping.get("nullable", True)
    if not isinstance(nullable, bool):
        raise where.error(f"{path}.nullable", "must be true or false")
    field = mapping.get("field")
    if field is not None and (not isinstance(field, str) or not field.strip()):
        raise where.error(f"{path}.field", "must be a non-empty string")
    sizes = _parse_sizes(where, mapping, column_type, path)
    privacy = mapping.get("privacy", "keep")
    if privacy not in PRIVACY_RULES:
        raise where.error(f"{path}.privacy", f"must be one of {', '.join(PRIVACY_RULES)}")
    if privacy == "hash" and (
        column_type != "string"
        or (sizes.get("max_length") is not None and sizes["max_length"] < HASH_LENGTH)
    ):
        raise where.error(
            f"{path}.privacy",
            f"a hashed column holds {HASH_LENGTH} hex characters: type string, max_length "
            f"of at least {HASH_LENGTH}",
        )
    return Column(
        name=name, type=column_type, nullable=nullable, field=field, privacy=privacy, **sizes
    )


def _parse_sizes(
    where: _Where, mapping: Mapping[str, Any], column_type: str, path: str
) -> dict[str, int | None]:
    allowed = {"string": {"max_length"}, "decimal": {"precision", "scale"}}.get(column_type, set())
    for key in ("max_length", "precision", "scale"):
        if key in mapping and key not in allowed:
            raise where.error(f"{path}.{key}", f"does not apply to type {column_type}")
    sizes: dict[str, int | None] = {}
    if column_type == "string" and "max_length" in mapping:
        sizes["max_length"] = where.integer(
            mapping, "max_length", f"{path}.max_length", 1, MAX_STRING_LENGTH
        )
    if column_type == "decimal":
        precision = where.integer(
            mapping, "precision", f"{path}.precision", 1, MAX_DECIMAL_PRECISION
        )
        sizes["precision"] = precision
        sizes["scale"] = where.integer(mapping, "scale", f"{path}.scale", 0, precision)
    return sizes


def _parse_keys(
    where: _Where, keys: Any, columns: tuple[Column, ...], path: str
) -> tuple[str, ...]:
    if not isinstance(keys, list) or not keys or not all(isinstance(k, str) for k in keys):
        raise where.error(path, "must be a non-empty list of column names")
    by_name = {column.name: column for column in columns}
    for key in keys:
        if key not in by_name:
            raise where.error(path, f"{key!r} is not a declared column")
        if by_name[key].nullable:
            raise where.error(path, f"{key!r} is a key column: declare it nullable: false")
    _check_unique(where, keys, path, "key")
    return tuple(keys)


def _check_unique(where: _Where, names: list[str], path: str, what: str) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise where.error(path, f"duplicate {what} {name!r}")
        seen.add(name)


def _check_unique_tables(datasets: list[Dataset]) -> None:
    """Staging and reporting tables share one namespace: no name may be taken twice."""
    owners: dict[str, str] = {}
    for dataset in datasets:
        for kind, table in (("staging", dataset.table), ("reporting", dataset.reporting_table)):
            if table.lower() in owners:
                raise CatalogError(
                    f"{kind} table {table!r} of {dataset.qualified_name} is already the "
                    f"{owners[table.lower()]}"
                )
            owners[table.lower()] = f"{kind} table of {dataset.qualified_name}"


class _Where:
    """Builds errors that name the catalog file and the offending key."""

    def __init__(self, source: str) -> None:
        self.source = source

    def error(self, path: str, message: str) -> CatalogError:
        return CatalogError(f"{self.source}: {path or '<document>'}: {message}")

    def mapping(self, value: Any, path: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.error(path, "must be a mapping")
        return value

    def only_keys(self, mapping: Mapping[str, Any], allowed: set[str], path: str) -> None:
        unknown = sorted(set(mapping) - allowed)
        if unknown:
            prefix = f"{path}." if path else ""
            raise self.error(f"{prefix}{unknown[0]}", "unknown key")

    def name(self, mapping: Mapping[str, Any], key: str, path: str, pattern: re.Pattern) -> str:
        value = mapping.get(key)
        if not isinstance(value, str) or not pattern.fullmatch(value):
            raise self.error(path, f"must match {pattern.pattern}")
        return value

    def integer(
        self, mapping: Mapping[str, Any], key: str, path: str, lowest: int, highest: int
    ) -> int:
        value = mapping.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or not lowest <= value <= highest:
            raise self.error(path, f"must be an integer from {lowest} to {highest}")
        return value
