"""The csv-spectrum acid test: every file loads, and the staged rows match its JSON exactly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from functions.catalog import parse_platform
from functions.loader.database import connect, parse_target
from functions.loader.load import load_stream
from functions.loader.schema import create_schema
from functions.loader.source import SourceObject

pytestmark = pytest.mark.services

SPECTRUM = Path(__file__).resolve().parents[1] / "data" / "csv-spectrum"
CASES = sorted(path.stem for path in (SPECTRUM / "csvs").glob("*.csv"))


def spectrum_dataset(name: str, header: list[str]):
    """A dataset of string columns named after the file's header, declared like any other."""
    document = {
        "platform": "spectrum",
        "datasets": [
            {
                "name": name,
                "source": f"csv-spectrum {name}.csv",
                "table": f"spectrum_{name}",
                "keys": ["c0"],
                "columns": [
                    {"name": f"c{index}", "type": "string", "field": field, "nullable": index != 0}
                    for index, field in enumerate(header)
                ],
            }
        ],
    }
    return parse_platform(document, source="csv-spectrum")[0]


@pytest.mark.parametrize("case", CASES)
def test_every_csv_spectrum_file_loads_as_its_json(case: str, database_url: str) -> None:
    expected = json.loads((SPECTRUM / "json" / f"{case}.json").read_text(encoding="utf-8"))
    header = list(expected[0])
    dataset = spectrum_dataset(case, header)
    database = connect(parse_target(database_url))
    create_schema(database.connection, database.dialect, [dataset])
    path = SPECTRUM / "csvs" / f"{case}.csv"

    with path.open("rb") as stream:
        result = load_stream(database, dataset, stream, SourceObject.local(path))

    names = ", ".join(f"c{index}" for index in range(len(header)))
    cursor = database.connection.cursor()
    cursor.execute(f"SELECT {names} FROM spectrum_{case} ORDER BY _source_line")
    staged = [dict(zip(header, row, strict=True)) for row in cursor.fetchall()]
    database.close()
    assert result.row_count == len(expected)
    assert staged == expected
