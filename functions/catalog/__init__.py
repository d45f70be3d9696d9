"""The dataset catalog: which files the landing bucket accepts and the tables they load into."""

from functions.catalog.bundle import BUNDLE_NAME, catalog_bundle, load_catalog_bundle
from functions.catalog.model import (
    COLUMN_TYPES,
    FILE_FORMATS,
    LEDGER_TABLE,
    Catalog,
    CatalogError,
    Column,
    Dataset,
    UnknownDatasetError,
)
from functions.catalog.reader import MAX_DECIMAL_PRECISION, load_catalog, parse_platform

__all__ = [
    "BUNDLE_NAME",
    "COLUMN_TYPES",
    "FILE_FORMATS",
    "LEDGER_TABLE",
    "MAX_DECIMAL_PRECISION",
    "Catalog",
    "CatalogError",
    "Column",
    "Dataset",
    "UnknownDatasetError",
    "catalog_bundle",
    "load_catalog",
    "load_catalog_bundle",
    "parse_platform",
]
