"""The dataset catalog as the functions receive it: `datasets/*.yaml` validated at deploy time
by the loader's own rules and shipped as one JSON file, so a bad catalog fails `pulumi preview`
and the functions need no YAML parser."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pulumi

from functions.catalog import BUNDLE_NAME, Catalog, catalog_bundle, load_catalog

CATALOG_DIR = Path(__file__).resolve().parent.parent / "datasets"


def catalog_assets() -> dict[str, pulumi.Asset]:
    """The catalog bundle to add to a function's package, beside `functions/`."""
    return {BUNDLE_NAME: pulumi.StringAsset(_bundle_text())}


# Read and validated once per program run, however many functions ship it.
@cache
def _bundle_text() -> str:
    return catalog_bundle(CATALOG_DIR)


@cache
def project_catalog() -> Catalog:
    """The catalog the functions receive, for the program's own decisions (what to extract)."""
    return load_catalog(CATALOG_DIR)
