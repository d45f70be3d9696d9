"""What goes into a Lambda zip: the function's own package and the shared code it imports,
source files only (no caches), listed explicitly so the archive and its hash are reproducible."""

from __future__ import annotations

import importlib.util
from importlib.metadata import distribution
from pathlib import Path

import pulumi

PROJECT_DIR = Path(__file__).resolve().parent.parent


def package_files(packages: list[str], project_dir: Path = PROJECT_DIR) -> dict[str, Path]:
    """Archive path -> file, for every `.py` file of the dotted `packages` and their parents'
    `__init__.py` files."""
    files: dict[str, Path] = {}
    for package in packages:
        parts = package.split(".")
        for depth in range(1, len(parts)):
            init = Path(*parts[:depth], "__init__.py")
            files[init.as_posix()] = project_dir / init
        directory = project_dir.joinpath(*parts)
        for path in sorted(directory.rglob("*.py")):
            files[path.relative_to(project_dir).as_posix()] = path
    missing = [name for name, path in files.items() if not path.is_file()]
    if missing:
        raise FileNotFoundError(f"function package files missing: {', '.join(sorted(missing))}")
    return dict(sorted(files.items()))


def vendored_files(
    packages: dict[str, str], skip: tuple[str, ...] = ("locale", "tests")
) -> dict[str, Path]:
    """Archive path -> file for third-party `packages` (import name -> distribution name) the
    runtime lacks: their `.py` files as installed here (no translations or tests), and each
    distribution's metadata and licence files as installed."""
    files: dict[str, Path] = {}
    for package, dist_name in packages.items():
        spec = importlib.util.find_spec(package)
        if spec is None or spec.origin is None:
            raise FileNotFoundError(f"vendored package '{package}' is not installed")
        if not spec.submodule_search_locations:
            # A single-module distribution such as six.
            files[f"{package}.py"] = Path(spec.origin)
        else:
            root = Path(next(iter(spec.submodule_search_locations)))
            for path in sorted(root.rglob("*.py")):
                relative = path.relative_to(root)
                if not set(relative.parts[:-1]) & set(skip):
                    files[f"{package}/{relative.as_posix()}"] = path
        # The metadata (some packages read their own version from it) and the licence files.
        dist = distribution(dist_name)
        for entry in dist.files or []:
            parts = Path(str(entry)).parts
            if parts[0].endswith(".dist-info") and (
                parts[-1] == "METADATA"
                or parts[-1].upper().startswith(("LICENSE", "LICENCE", "COPYING"))
            ):
                files[Path(str(entry)).as_posix()] = Path(str(dist.locate_file(entry)))
    return dict(sorted(files.items()))


def function_archive(
    packages: list[str],
    extra: dict[str, pulumi.Asset] | None = None,
    vendored: dict[str, str] | None = None,
) -> pulumi.AssetArchive:
    """The zip of `packages`, `vendored` third-party packages and `extra` assets (generated
    files such as a catalog)."""
    files = {**vendored_files(vendored or {}), **package_files(packages)}
    assets: dict[str, pulumi.Asset | pulumi.Archive] = {
        name: pulumi.FileAsset(str(path)) for name, path in files.items()
    }
    assets.update(extra or {})
    return pulumi.AssetArchive(assets)
