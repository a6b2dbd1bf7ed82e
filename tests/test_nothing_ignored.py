"""Issue 10, item 2: nothing in a knowledge-base folder is silently ignored.

`.yml` and `.yaml` alike, subfolders of rules/, scenarios/ and cases/ read, anything else
there reported (GKB011), the bundled cases validated, and every problem of every file in one
pass: a syntax error in one file, or problems in the rules, never hide the problems of the
other files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from guidekb.cli import app
from guidekb.engine.errors import KnowledgeBaseError
from guidekb.engine.format.kbfiles import file_name, list_files
from guidekb.engine.format.loading import load_knowledge_base
from guidekb.engine.qa.everything import check_everything
from guidekb.engine.qa.scenarios import ScenarioError, load_scenarios
from tests.minikb import edit, write_mini_kb

EXTRA_RULE = """\
rules:
  - id: renal-consult
    title: Consult on foscarnet
    when:
      fact: on_foscarnet
      equals: true
    then:
      recommend: [id_consult]
    provenance:
      - source: cold-sores
        section: Monitoring During Foscarnet Therapy
        quote: Monitor renal function at initiation and once or twice weekly during treatment
        refs: [1]
"""

SCENARIO = """\
description: On foscarnet, renal function is monitored.
case:
  on_foscarnet: true
expect:
  recommended: [monitor_renal_function]
"""

BAD_SCENARIO = """\
description: A misspelt fact in the case and a misspelt code.
case:
  on_foscarnett: true
expect:
  recommended: [monitor_renal_functoin]
"""

BAD_INVARIANT = """\
invariants:
  - id: no-topical
    rationale: Never topical acyclovir.
    never_recommend:
      codes: [topical_acyclovirr]
      when:
        fact: on_foscarnet
        equals: true
    provenance:
      - source: cold-sores
        section: Common Pitfalls to Avoid
        quote: Do not use topical acyclovir
        refs: [2]
"""


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    return write_mini_kb(tmp_path / "kb")


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def messages(root: Path) -> list[str]:
    return [f"{Path(p.file).name}:{p.code.id}:{p.message}" for p in check_everything(root).problems]


def validate(root: Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["validate", str(root)])
    return result.exit_code, result.output


# --- every YAML file is read -------------------------------------------------------------------


@pytest.mark.parametrize("name", ["antibiotics.yml", "topic/antibiotics.yaml", "a/b/c.yml",
                                  "UPPER.YAML"])
def test_rule_files_with_either_suffix_and_in_subfolders_are_read(kb: Path, name: str) -> None:
    write(kb / "rules" / name, EXTRA_RULE)
    loaded = load_knowledge_base(kb)
    assert "renal-consult" in {rule.id for rule in loaded.rules}
    # and their problems count: a misspelt fact there fails validation
    edit(kb / "rules" / name, "fact: on_foscarnet", "fact: on_foscarnett")
    with pytest.raises(KnowledgeBaseError) as raised:
        load_knowledge_base(kb)
    assert [Path(p.file).name for p in raised.value.problems] == [Path(name).name]


def test_a_file_in_rules_that_is_not_read_is_a_problem_not_skipped(kb: Path) -> None:
    write(kb / "rules" / "notes.txt", "not a rule\n")
    write(kb / "rules" / "old" / "draft.json", "{}\n")
    write(kb / "rules" / ".main.yaml.swp", "editor swap file, hidden: not an author's file\n")
    found = messages(kb)
    assert found == ["notes.txt:GKB011:not read: rule files end in .yaml or .yml",
                     "draft.json:GKB011:not read: rule files end in .yaml or .yml"]
    status, output = validate(kb)
    assert status == 2
    assert "notes.txt" in output and "draft.json" in output and "swp" not in output


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links here")
def test_a_linked_folder_is_reported_not_followed_silently(kb: Path, tmp_path: Path) -> None:
    write(tmp_path / "elsewhere" / "more.yaml", EXTRA_RULE)
    (kb / "rules" / "linked").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    problems = check_everything(kb).problems
    assert [(p.code.id, Path(p.file).name) for p in problems] == [("GKB011", "linked")]
    assert "linked folder not read" in problems[0].message


def test_listing_is_sorted_and_hidden_entries_are_the_only_exception(tmp_path: Path) -> None:
    for name in ["b.yaml", "a.yml", "sub/c.yaml", ".hidden/x.yaml", ".x.yaml"]:
        write(tmp_path / name, "{}\n")
    listing = list_files(tmp_path, (".yaml", ".yml"), "rule")
    assert [p.relative_to(tmp_path).as_posix() for p in listing.files] == ["a.yml", "b.yaml",
                                                                           "sub/c.yaml"]
    assert listing.problems == ()
    assert list_files(tmp_path / "absent", (".yaml",), "rule").files == ()


def test_scenarios_with_either_suffix_and_in_subfolders_are_run_and_named_by_path(kb: Path) -> None:
    write(kb / "scenarios" / "renal.yml", SCENARIO)
    write(kb / "scenarios" / "foscarnet" / "renal.yaml", SCENARIO)
    loaded = load_scenarios(load_knowledge_base(kb))
    assert [s.name for s in loaded] == ["foscarnet/renal", "renal"]
    assert file_name(kb / "scenarios" / "x" / "y.yml", kb / "scenarios") == "x/y"


def test_two_scenarios_of_the_same_name_and_foreign_files_are_problems(kb: Path) -> None:
    write(kb / "scenarios" / "renal.yml", SCENARIO)
    write(kb / "scenarios" / "renal.yaml", SCENARIO)
    write(kb / "scenarios" / "readme.md", "notes\n")
    with pytest.raises(ScenarioError) as raised:
        load_scenarios(load_knowledge_base(kb))
    found = sorted((Path(p.file).name, p.code.id) for p in raised.value.problems)
    assert found == [("readme.md", "GKB011"), ("renal.yml", "GKB204")]


def test_guidekb_test_runs_yml_scenarios(kb: Path) -> None:
    write(kb / "scenarios" / "deep" / "renal.yml", SCENARIO)
    result = CliRunner().invoke(app, ["test", str(kb)])
    assert result.exit_code == 0, result.output
    assert "deep/renal" in result.output


# --- validate checks cases/ ---------------------------------------------------------------------


def test_validate_checks_the_bundled_cases(kb: Path) -> None:
    write(kb / "cases" / "good.yaml", "on_foscarnet: true\n")
    write(kb / "cases" / "more" / "good.json", '{"immune_status": "immunocompromised"}\n')
    status, output = validate(kb)
    assert status == 0, output
    assert "2 cases" in output
    write(kb / "cases" / "more" / "misspelt.yml", "immune_statuss: immunocompromised\n")
    write(kb / "cases" / "notes.txt", "a note\n")
    assert messages(kb) == [
        "misspelt.yml:GKB401:unknown fact 'immune_statuss'",
        "notes.txt:GKB011:not read: case files end in .yaml or .yml or .json",
    ]
    status, output = validate(kb)
    assert status == 2
    assert "misspelt.yml:1:1" in output


# --- all problems of all files in one pass -------------------------------------------------------


def test_problems_of_every_file_in_one_pass_even_when_the_rules_have_problems(kb: Path) -> None:
    write(kb / "rules" / "broken.yaml", "rules:\n  - id: [unclosed\n")
    edit(kb / "rules" / "main.yaml", "fact: on_foscarnet", "fact: on_foscarnett")
    write(kb / "invariants.yaml", BAD_INVARIANT)
    write(kb / "scenarios" / "bad.yaml", BAD_SCENARIO)
    write(kb / "cases" / "bad.yaml", "lesion_course: healing\n")
    found = messages(kb)
    assert len(found) == 6, found
    for expected in ["broken.yaml:GKB001:YAML syntax error", "main.yaml:GKB201:",
                     "invariants.yaml:", "'topical_acyclovirr'", "bad.yaml:GKB401:",
                     "'monitor_renal_functoin'", "bad.yaml:GKB403:"]:
        assert any(expected in m for m in found), (expected, found)
    status, output = validate(kb)
    assert status == 2
    for name in ["broken.yaml", "main.yaml", "invariants.yaml", "scenarios/bad.yaml",
                 "cases/bad.yaml"]:
        assert name in output, name


def test_without_a_vocabulary_other_files_are_still_checked_for_syntax_and_structure(kb: Path) -> None:
    write(kb / "facts.yaml", "facts:\n  x: [unclosed\n")
    write(kb / "invariants.yaml", "invariants:\n  - id: x\n    rationale: r\n    nevr_recommend: {}\n")
    write(kb / "scenarios" / "syntax.yaml", "case: {a: b\n")
    write(kb / "scenarios" / "shape.yaml", "description: d\ncase: {}\nexpectt: {}\n")
    write(kb / "cases" / "list.yaml", "- a\n- b\n")
    write(kb / "rules" / "notes.txt", "x\n")
    found = {(name, code) for name, code, _ in (m.split(":", 2) for m in messages(kb))}
    assert ("facts.yaml", "GKB001") in found
    assert ("invariants.yaml", "GKB101") in found
    assert ("syntax.yaml", "GKB001") in found
    assert ("shape.yaml", "GKB101") in found
    assert ("list.yaml", "GKB404") in found
    assert ("notes.txt", "GKB011") in found


def test_the_shipped_knowledge_base_has_no_problem_and_its_cases_are_counted() -> None:
    from tests.conftest import HSV_KB

    checked = check_everything(HSV_KB)
    assert checked.problems == ()
    assert checked.cases == len(list((HSV_KB / "cases").iterdir())) > 0
    assert checked.scenarios == len(list((HSV_KB / "scenarios").iterdir()))
