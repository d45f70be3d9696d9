"""`python -m functions.loader` on local files and S3 objects, into SQLite and PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from functions.loader.cli import EXIT_DATABASE, EXIT_REJECTED, EXIT_USAGE, main

pytestmark = pytest.mark.services

REPO_ROOT = Path(__file__).resolve().parents[2]
READERS = (
    "reader_id,school_id,display_name,reading_age,created_at\n1,4,Mia,9.5,2026-01-05T09:00:00\n"
)


@pytest.fixture
def readers_file(tmp_path: Path) -> Path:
    path = tmp_path / "readers.csv"
    path.write_text(READERS, encoding="utf-8")
    return path


def test_a_local_file_loads_once(readers_file, database_url, query, capsys) -> None:
    arguments = ["load", "--dataset", "reading/readers", "--db", database_url, str(readers_file)]

    statuses = [main(arguments), main(arguments)]

    outputs = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert statuses == [0, 0]
    assert [(o["status"], o["row_count"]) for o in outputs] == [
        ("loaded", 1),
        ("already_loaded", 1),
    ]
    assert outputs[0]["source"] == readers_file.resolve().as_uri()
    assert query("SELECT reader_id, display_name FROM reading_readers") == [(1, "Mia")]


def test_a_rejected_file_exits_non_zero_naming_line_and_column(
    tmp_path, database_url, query, capsys
) -> None:
    path = tmp_path / "readers.csv"
    path.write_text(READERS.replace("9.5", "nine"), encoding="utf-8")

    status = main(["load", "--dataset", "reading/readers", "--db", database_url, str(path)])

    assert status == EXIT_REJECTED
    assert capsys.readouterr().err == (
        f"rejected: {path.resolve().as_uri()}, line 2, column reading_age: "
        "'nine' is not a decimal(4,1) number\n"
    )
    assert query("SELECT COUNT(*) FROM reading_readers") == [(0,)]


def test_an_s3_object_loads(aws, database_url, query) -> None:
    bucket = f"backfill-{uuid.uuid4().hex[:10]}"
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    s3.put_object(Bucket=bucket, Key="archive/reading/readers/r.csv", Body=READERS.encode())
    location = f"s3://{bucket}/archive/reading/readers/r.csv"

    status = main(["load", "--dataset", "reading/readers", "--db", database_url, location])

    assert status == 0
    assert query("SELECT _source_object FROM reading_readers") == [(location,)]


def test_usage_and_database_errors_have_their_own_exit_status(readers_file, tmp_path) -> None:
    unknown = ["load", "--dataset", "reading/nope", "--db", f"sqlite:///{tmp_path}/a.db", "x"]
    down = [
        "load",
        "--dataset",
        "reading/readers",
        "--db",
        "postgresql://u:p@127.0.0.1:1/db",
        str(readers_file),
    ]

    assert main(unknown) == EXIT_USAGE
    assert main(down) == EXIT_DATABASE


def test_the_module_runs_from_the_command_line(readers_file, tmp_path) -> None:
    database = tmp_path / "cli.db"
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "functions.loader",
            "load",
            "--dataset",
            "reading/readers",
            "--db",
            f"sqlite:///{database}",
            str(readers_file),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["row_count"] == 1


@pytest.mark.parametrize(
    "command",
    [
        ["merge", "reading/readers"],
        ["prune", "reading/readers"],
        ["schema"],
        ["load", "--dataset", "reading/readers"],
    ],
)
def test_a_database_failing_to_create_the_tables_exits_with_its_message(
    command, readers_file, tmp_path, capsys
) -> None:
    # SQLite opens any file, and fails at the first statement: here, creating the tables.
    not_a_database = tmp_path / "notes.db"
    not_a_database.write_text("not a database, " * 100, encoding="utf-8")
    arguments = [*command, "--db", f"sqlite:///{not_a_database}"]

    status = main([*arguments, str(readers_file)] if command[0] == "load" else arguments)

    assert status == EXIT_DATABASE
    assert capsys.readouterr().err == "error: database: file is not a database\n"
