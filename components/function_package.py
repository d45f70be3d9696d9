"""What goes into a Lambda zip: the function's own package and the shared code it imports,
source files only (no caches), listed explicitly so the archive and its hash are reproducible."""

from __future__ import annotations

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


def function_archive(
    packages: list[str], extra: dict[str, pulumi.Asset] | None = None
) -> pulumi.AssetArchive:
    """The zip of `packages` plus `extra` assets (generated files such as a catalog)."""
    assets: dict[str, pulumi.Asset | pulumi.Archive] = {
        name: pulumi.FileAsset(str(path)) for name, path in package_files(packages).items()
    }
    assets.update(extra or {})
    return pulumi.AssetArchive(assets)
