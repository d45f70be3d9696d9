"""The catalog as functions receive it: every platform's document in one JSON file, written at
deploy time from `datasets/*.yaml` (validated on the way) and read at cold start without YAML."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from functions.catalog.model import Catalog, CatalogError
from functions.catalog.reader import catalog_from_documents, read_documents

BUNDLE_NAME = "catalog.json"
# Where a deployment puts the bundle in a function's package: beside `functions/`.
PACKAGED_BUNDLE = Path(__file__).resolve().parents[2] / BUNDLE_NAME


def bundle_file(environment: Mapping[str, str]) -> Path:
    """The bundle a function reads: CATALOG_FILE, or the one in its package."""
    return Path(environment.get("CATALOG_FILE") or PACKAGED_BUNDLE)


def catalog_bundle(directory: str | Path) -> str:
    """The JSON bundle of `directory`'s catalog files; raises CatalogError if any is invalid."""
    documents = read_documents(directory)
    catalog_from_documents(documents)
    bundle = {platform: document for platform, (_, document) in documents.items()}
    return json.dumps(bundle, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def load_catalog_bundle(path: str | Path) -> Catalog:
    """The catalog from a bundle written by `catalog_bundle`."""
    try:
        bundle = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as problem:
        raise CatalogError(f"{path}: cannot read the catalog bundle ({problem})") from None
    if not isinstance(bundle, dict):
        raise CatalogError(f"{path}: a catalog bundle maps platform names to catalog documents")
    return catalog_from_documents(
        {platform: (f"{path}:{platform}", doc) for platform, doc in bundle.items()}
    )
