"""The sweeper's Lambda package holds its own folder and `functions.working_hours` only: its handler
must import nothing else of the project (the loader included), nor boto3 before a run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]
HANDLER_MODULE = "functions.incoming_sweeper.handler"
PACKAGED = ("functions.incoming_sweeper", "functions.working_hours")
IMPORTS = """
import importlib, json, sys
importlib.import_module({module!r})
print(json.dumps(sorted(sys.modules)))
"""


def test_the_handler_imports_only_packaged_project_code() -> None:
    result = subprocess.run(
        [sys.executable, "-c", IMPORTS.format(module=HANDLER_MODULE)],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    modules = json.loads(result.stdout)

    project = [name for name in modules if name.split(".")[0] == "functions"]
    assert [name for name in project if name != "functions" and not name.startswith(PACKAGED)] == []
    # boto3 (about 130 ms) is imported by the first run, not at the function's start.
    assert "boto3" not in modules
