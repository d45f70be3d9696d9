"""Every Lambda zip of the mocked dev and prod estates holds what its code imports.

Each distinct zip (the `code` archive of every function of every hub and spoke) is written to a
directory and checked three ways:
- its handler module is in it and defines the handler function;
- every `import` of every `.py` file in it (read with `ast`, lazy imports included) names a
  module in the zip, in the standard library of the runtime, or in the runtime and layers
  (boto3, botocore, powertools, pyodbc);
- in an isolated interpreter (`-I -S`: no site-packages) with only that directory on sys.path,
  every module of the project that needs no layer to load imports, and where the zip holds the
  working-hours code, the holidays library it bundles names 2026-12-25 in England.
"""

from __future__ import annotations

import ast
import hashlib
import json
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path, PurePosixPath

import pulumi
import pytest

from offline.estate import Estate
from tests.stack_helpers import ENVIRONMENTS

FUNCTION = "aws:lambda/function:Function"
# The Lambda runtime has boto3 and botocore; powertools and pyodbc come from layers.
RUNTIME_AND_LAYERS = frozenset({"boto3", "botocore", "aws_lambda_powertools", "pyodbc"})
# Standard library modules this interpreter has and the python3.12 runtime does not (PEP 594 and
# PEP 632 removals).
REMOVED_IN_RUNTIME = frozenset({"asynchat", "asyncore", "distutils", "imp", "smtpd"})
# Imports in a zip that never run in Lambda, and why.
NEVER_RUN_IN_LAMBDA = {
    # The CLI and the deployment read the catalog's YAML; functions read catalog.json.
    ("functions/catalog/reader.py", "yaml"),
    # six's Python 2 branch.
    ("six.py", "StringIO"),
}
PROJECT_PACKAGE = "functions"
OPERATIONS_HANDLERS = {
    "functions.scheduler.handler.lambda_handler",
    "functions.freshness.handler.lambda_handler",
    "functions.alert_mailer.handler.lambda_handler",
    "functions.incoming_sweeper.handler.lambda_handler",
    "functions.loader.handler.lambda_handler",
}
WORKING_TIME = "functions/working_hours/working_time.py"
# Runs in the isolated interpreter: argv holds the zip's directory, the modules to import and
# whether to look a holiday up. Prints what failed, the holiday, and any module loaded from
# somewhere other than the zip or the standard library.
PROBE = """
import importlib, json, sys, sysconfig
directory, modules, look_up_holiday = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3] == "1"
sys.path.insert(0, directory)
failures = {}
for module in modules:
    try:
        importlib.import_module(module)
    except Exception as error:
        failures[module] = f"{type(error).__name__}: {error}"
holiday = None
if look_up_holiday:
    try:
        from datetime import date
        from functions.working_hours.working_time import holiday_name, schedule_from_dict
        schedule = schedule_from_dict("office-hours", {
            "timezone": "Europe/London",
            "periods": [{"days": ["mon-fri"], "start": "07:00", "stop": "19:00"}],
            "holidays": {"country": "GB", "subdivision": "ENG"},
            "enforced": False,
        })
        holiday = holiday_name(schedule, date(2026, 12, 25))
    except Exception as error:
        holiday = f"{type(error).__name__}: {error}"
roots = (directory, sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"])
elsewhere = sorted(
    name for name, loaded in list(sys.modules.items())
    if getattr(loaded, "__file__", None) and not loaded.__file__.startswith(roots)
)
print(json.dumps({"failures": failures, "holiday": holiday, "elsewhere": elsewhere}))
"""


@dataclass
class Package:
    """One distinct zip and the functions deployed with it."""

    files: dict[str, bytes]
    # "<stack> <resource name>" -> handler.
    handlers: dict[str, str]

    @property
    def label(self) -> str:
        return ", ".join(sorted(self.handlers))

    @cached_property
    def modules(self) -> frozenset[str]:
        """The dotted names of the zip's modules and packages (namespace packages included)."""
        names = set()
        for name in self.python_files():
            module = _module_name(name)
            parts = module.split(".")
            names.update(".".join(parts[:depth]) for depth in range(1, len(parts) + 1))
        return frozenset(names)

    def python_files(self, under: str = "") -> dict[str, bytes]:
        """The zip's `.py` files, those under the folder `under`."""
        return {
            name: content
            for name, content in self.files.items()
            if name.endswith(".py") and name.startswith(under)
        }


@cache
def _parsed(name: str, content: bytes) -> ast.Module:
    # Zips share most files (the holidays library alone is 360): each is parsed once.
    return ast.parse(content, filename=name)


def _archive_files(archive: pulumi.AssetArchive) -> dict[str, bytes]:
    files = {}
    for name, asset in archive.assets.items():
        if isinstance(asset, pulumi.FileAsset):
            files[name] = Path(asset.path).read_bytes()
        elif isinstance(asset, pulumi.StringAsset):
            files[name] = asset.text.encode()
        else:
            raise AssertionError(f"{name}: an asset of type {type(asset).__name__}")
    return files


@pytest.fixture(scope="module")
def packages(estates: dict[str, Estate]) -> list[Package]:
    """Every function's zip, identical zips once."""
    by_digest: dict[str, Package] = {}
    for environment in ENVIRONMENTS:
        estate = estates[environment]
        for run in (estate.hub, *estate.spokes.values()):
            for function in run.of_type(FUNCTION):
                files = _archive_files(function.inputs["code"])
                digest = hashlib.sha256()
                for name, content in sorted(files.items()):
                    digest.update(f"{name}\0{len(content)}\0".encode() + content)
                package = by_digest.setdefault(digest.hexdigest(), Package(files, {}))
                package.handlers[f"{run.stack} {function.name}"] = function.inputs["handler"]
    return list(by_digest.values())


@dataclass(frozen=True)
class Import:
    """One imported module, its dotted name absolute."""

    module: str
    # What `from module import ...` names (submodules or attributes); empty for `import`.
    names: tuple[str, ...]
    # At the top of the module (runs when it loads), not inside a function.
    at_load: bool


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(statements: list[ast.stmt], at_load: bool) -> Iterator[tuple[ast.stmt, bool]]:
    """Import statements among `statements` and in their blocks, with whether they run when
    the module loads; `if TYPE_CHECKING:` bodies never run and are skipped."""
    for statement in statements:
        if isinstance(statement, ast.Import | ast.ImportFrom):
            yield statement, at_load
        elif isinstance(statement, ast.If) and _is_type_checking(statement.test):
            yield from _import_nodes(statement.orelse, at_load)
        elif isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
            yield from _import_nodes(statement.body, at_load=False)
        else:
            # Blocks: if/else, try/except/finally, with, for, while, match, class bodies.
            for block in ("body", "orelse", "finalbody"):
                yield from _import_nodes(getattr(statement, block, []), at_load)
            for clause in (*getattr(statement, "handlers", ()), *getattr(statement, "cases", ())):
                yield from _import_nodes(clause.body, at_load)


@cache
def imports_of(name: str, content: bytes) -> tuple[Import, ...]:
    """The imports of the zip's file `name`, relative ones made absolute."""
    # Relative imports start from the file's package: its folder, for __init__.py too.
    package = PurePosixPath(name).parent.parts
    found = []
    for node, at_load in _import_nodes(_parsed(name, content).body, at_load=True):
        if isinstance(node, ast.Import):
            found += [Import(alias.name, (), at_load) for alias in node.names]
            continue
        base = list(package[: len(package) - node.level + 1]) if node.level else []
        module = ".".join([*base, *([node.module] if node.module else [])])
        found.append(Import(module, tuple(alias.name for alias in node.names), at_load))
    return tuple(found)


def _module_name(name: str) -> str:
    path = PurePosixPath(name).with_suffix("")
    parts = path.parts[:-1] if path.name == "__init__" else path.parts
    return ".".join(parts)


def missing_imports(package: Package) -> list[str]:
    """Each import that names a module neither in the zip, nor in the runtime's standard
    library, nor in the runtime and layers."""
    missing = []
    for name, content in package.python_files().items():
        for found in imports_of(name, content):
            top = found.module.split(".")[0]
            if (name, top) in NEVER_RUN_IN_LAMBDA or top in RUNTIME_AND_LAYERS:
                continue
            if top in sys.stdlib_module_names and top not in REMOVED_IN_RUNTIME:
                continue
            # Packages are checked to the submodule; a module file such as six.py makes its
            # own submodules (six.moves) up.
            checked = top if f"{top}.py" in package.files else found.module
            if checked not in package.modules:
                missing.append(f"{name} imports {found.module}")
    return sorted(set(missing))


def layer_free_modules(package: Package) -> list[str]:
    """The project's modules in the zip that load without boto3, powertools or pyodbc: none of
    their load-time imports, followed through the zip, reaches the runtime or a layer."""
    sources = {
        _module_name(name): (name, content)
        for name, content in package.python_files(under=f"{PROJECT_PACKAGE}/").items()
    }
    load_time: dict[str, set[str]] = {}
    for module, (name, content) in sources.items():
        needed = {".".join(module.split(".")[:depth]) for depth in range(1, module.count(".") + 1)}
        for found in imports_of(name, content):
            if found.at_load:
                needed.add(found.module)
                needed.update(f"{found.module}.{item}" for item in found.names)
        load_time[module] = needed

    needing = {
        module
        for module, needed in load_time.items()
        if any(other.split(".")[0] in RUNTIME_AND_LAYERS for other in needed)
    }
    while more := {module for module, needed in load_time.items() if needed & needing} - needing:
        needing |= more
    # Importing a __main__ runs its program.
    return sorted(
        module for module in load_time if module not in needing and not module.endswith(".__main__")
    )


def _probe(package: Package) -> dict:
    with tempfile.TemporaryDirectory(prefix="function-package-") as directory:
        for name, content in package.files.items():
            target = Path(directory, name)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        modules = json.dumps(layer_free_modules(package))
        look_up_holiday = "1" if WORKING_TIME in package.files else "0"
        # -B: Lambda cannot write .pyc files to /var/task either.
        completed = subprocess.run(
            [sys.executable, "-I", "-S", "-B", "-c", PROBE, directory, modules, look_up_holiday],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
    assert completed.returncode == 0, f"{package.label}:\n{completed.stderr}"
    return json.loads(completed.stdout)


@pytest.fixture(scope="module")
def probes(packages: list[Package]) -> list[tuple[Package, dict]]:
    """Each zip's isolated import, the zips in parallel."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(zip(packages, pool.map(_probe, packages), strict=True))


def test_every_operations_function_is_checked(packages: list[Package]):
    handlers = {handler for package in packages for handler in package.handlers.values()}
    assert handlers >= OPERATIONS_HANDLERS


def test_each_handler_module_is_in_its_zip_and_defines_the_handler(packages: list[Package]):
    for package in packages:
        for function, handler in package.handlers.items():
            module, function_name = handler.rsplit(".", 1)
            path = f"{module.replace('.', '/')}.py"
            assert path in package.files, f"{function}: {path} is not in the zip"
            defined = {
                node.name
                for node in _parsed(path, package.files[path]).body
                if isinstance(node, ast.FunctionDef)
            }
            assert function_name in defined, f"{function}: {handler} is not defined"


def test_every_import_is_in_the_zip_the_runtime_or_a_layer(packages: list[Package]):
    problems = {package.label: missing_imports(package) for package in packages}
    assert {label: missing for label, missing in problems.items() if missing} == {}


def test_layer_free_modules_import_from_the_zip_alone(probes: list[tuple[Package, dict]]):
    for package, probe in probes:
        assert probe["failures"] == {}, package.label
        assert probe["elsewhere"] == [], package.label
    imported = {module for package, _ in probes for module in layer_free_modules(package)}
    # The modules that decide, parse settings and read time: the handlers need layers.
    assert {
        "functions.scheduler.decisions",
        "functions.scheduler.settings",
        "functions.working_hours.working_time",
        "functions.freshness.staleness",
        "functions.incoming_sweeper.sweeper",
        "functions.alert_mailer.messages",
    } <= imported


def test_the_bundled_holidays_library_knows_christmas_in_england(
    probes: list[tuple[Package, dict]],
):
    with_working_hours = [
        (package, probe) for package, probe in probes if WORKING_TIME in package.files
    ]
    assert with_working_hours
    for package, probe in with_working_hours:
        assert probe["holiday"] == "Christmas Day", package.label
