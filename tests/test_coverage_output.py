"""Issue 10, item 1 (end): `guidekb coverage --format text|json`, the JSON checked with a real
JSON Schema validator against docs/schema/output/coverage.schema.json; and `--format` accepted,
with the same `text`/`json` names, by every command that prints results."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from guidekb.cli import app
from guidekb.output_schemas import coverage_schema
from tests.conftest import HSV_KB


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.stdout


def checked(text: str) -> dict[str, object]:
    data = json.loads(text)
    jsonschema.validate(data, coverage_schema(), format_checker=jsonschema.FormatChecker())
    assert isinstance(data, dict)
    return data


def test_coverage_json_of_the_shipped_knowledge_base() -> None:
    status, out = invoke("coverage", "--kb", str(HSV_KB), "--format", "json")
    assert status == 0
    data = checked(out)
    summary = data["summary"]
    statements = data["statements"]
    assert isinstance(summary, dict) and isinstance(statements, list)
    assert summary["statements"] == len(statements) > 0
    assert summary["missing"] == 0
    assert summary["encoded"] == sum(1 for s in statements if s["status"] == "encoded")
    assert summary["context"] == sum(1 for s in statements if s["status"] == "context") > 0
    encoded = [s for s in statements if s["status"] == "encoded"]
    assert all(s["rules"] and s["reason"] is None for s in encoded)
    assert all(r["file"].endswith(".yaml") and r["line"] >= 1 for s in encoded for r in s["rules"])
    assert all(s["reason"] and not s["rules"] for s in statements if s["status"] == "context")
    sources = data["sources"]
    assert isinstance(sources, list)
    assert sum(source["statements"] for source in sources) == len(statements)


def test_a_missing_statement_in_json_and_the_exit_status(tmp_path: Path) -> None:
    kb = shutil.copytree(HSV_KB, tmp_path / "kb")
    (kb / "context.yaml").unlink()
    status, out = invoke("coverage", "--kb", str(kb), "--format", "json")
    assert status == 0
    data = checked(out)
    summary = data["summary"]
    assert isinstance(summary, dict) and summary["context"] == 0 and summary["missing"] > 0
    status, out = invoke("coverage", "--kb", str(kb), "--format", "json", "--fail-on-missing")
    assert status == 1
    assert checked(out)["summary"] == summary
    report = tmp_path / "coverage.json"
    status, _ = invoke("coverage", "--kb", str(kb), "--format", "json", "-o", str(report))
    assert status == 0
    assert checked(report.read_text(encoding="utf-8"))["summary"] == summary


def test_text_is_the_default_and_table_its_older_name() -> None:
    default = invoke("coverage", "--kb", str(HSV_KB))
    assert default[0] == 0 and "encoded" in default[1]
    assert invoke("coverage", "--kb", str(HSV_KB), "--format", "text") == default
    assert invoke("coverage", "--kb", str(HSV_KB), "--format", "table") == default


CASE = str(HSV_KB / "cases" / "confirmed-resistance.yaml")
RESULT_COMMANDS = {
    "validate": ["validate"], "run": ["run", CASE], "explain": ["explain", CASE, "famciclovir"],
    "test": ["test"], "check": ["check", "--samples", "20"], "lint": ["lint"],
    "coverage": ["coverage"],
}


@pytest.mark.parametrize("command", RESULT_COMMANDS)
def test_every_command_that_prints_results_takes_format_text_and_json(command: str) -> None:
    """The same option, the same two names: `text` is what the command prints without the
    option, `json` one JSON document (its shape in docs/schema/output/<command>.schema.json)."""
    from guidekb.output_schemas import SCHEMAS

    args = [*RESULT_COMMANDS[command], "--kb", str(HSV_KB)]
    status, text = invoke(*args, "--format", "text")
    assert status == 0, text
    if command not in ("test", "check", "lint"):  # their text carries timings
        assert (status, text) == invoke(*args)
    status, out = invoke(*args, "--format", "json")
    assert status == 0
    jsonschema.validate(json.loads(out), SCHEMAS[command]())
    status, _ = invoke(*args, "--format", "yaml")
    assert status == 2
