"""Issue 10, item 1 (part): one CLI convention. The knowledge base is `--kb` in every command
(the old positional form still works, with a note); `guidekb --version`; `test` with no
scenario to run is a failure, not a pass."""

from __future__ import annotations

import shutil
from importlib.metadata import version
from pathlib import Path

import pytest
from typer.testing import CliRunner

from guidekb.cli import app
from tests.conftest import HSV_KB
from tests.minikb import write_mini_kb

KB_COMMANDS = ["validate", "run", "explain", "test", "check", "lint", "coverage", "flowchart"]


@pytest.mark.parametrize("command", KB_COMMANDS)
def test_every_command_takes_the_knowledge_base_as_kb(command: str) -> None:
    result = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "--kb" in result.output
    assert "Deprecated" not in result.output  # the positional alias is hidden


def test_kb_option_and_deprecated_positional_give_the_same_result(tmp_path: Path) -> None:
    kb = write_mini_kb(tmp_path / "kb")
    by_option = CliRunner().invoke(app, ["validate", "--kb", str(kb)])
    by_position = CliRunner().invoke(app, ["validate", str(kb)])
    assert by_option.exit_code == by_position.exit_code == 0
    assert by_option.stdout == by_position.stdout
    assert "deprecated" not in by_option.stderr
    assert "use --kb" in by_position.stderr


def test_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"guidekb {version('guidekb')}\n"


def test_test_fails_when_there_is_no_scenario(tmp_path: Path) -> None:
    kb = write_mini_kb(tmp_path / "kb")
    result = CliRunner().invoke(app, ["test", "--kb", str(kb)])
    assert result.exit_code == 1
    assert "no scenarios found" in result.output
    shutil.copytree(HSV_KB / "scenarios", tmp_path / "other")  # present elsewhere: still none
    assert CliRunner().invoke(app, ["test", "--kb", str(kb)]).exit_code == 1
