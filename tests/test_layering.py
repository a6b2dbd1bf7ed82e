"""The design card's layering: `engine` never imports `visualize` or the CLI, and nothing in
the code base executes text (a knowledge base is data, never code)."""

from __future__ import annotations

import ast

import pytest

from tests.conftest import ROOT

PACKAGES = ("engine", "visualize", "guidekb")


def imported_modules(package: str) -> list[tuple[str, str]]:
    found = []
    for path in sorted((ROOT / package).glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found += [(path.name, alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                found.append((path.name, node.module))
    return found


def test_engine_imports_neither_visualize_nor_cli() -> None:
    bad = [(f, m) for f, m in imported_modules("engine") if m.split(".")[0] in ("visualize", "guidekb")]
    assert bad == []


def test_visualize_does_not_import_cli() -> None:
    assert [(f, m) for f, m in imported_modules("visualize") if m.split(".")[0] == "guidekb"] == []


@pytest.mark.parametrize("package", PACKAGES)
def test_no_eval_exec_or_unsafe_yaml(package: str) -> None:
    for path in sorted((ROOT / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id not in {"eval", "exec", "compile", "__import__"}, where
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "yaml":
                assert node.attr not in {"load", "load_all", "unsafe_load", "full_load", "Loader",
                                         "UnsafeLoader", "FullLoader"}, where
