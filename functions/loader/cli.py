"""`python -m functions.loader`: load a local file or an S3 object by hand, merge or prune a
dataset's reporting table, or create tables.

    python -m functions.loader load --dataset maths/pupils --db sqlite:///local.db pupils.csv
    python -m functions.loader load --dataset maths/pupils --db "$DATABASE_URL" s3://bucket/key
    python -m functions.loader merge maths/pupils --db "$DATABASE_URL"
    python -m functions.loader prune maths/pupils --db "$DATABASE_URL"
    python -m functions.loader schema --db "$DATABASE_URL" [--dataset maths/pupils ...]

A load by hand goes through the same ledger as the function: loading a file twice is a no-op.
Like the function it then merges and prunes the dataset; it does not move S3 objects. The exit
status is 0 when loaded or already loaded (and merged), 1 when the file was rejected, 2 for
usage errors and 3 when the database cannot be reached or fails, the merge after a load included.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

from functions.catalog import CatalogError, Dataset, UnknownDatasetError, load_catalog
from functions.loader.database import Database, connect, parse_target
from functions.loader.errors import DatabaseUnavailableError, RejectedFileError
from functions.loader.load import LoadResult, load_stream
from functions.loader.merge import MergeLockError, merge, merge_after_load, merge_failed, prune
from functions.loader.s3_body import buffered_body
from functions.loader.schema import create_schema
from functions.loader.settings import DEFAULT_CATALOG_DIR
from functions.loader.source import SourceObject

EXIT_REJECTED = 1
EXIT_USAGE = 2
EXIT_DATABASE = 3
DATABASE_HELP = "sqlite:///path, postgresql://..., mssql://... or an ODBC connection string"


def main(arguments: Sequence[str] | None = None) -> int:
    """Runs the command line; returns the exit status."""
    parser = _parser()
    options = parser.parse_args(arguments)
    try:
        catalog = load_catalog(options.catalog)
        datasets = [catalog.find(name) for name in options.dataset or ()]
        target = parse_target(options.db)
    except (CatalogError, UnknownDatasetError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    try:
        database = connect(target)
    except DatabaseUnavailableError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_DATABASE
    try:
        if options.command == "schema":
            create_schema(database.connection, database.dialect, datasets or catalog.datasets)
            print(f"created missing tables for {len(datasets or catalog.datasets)} dataset(s)")
            return 0
        if options.command in ("merge", "prune"):
            return _merge_or_prune(database, datasets[0], options.command)
        if len(datasets) != 1:
            print("error: load takes exactly one --dataset", file=sys.stderr)
            return EXIT_USAGE
        return _load(database, datasets[0], options.file)
    except (database.driver.Error, MergeLockError) as error:
        # Creating the tables included: any database failure exits 3 with its message.
        print(f"error: database: {error}", file=sys.stderr)
        return EXIT_DATABASE
    finally:
        database.close()


def _load(database: Database, dataset: Dataset, location: str) -> int:
    create_schema(database.connection, database.dialect, [dataset])
    try:
        result = _load_location(database, dataset, location)
    except RejectedFileError as rejection:
        print(f"rejected: {rejection.describe()}", file=sys.stderr)
        return EXIT_REJECTED
    outcome = {**result.as_dict(), **merge_after_load(database, dataset)}
    print(json.dumps(outcome))
    return EXIT_DATABASE if merge_failed(outcome) else 0


def _merge_or_prune(database: Database, dataset: Dataset, command: str) -> int:
    create_schema(database.connection, database.dialect, [dataset])
    step = merge if command == "merge" else prune
    result = step(database, dataset)
    print(json.dumps(result.as_dict()))
    return 0


def _load_location(database: Database, dataset: Dataset, location: str) -> LoadResult:
    if location.startswith("s3://"):
        import boto3  # noqa: PLC0415 -- only S3 loads need the AWS SDK

        parts = urlsplit(location)
        bucket, key = parts.netloc, parts.path.lstrip("/")
        response = boto3.client("s3").get_object(Bucket=bucket, Key=key)
        source = SourceObject.s3(bucket, key, response.get("VersionId"), response["ETag"])
        with buffered_body(response["Body"]) as stream:
            return load_stream(database, dataset, stream, source)
    path = Path(location)
    with path.open("rb") as stream:
        return load_stream(database, dataset, stream, SourceObject.local(path))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m functions.loader", description=__doc__)
    parser.add_argument("--catalog", default=DEFAULT_CATALOG_DIR, help="dataset catalog directory")
    commands = parser.add_subparsers(dest="command", required=True)
    load = commands.add_parser("load", help="load one file into its staging table")
    load.add_argument("--dataset", action="append", required=True, help="<platform>/<name>")
    load.add_argument("--db", required=True, help=DATABASE_HELP)
    load.add_argument("file", help="a local path or s3://bucket/key")
    for name, purpose in (
        ("merge", "merge a dataset's unmerged loads into its reporting table"),
        ("prune", "delete a dataset's merged staging rows and tombstones past its retention"),
    ):
        step = commands.add_parser(name, help=purpose)
        # A list of one, like load's --dataset.
        step.add_argument("dataset", nargs=1, help="<platform>/<name>")
        step.add_argument("--db", required=True, help=DATABASE_HELP)
    schema = commands.add_parser("schema", help="create missing ledgers and dataset tables")
    schema.add_argument("--dataset", action="append", help="<platform>/<name> (default: all)")
    schema.add_argument("--db", required=True, help=DATABASE_HELP)
    return parser
