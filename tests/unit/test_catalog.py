"""The dataset catalog: the real files validate, and each rule names the file and the key."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest

from functions.catalog import CatalogError, Extract, load_catalog, parse_platform

CATALOG_DIR = Path(__file__).resolve().parents[2] / "datasets"

VALID = {
    "platform": "maths",
    "datasets": [
        {
            "name": "pupils",
            "source": "postgresql maths.public.pupils",
            "table": "maths_pupils",
            "keys": ["pupil_id"],
            "columns": [
                {"name": "pupil_id", "type": "integer", "nullable": False},
                {"name": "name", "type": "string", "max_length": 100},
                {"name": "score", "type": "decimal", "precision": 5, "scale": 2},
            ],
        }
    ],
}


def with_change(path: tuple, value: object) -> dict:
    document = copy.deepcopy(VALID)
    target = document
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return document


def test_the_project_catalog_is_valid_and_covers_every_platform() -> None:
    catalog = load_catalog(CATALOG_DIR)

    assert catalog.platforms == ("languages", "maths", "reading", "science")
    stream = catalog.find("languages/lesson_progress")
    assert (stream.file_format, stream.keys) == ("dynamodb-stream", ("learner_id", "lesson_id"))
    assert all(dataset.keys for dataset in catalog.datasets)


def test_a_valid_document_parses_into_typed_columns() -> None:
    (dataset,) = parse_platform(VALID, source="maths.yaml")

    assert dataset.qualified_name == "maths/pupils"
    assert dataset.file_format == "csv"
    assert [(c.name, c.type, c.nullable) for c in dataset.columns] == [
        ("pupil_id", "integer", False),
        ("name", "string", True),
        ("score", "decimal", True),
    ]
    assert (dataset.columns[2].precision, dataset.columns[2].scale) == (5, 2)


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("platform",), "Maths", "maths.yaml: platform: must match"),
        (("datasets", 0, "table"), 'x"; DROP TABLE y', "datasets[0].table: must match"),
        (("datasets", 0, "table"), "_ledger", "datasets[0].table: must match"),
        (("datasets", 0, "table"), "Load_Ledger", "datasets[0].table: 'Load_Ledger' is reserved"),
        (("datasets", 0, "columns", 1, "name"), "na me", "datasets[0].columns[1].name: must match"),
        (("datasets", 0, "columns", 1, "type"), "varchar", "datasets[0].columns[1].type: must be"),
        (("datasets", 0, "columns", 1, "max_length"), 4001, "columns[1].max_length: must be an"),
        (("datasets", 0, "columns", 2, "scale"), 6, "datasets[0].columns[2].scale: must be"),
        (("datasets", 0, "columns", 0, "max_length"), 3, "does not apply to type integer"),
        (("datasets", 0, "keys"), ["name"], "datasets[0].keys: 'name' is a key column"),
        (("datasets", 0, "keys"), ["nope"], "datasets[0].keys: 'nope' is not a declared column"),
        (("datasets", 0, "format"), "xml", "datasets[0].format: must be one of"),
        (("datasets", 0, "colour"), "red", "datasets[0].colour: unknown key"),
        (("datasets", 0, "columns", 1, "name"), "PUPIL_ID", "duplicate column name 'pupil_id'"),
    ],
)
def test_invalid_documents_fail_naming_the_key(path: tuple, value: object, message: str) -> None:
    with pytest.raises(CatalogError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_platform(with_change(path, value), source="maths.yaml", expected_platform="maths")


def test_a_stream_dataset_needs_nullable_non_key_columns() -> None:
    document = with_change(("datasets", 0, "format"), "dynamodb-stream")
    document["datasets"][0]["columns"][1]["nullable"] = False

    with pytest.raises(CatalogError, match="name: non-key columns of a stream must be nullable"):
        parse_platform(document, source="maths.yaml")


@pytest.mark.parametrize("max_length", [None, 401])
def test_a_stream_dataset_needs_bounded_string_keys(max_length) -> None:
    document = {
        "platform": "maths",
        "datasets": [
            {
                "name": "events",
                "source": "dynamodb events",
                "table": "maths_events",
                "format": "dynamodb-stream",
                "keys": ["id"],
                "columns": [{"name": "id", "type": "string", "nullable": False}],
            }
        ],
    }
    if max_length:
        document["datasets"][0]["columns"][0]["max_length"] = max_length

    with pytest.raises(CatalogError, match="id: string keys of a stream need a max_length of at"):
        parse_platform(document, source="maths.yaml")
    document["datasets"][0]["columns"][0]["max_length"] = 400
    assert parse_platform(document, source="maths.yaml")[0].keys == ("id",)


def test_two_datasets_cannot_share_a_staging_table(tmp_path: Path) -> None:
    (tmp_path / "maths.yaml").write_text(
        "platform: maths\ndatasets:\n"
        "  - {name: a, source: s, table: shared, keys: [id], columns: [{name: id, type: integer,"
        " nullable: false}]}\n"
        "  - {name: b, source: s, table: SHARED, keys: [id], columns: [{name: id, type: integer,"
        " nullable: false}]}\n"
    )

    with pytest.raises(
        CatalogError,
        match="staging table 'SHARED' of maths/b is already the staging table of maths/a",
    ):
        load_catalog(tmp_path)


def _extracted(**change) -> dict:
    """A platform document with one extracted dataset, changed by `change` (dataset keys)."""
    dataset = {
        "name": "staff",
        "source": "postgresql homework.public.staff",
        "table": "maths_staff",
        "keys": ["staff_id"],
        "watermark": "updated_at",
        "extract": {"database": "homework", "from": "public.staff"},
        "columns": [
            {"name": "staff_id", "type": "integer", "nullable": False},
            {"name": "email_hash", "type": "string", "field": "email", "privacy": "hash"},
            {"name": "updated_at", "type": "timestamp", "nullable": False},
            {"name": "date_of_birth", "type": "date", "privacy": "drop"},
        ],
    }
    dataset.update(change)
    return {"platform": "maths", "datasets": [dataset]}


def test_an_extracted_dataset_parses_with_its_rules() -> None:
    (dataset,) = parse_platform(_extracted(), source="maths.yaml")

    assert dataset.extract == Extract("homework", "public.staff", None, 10_000)
    assert dataset.watermark == "updated_at"
    assert [c.name for c in dataset.columns] == ["staff_id", "email_hash", "updated_at"]
    assert [c.privacy for c in dataset.columns] == ["keep", "hash", "keep"]
    assert dataset.dropped_fields == ("date_of_birth",)
    assert dataset.reporting_table == "maths_staff_current"
    assert dataset.staging_retention_days == 30


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"watermark": None}, "datasets[0].watermark: is required for an extracted dataset"),
        ({"watermark": "email_hash"}, "must be a non-nullable integer or timestamp column"),
        ({"watermark": "date_of_birth"}, "'date_of_birth' is not a declared column"),
        ({"format": "jsonl"}, "an extracted dataset is csv"),
        (
            {"extract": {"database": "homework", "from": "public.staff; drop table x"}},
            "plain identifiers",
        ),
        (
            {"extract": {"database": "homework", "from": "a.b.c"}},
            "must be `table` or `schema.table`",
        ),
        (
            {"extract": {"database": "homework", "from": "staff", "where": "1=1; --"}},
            "must be one SQL condition",
        ),
        (
            {"extract": {"database": "homework", "from": "staff", "where": "a = 1) OR (b = 2"}},
            "balanced parentheses",
        ),
        (
            {"extract": {"database": "homework", "from": "staff", "where": "role = ?"}},
            "must be one SQL condition",
        ),
        (
            {"extract": {"database": "homework", "from": "staff", "where": "1 # comment"}},
            "must be one SQL condition",
        ),
        ({"extract": {"database": "homework", "from": "staff", "batch_rows": 5}}, "from 100 to"),
        ({"extract": {"database": "homework", "from": "staff", "order": "x"}}, "order"),
        ({"staging_retention_days": 0}, "staging_retention_days: must be an integer from 1"),
        ({"table": "t" * 56}, "at most 55 characters"),
    ],
)
def test_extract_rules_fail_naming_the_key(change: dict, message: str) -> None:
    document = _extracted(**change)
    if change.get("watermark", "") is None:
        del document["datasets"][0]["watermark"]
    with pytest.raises(CatalogError, match=re.escape(message)):
        parse_platform(document, source="maths.yaml")


@pytest.mark.parametrize(
    ("column", "message"),
    [
        ({"type": "integer"}, "a hashed column holds 64 hex characters"),
        ({"type": "string", "max_length": 63}, "a hashed column holds 64 hex characters"),
        ({"privacy": "mask"}, "privacy: must be one of keep, hash, drop"),
    ],
)
def test_privacy_rules_fail_naming_the_key(column: dict, message: str) -> None:
    document = _extracted()
    document["datasets"][0]["columns"][1].update(column)
    with pytest.raises(CatalogError, match=re.escape(message)):
        parse_platform(document, source="maths.yaml")


def test_an_extracted_dataset_cannot_be_keyed_on_a_hashed_column() -> None:
    document = _extracted(keys=["email_hash"])
    document["datasets"][0]["columns"][1].update(nullable=False)
    with pytest.raises(CatalogError, match=r"cannot be keyed on hashed columns \(email_hash\)"):
        parse_platform(document, source="maths.yaml")


def test_a_staging_table_cannot_take_another_datasets_reporting_table(tmp_path: Path) -> None:
    (tmp_path / "maths.yaml").write_text(
        "platform: maths\ndatasets:\n"
        "  - {name: a, source: s, table: pupils, keys: [id], columns: [{name: id, type: integer,"
        " nullable: false}]}\n"
        "  - {name: b, source: s, table: pupils_current, keys: [id], columns: [{name: id,"
        " type: integer, nullable: false}]}\n",
        encoding="utf-8",
    )
    with pytest.raises(CatalogError, match="staging table 'pupils_current' of maths/b is already"):
        load_catalog(tmp_path)


@pytest.mark.parametrize("table", ["load_ledger", "MERGE_LEDGER"])
def test_the_loaders_ledgers_are_reserved_table_names(table: str) -> None:
    document = with_change(("datasets", 0, "table"), table)
    with pytest.raises(CatalogError, match="is reserved for the loader's ledgers"):
        parse_platform(document, source="maths.yaml")
