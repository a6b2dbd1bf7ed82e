"""Issue 10, item 1 (part): `guidekb run` has one JSON shape for any number of cases (a list
of {file, answer|error}, documented in docs/schema/output/run.schema.json and checked here
with a real JSON Schema validator), reads a case from stdin as `-`, and a case that does not
validate never suppresses the answers of the others (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from guidekb.cli import app
from guidekb.output_schemas import PUBLISHED, SCHEMAS, rendered, run_schema
from tests.conftest import HSV_KB

GOOD = HSV_KB / "cases" / "confirmed-resistance.yaml"


def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["run", "--kb", str(HSV_KB), *args], input=stdin)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def bad(tmp_path: Path) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text("immune_statuss: immunocompromised\n", encoding="utf-8")
    return path


def test_published_output_schemas_are_current() -> None:
    for name in SCHEMAS:
        published = (PUBLISHED / f"{name}.schema.json").read_text(encoding="utf-8")
        assert published == rendered(name), f"run `python -m guidekb.output_schemas` ({name})"
        jsonschema.Draft202012Validator.check_schema(json.loads(published))


@pytest.mark.parametrize("flag", [["--format", "json"], ["--json"]])
def test_one_case_is_a_list_of_one(flag: list[str]) -> None:
    status, out, _ = run(str(GOOD), *flag)
    assert status == 0
    printed = json.loads(out)
    jsonschema.validate(printed, run_schema())
    assert [item["file"] for item in printed] == [str(GOOD)]
    assert "iv_foscarnet" in {r["code"] for r in printed[0]["answer"]["recommendations"]}


def test_a_bad_case_does_not_hide_the_answers_of_the_good_ones(bad: Path) -> None:
    status, out, err = run(str(GOOD), str(bad), str(GOOD), "--format", "json")
    assert status == 2
    printed = json.loads(out)
    jsonschema.validate(printed, run_schema())
    assert [sorted(item) for item in printed] == [["answer", "file"], ["error", "file"],
                                                  ["answer", "file"]]
    problem = printed[1]["error"]["problems"][0]
    assert (problem["code"], problem["line"], problem["file"]) == ("GKB401", 1, str(bad))
    assert printed[0]["answer"] == printed[2]["answer"]
    assert "unknown fact 'immune_statuss'" in err  # and for people, on stderr


def test_a_bad_case_in_text_keeps_the_good_answers_and_exits_2(bad: Path) -> None:
    status, out, err = run(str(bad), str(GOOD))
    assert status == 2
    assert "RECOMMENDED" in out and str(GOOD) in out
    assert f"{bad}:1:17: unknown fact 'immune_statuss'" in err


def test_the_schema_rejects_what_run_never_prints() -> None:
    validator = jsonschema.Draft202012Validator(run_schema())
    assert not validator.is_valid({"file": "x"})  # an object, not a list
    assert not validator.is_valid([{"file": "x"}])  # neither answer nor error
    assert not validator.is_valid([{"file": "x", "error": {"problems": []}}])


def test_dash_reads_one_case_from_stdin() -> None:
    status, out, _ = run("-", "--format", "json", stdin=GOOD.read_text(encoding="utf-8"))
    assert status == 0
    printed = json.loads(out)
    jsonschema.validate(printed, run_schema())
    assert printed[0]["file"] == "<stdin>"
    from_file = json.loads(run(str(GOOD), "--format", "json")[1])[0]["answer"]
    assert printed[0]["answer"] == from_file


def test_stdin_problems_are_located_in_stdin() -> None:
    status, _, err = run("-", stdin="days_on_therapy: lots\n")
    assert status == 2
    assert "<stdin>:1:18:" in err
    status, _, err = run("-", "-", stdin="{}\n")
    assert status == 2 and "once" in err
