"""The import rules of DESIGN.md (Architecture): a layer imports only the layers below it."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "lupus_msc"

# Layers from the ground floor up; a layer may import its own rank and those below. clinical/ and
# cells/ share the ground floor and may use each other's types; cli.py stands beside web/ and
# starts it by import string, so the two never import each other.
RANKS = {
    "package": 0,
    "clinical": 0,
    "cells": 0,
    "protocol": 1,
    "scoring": 1,
    "settings": 1,
    "synth": 2,
    "store": 3,
    "services": 4,
    "analytics": 5,
    "interop": 6,
    "web": 7,
    "cli": 7,
}
FORBIDDEN_SIDEWAYS = {("web", "cli"), ("cli", "web"), ("synth", "store"), ("synth", "services")}


def layer_of(module: str) -> str:
    """``lupus_msc.clinical.sledai2k`` → ``clinical``; ``lupus_msc`` itself → ``package``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "package"


def module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(source: str, importer: str, is_package: bool) -> set[str]:
    """Every ``lupus_msc`` module that ``source`` imports, relative imports resolved."""
    found: set[str] = set()
    package_parts = importer.split(".") if is_package else importer.split(".")[:-1]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package_parts[: len(package_parts) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.add(target)
    return {name for name in found if name.split(".")[0] == "lupus_msc"}


def violations(importer: str, imported: set[str]) -> list[str]:
    """The imports of ``importer`` that break the layer rules."""
    own = layer_of(importer)
    broken = []
    for target in sorted(imported):
        other = layer_of(target)
        if other not in RANKS:
            broken.append(f"{importer} imports {target}: layer {other!r} is not in DESIGN.md")
        elif RANKS[other] > RANKS[own] or (own, other) in FORBIDDEN_SIDEWAYS:
            broken.append(f"{importer} ({own}) imports {target} ({other}), a layer above")
    return broken


def test_every_module_imports_only_layers_below_its_own() -> None:
    broken: list[str] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        name = module_name(path)
        assert layer_of(name) in RANKS, f"{path} is in no layer of DESIGN.md"
        imported = imported_modules(path.read_text(), name, path.name == "__init__.py")
        broken.extend(violations(name, imported))
    assert broken == []


def test_the_check_catches_clinical_importing_web() -> None:
    source = "from lupus_msc.web.app import create_app\n"
    imported = imported_modules(source, "lupus_msc.clinical.sledai2k", is_package=False)
    assert violations("lupus_msc.clinical.sledai2k", imported) != []


def test_the_check_resolves_relative_imports() -> None:
    imported = imported_modules("from ..web import app\n", "lupus_msc.cells.dose", False)
    assert imported == {"lupus_msc.web"}
    assert violations("lupus_msc.cells.dose", imported) != []


def test_the_check_allows_cells_to_use_clinical_types() -> None:
    imported = imported_modules(
        "from lupus_msc.clinical.common import Num\n", "lupus_msc.cells.dose", False
    )
    assert violations("lupus_msc.cells.dose", imported) == []


def test_cli_does_not_import_web() -> None:
    imported = imported_modules("import lupus_msc.web.app\n", "lupus_msc.cli", False)
    assert violations("lupus_msc.cli", imported) != []
