"""The design card's layering, read off the imports.

`guidekb.engine` never imports `guidekb.visualize` or the CLI; inside the engine the path
case -> format -> semantics -> runtime -> qa only ever imports downwards; no module imports
another that imports it back; and nothing in the code base executes text (a knowledge base is
data, never code).
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

from tests.conftest import ROOT

PACKAGES = ("engine", "visualize", "guidekb")

# Engine layers, lowest first. A module may import its own layer or any lower one.
# `errors` is the bottom of everything; `schema` sits on top (it exports every file format).
ENGINE_LAYERS = ("errors", "format", "semantics", "runtime", "qa", "schema")


def module_name(path: Path) -> str:
    """The installed module name of a repository file (`engine/format/models.py` ->
    `guidekb.engine.format.models`)."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts if parts[0] == "guidekb" else ["guidekb", *parts])


def source_files(package: str) -> list[Path]:
    return sorted(p for p in (ROOT / package).rglob("*.py") if "__pycache__" not in p.parts)


ALL_MODULES = {module_name(p) for package in PACKAGES for p in source_files(package)}


def imported_modules(package: str) -> list[tuple[str, str]]:
    found = []
    for path in source_files(package):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found += [(module_name(path), alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                # `from package import module` imports the module, not the package's __init__
                submodules = [f"{node.module}.{a.name}" for a in node.names
                              if f"{node.module}.{a.name}" in ALL_MODULES]
                found += [(module_name(path), m) for m in submodules or [node.module]]
    return found


def engine_layer(module: str) -> int | None:
    parts = module.split(".")
    if parts[:2] != ["guidekb", "engine"] or len(parts) < 3:
        return None
    return ENGINE_LAYERS.index(parts[2]) if parts[2] in ENGINE_LAYERS else None


def test_nothing_imports_the_old_top_level_names() -> None:
    """Installed, the only top-level package is `guidekb`; an `import engine` would pick up
    whatever package of that name the user's own repository has."""
    bad = [(f, m) for package in PACKAGES for f, m in imported_modules(package)
           if m.split(".")[0] in ("engine", "visualize")]
    assert bad == []


def test_engine_imports_neither_visualize_nor_cli() -> None:
    bad = [(f, m) for f, m in imported_modules("engine")
           if m.startswith("guidekb.") and not m.startswith("guidekb.engine")]
    assert bad == []


def test_visualize_does_not_import_cli() -> None:
    bad = [(f, m) for f, m in imported_modules("visualize")
           if m.startswith("guidekb.") and not m.startswith(("guidekb.engine", "guidekb.visualize"))]
    assert bad == []


def test_engine_layers_only_import_downwards() -> None:
    upward = []
    for importer, imported in imported_modules("engine"):
        low, high = engine_layer(importer), engine_layer(imported)
        if low is not None and high is not None and high > low:
            upward.append((importer, imported))
    assert upward == []


def test_every_engine_module_belongs_to_a_layer() -> None:
    stray = [module_name(p) for p in source_files("engine")
             if module_name(p) != "guidekb.engine" and engine_layer(module_name(p)) is None]
    assert stray == []


def test_no_import_cycles() -> None:
    graph = nx.DiGraph()
    for package in PACKAGES:
        for importer, imported in imported_modules(package):
            if imported.startswith("guidekb") and not importer.endswith("__init__"):
                graph.add_edge(importer, imported)
    # A package's __init__ re-exports its modules; edges into it from its own modules would
    # be cycles only in name, so __init__ modules are left out above.
    assert list(nx.simple_cycles(graph)) == []


@pytest.mark.parametrize("package", PACKAGES)
def test_no_eval_exec_or_unsafe_yaml(package: str) -> None:
    for path in source_files(package):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id not in {"eval", "exec", "compile", "__import__"}, where
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "yaml":
                assert node.attr not in {"load", "load_all", "unsafe_load", "full_load", "Loader",
                                         "UnsafeLoader", "FullLoader"}, where
