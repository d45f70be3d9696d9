"""One scheduled run: every extracted dataset of the platforms in REPLICAS, or those an event
names, each on its own; one dataset's failure is reported and the others still run."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from functions.catalog import Catalog, Dataset, UnknownDatasetError
from functions.extractor.connections import ReplicaConnector
from functions.extractor.extract import DatasetExtract, Landing
from functions.extractor.privacy import ValueHasher
from functions.extractor.settings import ExtractorSettings
from functions.extractor.sql import ENGINES
from functions.extractor.state import StateStore


class ExtractConfigError(LookupError):
    """A dataset that cannot be extracted as configured: unknown, no extract, or no replica.
    (Hashed keys the catalog refuses: a run that stops early stores its last row's keys.)"""


@dataclass
class Extractor:
    """Runs extracts with one S3 client, Secrets Manager client and replica connector."""

    settings: ExtractorSettings
    catalog: Catalog
    s3: Any
    secrets: Any
    connector: ReplicaConnector

    def run(
        self, names: Sequence[str] | None, may_start_page: Callable[[], bool]
    ) -> list[dict[str, object]]:
        """Extracts the datasets `names` (`<platform>/<dataset>`), or every one with a replica;
        returns one result per dataset, failures included."""
        selected = list(names) if names is not None else self._every_extracted_dataset()
        hasher: ValueHasher | None = None
        results = []
        for name in selected:
            try:
                dataset = self._dataset(name)
                if hasher is None and any(c.privacy == "hash" for c in dataset.columns):
                    # Read once a run, not once a container: a rotated key applies at once.
                    hasher = ValueHasher.from_secret(
                        self.secrets, self.settings.hash_key_secret_arn
                    )
                results.append(self._extract(dataset, hasher, may_start_page))
            except Exception as error:
                results.append({"dataset": name, "status": "failed", "error": _described(error)})
        return results

    def _every_extracted_dataset(self) -> list[str]:
        return [
            dataset.qualified_name
            for dataset in self.catalog.datasets
            if dataset.extract is not None and dataset.platform in self.settings.replicas
        ]

    def _dataset(self, name: str) -> Dataset:
        try:
            dataset = self.catalog.find(name)
        except UnknownDatasetError as error:
            raise ExtractConfigError(str(error)) from None
        if dataset.extract is None:
            raise ExtractConfigError(f"{name} has no extract in the catalog")
        if dataset.extract.database not in self.settings.replicas.get(dataset.platform, {}):
            raise ExtractConfigError(
                f"{name} reads replica {dataset.extract.database!r}, which REPLICAS does not"
                f" list for platform {dataset.platform!r}"
            )
        return dataset

    def _extract(
        self,
        dataset: Dataset,
        hasher: ValueHasher | None,
        may_start_page: Callable[[], bool],
    ) -> dict[str, object]:
        assert dataset.extract is not None
        replica = self.settings.replicas[dataset.platform][dataset.extract.database]
        connection = self.connector.open(replica)
        extract = DatasetExtract(
            dataset=dataset,
            engine=ENGINES[replica.engine],
            connection=connection,
            landing=Landing(self.s3, self.settings.landing_bucket),
            states=StateStore(self.s3, self.settings.landing_bucket),
            hasher=hasher,
            overlap=self.settings.overlap,
            may_start_page=may_start_page,
        )
        try:
            return extract.run().as_dict()
        finally:
            # A connection broken mid-run cannot be closed either; the error that broke it is
            # the one to report.
            with contextlib.suppress(Exception):
                connection.close()


def _described(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"
