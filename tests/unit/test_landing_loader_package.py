"""The loader's Lambda package: everything its handler imports from the project is in the zip,
and nothing it imports needs what the Lambda runtime and its layers do not have."""

from __future__ import annotations

import json
import subprocess
import sys

from components.function_package import PROJECT_DIR, package_files
from components.landing_loader import HANDLER, LOADER_PACKAGES

IMPORTS = """
import importlib, json, sys
importlib.import_module({module!r})
print(json.dumps(sorted(sys.modules)))
"""


def _modules_after_importing(module: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", IMPORTS.format(module=module)],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


def test_every_project_module_the_handler_imports_is_packaged():
    handler_module = HANDLER.rsplit(".", 1)[0]
    imported = [
        name
        for name in _modules_after_importing(handler_module)
        if name.split(".")[0] == "functions"
    ]
    packaged = set(package_files(LOADER_PACKAGES))
    for name in imported:
        path = name.replace(".", "/")
        assert f"{path}.py" in packaged or f"{path}/__init__.py" in packaged, name


def test_the_handler_needs_no_yaml_parser_and_no_deployment_tooling():
    modules = {name.split(".")[0] for name in _modules_after_importing(HANDLER.rsplit(".", 1)[0])}
    assert not {"yaml", "pulumi", "pulumi_aws", "components", "stack_config"} & modules
