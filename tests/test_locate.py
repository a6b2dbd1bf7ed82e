"""Which knowledge base a command uses: explicit wins, else the nearest manifest.yaml at or above
the working directory, else the packaged default; a knowledge base the author did not name is
named in errors with how it was found."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from guidekb.cli import app
from guidekb.engine.format.loading import DEFAULT_KB
from guidekb.engine.format.locate import (
    GIVEN,
    PACKAGED,
    PACKAGED_KB,
    SEARCHED,
    FoundKnowledgeBase,
    find_knowledge_base,
)
from tests.conftest import HSV_KB
from tests.minikb import edit, write_mini_kb


@pytest.fixture
def mini(tmp_path: Path) -> Path:
    return write_mini_kb(tmp_path / "mini")


def test_explicit_path_wins_even_inside_another_kb(mini: Path) -> None:
    assert find_knowledge_base(HSV_KB, mini / "rules") == FoundKnowledgeBase(HSV_KB, GIVEN)


@pytest.mark.parametrize("inside", [".", "rules", "rules/deeper/still"])
def test_searches_up_from_the_working_directory(mini: Path, inside: str) -> None:
    cwd = mini / inside
    cwd.mkdir(parents=True, exist_ok=True)
    assert find_knowledge_base(None, cwd) == FoundKnowledgeBase(mini, SEARCHED)


def test_nearest_manifest_wins(mini: Path) -> None:
    inner = write_mini_kb(mini / "cases" / "inner")
    assert find_knowledge_base(None, inner / "rules").path == inner


def test_packaged_default_when_nothing_is_found(tmp_path: Path) -> None:
    found = find_knowledge_base(None, tmp_path)
    assert found == FoundKnowledgeBase(PACKAGED_KB.resolve(), PACKAGED)
    assert (found.path / "manifest.yaml").is_file()
    assert found.path == HSV_KB.resolve()  # in the repository, the package data is knowledge/
    assert DEFAULT_KB == PACKAGED_KB
    assert found.describe() == f"knowledge base {found.path} (the default knowledge base shipped with guidekb)"


def invoke(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "300"})
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def test_commands_use_the_kb_around_the_working_directory(mini: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(mini / "rules")
    assert invoke("validate").startswith("ok mini 1.0.0")
    assert invoke("validate", "--kb", str(HSV_KB)).startswith("ok hsv-resistance")  # --kb wins
    (mini / "cases").mkdir()
    (mini / "cases" / "empty.yaml").write_text("{}\n", encoding="utf-8")
    assert '"id": "mini"' in invoke("run", "../cases/empty.yaml", "--json")  # --kb left out
    case = str(HSV_KB / "cases" / "confirmed-resistance.yaml")
    assert '"id": "hsv-resistance"' in invoke("run", case, "--json", "--kb", str(HSV_KB))  # --kb wins


def test_commands_fall_back_to_the_packaged_kb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert invoke("validate").startswith("ok hsv-resistance")


def test_help_says_how_the_default_is_found() -> None:
    assert "manifest.yaml at or above the working directory" in " ".join(invoke("run", "--help").split())


def test_error_names_the_kb_that_was_found(mini: Path) -> None:
    edit(mini / "facts.yaml", "facts:", "facts: [")
    result = subprocess.run([sys.executable, "-m", "guidekb", "validate"], cwd=mini / "rules",
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert (f"1 problem found in the knowledge base {mini} (found by searching up from the working "
            "directory).") in result.stderr
    named = subprocess.run([sys.executable, "-m", "guidekb", "validate", "mini"], cwd=mini.parent,
                           capture_output=True, text=True, timeout=120)
    assert named.returncode == 2 and "1 problem found in the knowledge base.\n" in named.stderr
