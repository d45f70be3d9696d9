"""The dataset catalog: which files the landing bucket accepts and the tables they load into."""

from functions.catalog.bundle import (
    BUNDLE_NAME,
    PACKAGED_BUNDLE,
    bundle_file,
    catalog_bundle,
    load_catalog_bundle,
)
from functions.catalog.model import (
    COLUMN_TYPES,
    FILE_FORMATS,
    LEDGER_TABLE,
    MERGE_LEDGER_TABLE,
    Catalog,
    CatalogError,
    Column,
    Dataset,
    Extract,
    UnknownDatasetError,
)
from functions.catalog.reader import MAX_DECIMAL_PRECISION, load_catalog, parse_platform

__all__ = [
    "BUNDLE_NAME",
    "COLUMN_TYPES",
    "FILE_FORMATS",
    "LEDGER_TABLE",
    "MAX_DECIMAL_PRECISION",
    "MERGE_LEDGER_TABLE",
    "PACKAGED_BUNDLE",
    "Catalog",
    "CatalogError",
    "Column",
    "Dataset",
    "Extract",
    "UnknownDatasetError",
    "bundle_file",
    "catalog_bundle",
    "load_catalog",
    "load_catalog_bundle",
    "parse_platform",
]
