"""Issue 10, item 4: `guidekb init DIR` writes a knowledge base that validates, tests, checks,
proves and lints out of the box, with schema headers and teaching comments, and never
overwrites anything."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from guidekb.cli import app
from guidekb.engine.format.loading import load_knowledge_base
from guidekb.engine.format.yamlsource import load_yaml
from guidekb.engine.qa.everything import check_everything
from guidekb.engine.qa.invariants import load_invariants
from guidekb.engine.qa.scenarios import run_scenarios
from guidekb.scaffold import kb_id


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def new_kb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("authors") / "My Pneumonia KB"
    status, output = invoke("init", str(folder))
    assert status == 0, output
    assert "guidekb validate --kb" in output
    return folder


def test_the_skeleton_validates_and_its_scenario_passes(new_kb: Path) -> None:
    checked = check_everything(new_kb)
    assert checked.problems == ()
    assert (checked.kb is not None and checked.kb.id == "my-pneumonia-kb")
    assert checked.scenarios == 1 and checked.cases == 1 and len(checked.invariants) == 1
    assert checked.quotes == 2  # the rules' quotes, verified against the source text
    assert [r.passed for r in run_scenarios(load_knowledge_base(new_kb))] == [True]


@pytest.mark.parametrize("command", [["validate"], ["test"], ["check", "--samples", "50"],
                                     ["check", "--prove"], ["lint"], ["coverage"]])
def test_every_command_succeeds_on_the_skeleton(new_kb: Path, command: list[str]) -> None:
    status, output = invoke(*command, "--kb", str(new_kb))
    assert status == 0, output


def test_the_case_runs(new_kb: Path) -> None:
    status, output = invoke("run", "--kb", str(new_kb), str(new_kb / "cases" / "example.yaml"))
    assert status == 0, output
    assert "treat_on_single_reading" in output


def test_files_carry_schema_headers_that_resolve_and_validate_them(new_kb: Path) -> None:
    kinds = {"manifest.yaml": "manifest", "facts.yaml": "facts", "outcomes.yaml": "outcomes",
             "rules/main.yaml": "rules", "scenarios/severe-reading.yaml": "scenario",
             "invariants.yaml": "invariants"}
    for name, kind in kinds.items():
        path = new_kb / name
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("# yaml-language-server: $schema="), name
        schema_path = (path.parent / first.split("=", 1)[1]).resolve()
        assert schema_path == (new_kb / "schema" / f"{kind}.schema.json").resolve()
        schema = json.loads(schema_path.read_text(encoding="utf-8"))
        doc, problems = load_yaml(path)  # as guidekb reads it: a date stays text, as in JSON
        assert problems == []
        jsonschema.validate(doc.data, schema)


def test_every_yaml_file_teaches_with_comments(new_kb: Path) -> None:
    for path in new_kb.rglob("*.yaml"):
        comments = [line for line in path.read_text(encoding="utf-8").splitlines()
                    if line.lstrip().startswith("#") and "yaml-language-server" not in line]
        assert comments, path


def test_the_invariant_is_proved(new_kb: Path) -> None:
    kb = load_knowledge_base(new_kb)
    assert [inv.id for inv in load_invariants(kb)] == ["nothing-both-recommended-and-forbidden"]


def test_init_refuses_a_folder_that_is_not_empty_and_changes_nothing(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine\n", encoding="utf-8")
    status, output = invoke("init", str(tmp_path))
    assert status == 2
    assert "not empty" in output and "never overwrites" in output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    file = tmp_path / "notes.txt"
    assert invoke("init", str(file))[0] == 2
    assert file.read_text(encoding="utf-8") == "mine\n"


def test_init_into_an_empty_folder(tmp_path: Path) -> None:
    status, output = invoke("init", str(tmp_path / "empty"))
    assert status == 0, output
    (tmp_path / "again").mkdir()
    assert invoke("init", str(tmp_path / "again"))[0] == 0
    assert check_everything(tmp_path / "again").ok


def test_kb_id_from_folder_names() -> None:
    assert kb_id("My Pneumonia KB") == "my-pneumonia-kb"
    assert kb_id("---") == "my-kb"
    assert kb_id("cap_2024.v1") == "cap_2024.v1"
