"""Python 3.11 and 3.12 are supported; on 3.13+ guidekb refuses with one sentence saying why.

durable-rules 2.0.28 does not load on Python 3.13 (`undefined symbol: PyEval_CallObject`). pip
refuses to install guidekb there (requires-python, checked against the guard below and, for the
built wheel, in test_packaging.py); a checkout put on sys.path is stopped by
`guidekb._python_guard`, imported first by `guidekb/__init__.py`.
"""

from __future__ import annotations

import ast
import re
import subprocess
import tomllib
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet

from guidekb._python_guard import UnsupportedPythonError, check, unsupported_reason
from tests.conftest import ROOT

GUARD_SENTENCE = ("guidekb needs Python 3.11 or 3.12, not 3.13.0: its rule engine durable-rules 2.0.28 "
                  "uses a C function (PyEval_CallObject) that Python 3.13 removed.")


def is_one_sentence(text: str) -> bool:
    return "\n" not in text and text.endswith(".") and not re.search(r"[.!?]\s", text)


@pytest.mark.parametrize("version", [(3, 11, 0), (3, 11, 7), (3, 12, 1), (3, 12, 9)])
def test_supported_versions_pass(version: tuple[int, ...]) -> None:
    assert unsupported_reason(version) is None
    check(version)


@pytest.mark.parametrize("version", [(3, 13, 0), (3, 13, 1), (3, 14, 0), (4, 0, 0), (3, 10, 13), (2, 7, 18)])
def test_unsupported_versions_fail_at_import_with_one_sentence(version: tuple[int, ...]) -> None:
    with pytest.raises(UnsupportedPythonError) as raised:
        check(version)
    assert isinstance(raised.value, ImportError)  # `except ImportError` around `import guidekb` works
    message = str(raised.value)
    assert is_one_sentence(message), message
    assert message.startswith("guidekb needs Python 3.11 or 3.12, not " + ".".join(map(str, version)))


def test_the_313_sentence_says_why() -> None:
    assert unsupported_reason((3, 13, 0)) == GUARD_SENTENCE
    assert is_one_sentence(GUARD_SENTENCE)


def test_requires_python_allows_exactly_what_the_guard_allows() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    allowed = SpecifierSet(project["requires-python"])
    for minor in range(6, 16):
        version = f"3.{minor}.0"
        assert (version in allowed) == (unsupported_reason((3, minor, 0)) is None), version
    assert "3.12.1" in allowed and "3.13.0" not in allowed


def test_guard_is_imported_first_and_needs_only_the_standard_library() -> None:
    """The guard runs before any other guidekb module (so before durable-rules can fail to link)."""
    init = ast.parse((ROOT / "guidekb" / "__init__.py").read_text(encoding="utf-8"))
    first = next(node for node in init.body if isinstance(node, ast.Import | ast.ImportFrom)
                 and any(name.startswith("guidekb") for name in imported(node)))
    assert imported(first) == ["guidekb._python_guard"]
    guard = ast.parse((ROOT / "guidekb" / "_python_guard.py").read_text(encoding="utf-8"))
    modules = {name for node in ast.walk(guard) if isinstance(node, ast.Import | ast.ImportFrom)
               for name in imported(node)}
    assert modules <= {"__future__.annotations", "sys"}


def imported(node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    return [f"{node.module}.{alias.name}" for alias in node.names]


def python(version: str) -> str | None:
    """A working pythonX.Y, found as the Makefile finds it (pyenv versions included)."""
    found = subprocess.run(["bash", str(ROOT / "scripts" / "find-python.sh"), version],
                           capture_output=True, text=True, timeout=60)
    return found.stdout.strip() or None


def version_of(python: str) -> tuple[int, ...]:
    shown = subprocess.run([python, "-c", "import sys; print(*sys.version_info[:3])"], capture_output=True,
                           text=True, timeout=60, check=True).stdout
    return tuple(int(part) for part in shown.split())


@pytest.mark.parametrize("command", [["-c", "import guidekb"], ["-m", "guidekb", "validate"]])
def test_python_313_gets_the_sentence_not_a_linker_error(command: list[str], tmp_path: Path) -> None:
    python313 = python("3.13")
    if python313 is None:
        pytest.skip("python3.13 not found: the guard is tested with fake versions only")
    result = subprocess.run([python313, *command], cwd=str(tmp_path), capture_output=True, text=True,
                            timeout=60, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert result.returncode != 0
    last = result.stderr.splitlines()[-1]
    assert re.fullmatch(r"guidekb\._python_guard\.UnsupportedPythonError: (.*)", last), result.stderr
    assert unsupported_reason(version_of(python313)) == last.split(": ", 1)[1]
    assert "PyEval_CallObject'" not in result.stderr and "undefined symbol" not in result.stderr
