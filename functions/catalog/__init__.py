"""The dataset catalog: which files the landing bucket accepts and the tables they load into."""

from functions.catalog.bundle import BUNDLE_NAME, catalog_bundle, load_catalog_bundle
from functions.catalog.model import (
    COLUMN_TYPES,
    FILE_FORMATS,
    Catalog,
    CatalogError,
    Column,
    Dataset,
    UnknownDatasetError,
)
from functions.catalog.reader import load_catalog, parse_platform

__all__ = [
    "BUNDLE_NAME",
    "COLUMN_TYPES",
    "FILE_FORMATS",
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
