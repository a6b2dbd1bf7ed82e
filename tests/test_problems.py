"""Structured problems and one error hierarchy (issue 8, items 3 and 5): every problem has a
stable code, a location path and the path named by its owner; the validation library's wording
never reaches an author; the Python API validates a case exactly as the command line does."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from guidekb.engine.errors import (
    BAD_CONDITION,
    DERIVED_FACT_IN_CASE,
    ERROR_CODES,
    QUOTE_NOT_FOUND,
    UNCLASSIFIED,
    UNKNOWN_CASE_FACT,
    VALUE_NOT_ALLOWED,
    CaseError,
    EvaluationError,
    GuidekbError,
    KnowledgeBaseError,
    Problem,
    ProblemsError,
    UnknownName,
)
from guidekb.engine.format.cases import parse_case
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.loading import load_knowledge_base
from guidekb.engine.format.models import FactsFile, Manifest, OutcomesFile, RulesFile
from guidekb.engine.format.validation import validate
from guidekb.engine.format.yamlsource import parse_yaml
from guidekb.engine.runtime.evaluation import Engine
from tests.minikb import FACTS, MANIFEST, OUTCOMES, RULES, edit, write_mini_kb
from tests.test_loader_errors import GOLDEN

ROOT = Path(__file__).resolve().parent.parent
DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml's when present: much faster

# The code each golden loader message is given (tests/test_loader_errors.py).
GOLDEN_CODES = {
    "yaml_syntax": "GKB001", "unknown_key": "GKB101", "wrong_type": "GKB103", "missing_key": "GKB102",
    "duplicate_rule_id": "GKB204", "duplicate_yaml_key": "GKB002", "undeclared_fact": "GKB201",
    "value_outside_domain": "GKB206", "threshold_outside_range": "GKB206", "operator_for_type": "GKB205",
    "unknown_code": "GKB202", "unknown_source": "GKB203", "quote_one_word_changed": "GKB301",
    "quote_in_other_section": "GKB302", "missing_section": "GKB303", "reference_not_listed": "GKB304",
    "reference_not_cited": "GKB305", "derived_fact_negated": "GKB207", "derived_fact_unknown": "GKB207",
    "derive_case_fact": "GKB207", "derived_cycle": "GKB208", "bad_condition_key": "GKB105",
    "two_operators": "GKB105", "fact_type_unknown": "GKB104", "integer_without_range": "GKB104",
    "source_file_missing": "GKB209", "section_not_in_text": "GKB210",
}


def _load_problems(root: Path) -> tuple[Problem, ...]:
    with pytest.raises(KnowledgeBaseError) as caught:
        load_knowledge_base(root)
    return caught.value.problems()


# --- codes -------------------------------------------------------------------------------------


def test_every_error_code_is_documented_and_only_those() -> None:
    text = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    documented = dict(re.findall(r"^\| `(GKB\d{3})` \| `([a-z-]+)` \|", text, flags=re.MULTILINE))
    assert documented == {code.id: code.name for code in ERROR_CODES.values()}
    assert len({code.name for code in ERROR_CODES.values()}) == len(ERROR_CODES)


@pytest.mark.parametrize(("file", "old", "new", "expected"), GOLDEN)
def test_each_golden_problem_has_its_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, file: str,
                                          old: str, new: str, expected: list[str],
                                          request: pytest.FixtureRequest) -> None:
    golden_id = request.node.callspec.id
    root = write_mini_kb(tmp_path / "kb")
    edit(root / file, old, new)
    monkeypatch.chdir(root)
    problems = _load_problems(root)
    assert [p.render() for p in problems] == expected  # the rendered text is unchanged
    assert problems[0].code.id == GOLDEN_CODES[golden_id]
    assert all(p.code is not UNCLASSIFIED for p in problems)


def test_a_problem_names_its_place_by_path_and_by_owner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = write_mini_kb(tmp_path / "kb")
    edit(root / "rules" / "main.yaml", "once or twice weekly", "once or thrice weekly")
    monkeypatch.chdir(root)
    [problem] = _load_problems(root)
    assert problem.code is QUOTE_NOT_FOUND and str(problem.code) == "GKB301 quote-not-found"
    assert problem.path == "rules[3].provenance[0].quote"
    assert problem.where == "rule renal-monitoring: provenance[0].quote"
    assert problem.as_dict() == {
        "file": "rules/main.yaml", "line": 58, "column": 16, "code": "GKB301", "name": "quote-not-found",
        "path": "rules[3].provenance[0].quote", "where": "rule renal-monitoring: provenance[0].quote",
        "message": problem.message, "hint": problem.hint, "severity": "error"}


def test_problems_is_callable_and_still_a_sequence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = write_mini_kb(tmp_path / "kb")
    edit(root / "rules" / "main.yaml", "      recommend: [iv_foscarnet]", "      recommend: [iv_foscarnett]")
    edit(root / "rules" / "main.yaml", "        - fact: immune_status", "        - fact: immune_statu")
    monkeypatch.chdir(root)
    with pytest.raises(ProblemsError) as caught:
        load_knowledge_base(root)
    problems = caught.value.problems()
    assert isinstance(problems, tuple) and len(problems) == 2
    assert caught.value.problems[0] == problems[0] and list(caught.value.problems) == list(problems)
    assert [p.where for p in problems] == ["rule suspect-when-failing: when.all[1].fact",
                                           "rule foscarnet-when-suspected: then.recommend[0]"]


def test_facts_and_sources_are_named_by_their_owner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = write_mini_kb(tmp_path / "kb")
    edit(root / "facts.yaml", "    type: integer", "    type: number")
    edit(root / "manifest.yaml", "file: sources/persistent-cold-sores-next-step.txt", "file: sources/x.txt")
    monkeypatch.chdir(root)
    by_file = {p.file: p for p in _load_problems(root)}
    assert by_file["facts.yaml"].where == "fact days_on_therapy: type"
    assert by_file["manifest.yaml"].where == "source cold-sores: file"


# --- the author never reads the validation library's wording -----------------------------------

LIBRARY_WORDING = re.compile(r"Input should|instance of|Value error|Field required|String should|"
                             r"List should|Extra inputs|validation error|pydantic|Assertion failed")
WRONG_VALUES: list[Any] = [None, True, 7, 1.5, "text", "Not An Id", [], ["x"], [{"a": 1}], {}, {"b": 2},
                           "2020-13-45"]


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(data, dict):
        for key, value in data.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            found += _paths(value, (*prefix, i))
    return found


def _replaced(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    copy: Any = dict(data) if isinstance(data, dict) else list(data)
    copy[path[0]] = _replaced(copy[path[0]], path[1:], value)
    return copy


@pytest.mark.parametrize(("model", "text"), [(RulesFile, RULES), (FactsFile, FACTS),
                                             (OutcomesFile, OUTCOMES), (Manifest, MANIFEST)],
                         ids=["rules", "facts", "outcomes", "manifest"])
def test_no_library_wording_for_any_wrong_value(model: Any, text: str) -> None:
    """Every place of each file, given every kind of wrong value: the problems speak the
    format's language, each with a code and a path that exists in the file."""
    original = yaml.safe_load(text)
    seen_kinds: set[str] = set()
    for path in _paths(original):
        for wrong in WRONG_VALUES:
            data = _replaced(original, path, wrong)
            doc, syntax = parse_yaml(yaml.dump(data, Dumper=DUMPER, sort_keys=False), "f.yaml")
            if syntax:
                continue  # refused while reading (a decimal number): not the format's business
            _, problems = validate(model, doc)
            for problem in problems:
                shown = problem.message + "\n" + problem.hint
                assert not LIBRARY_WORDING.search(shown), (path, wrong, shown)
                assert problem.code is not UNCLASSIFIED, (path, wrong, shown)
                seen_kinds.add(problem.code.name)
    assert "wrong-type" in seen_kinds


def test_a_mapping_written_as_a_list_is_explained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = write_mini_kb(tmp_path / "kb")
    edit(root / "rules" / "main.yaml", "    then:\n      recommend: [iv_foscarnet]",
         "    then:\n      - recommend: [iv_foscarnet]")
    monkeypatch.chdir(root)
    [problem] = _load_problems(root)
    assert problem.message == "rules[2].then: expected a mapping with the keys derive, recommend, forbid"
    assert problem.hint == "write its keys directly under 'then:', not as list items ('- ')"


def test_a_condition_error_is_coded_as_such(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = write_mini_kb(tmp_path / "kb")
    edit(root / "rules" / "main.yaml", "      always: true", "      always: yes please")
    monkeypatch.chdir(root)
    [problem] = _load_problems(root)
    assert problem.message == "rules[4].when.always: must be true"
    assert problem.hint == "write always: true"
    edit(root / "rules" / "main.yaml", "      always: yes please", "      never: true")
    [problem] = _load_problems(root)
    assert problem.code is BAD_CONDITION


# --- the Python API validates by default, as the command line does -----------------------------


@pytest.fixture(scope="module")
def hsv(request: pytest.FixtureRequest) -> KnowledgeBase:
    kb: KnowledgeBase = request.getfixturevalue("hsv_kb")
    return kb


INVALID_CASES = [
    ({"penicillin_allergy": "immediate"}, UNKNOWN_CASE_FACT, "penicillin_allergy", None),
    ({"days_on_therapy": "4"}, VALUE_NOT_ALLOWED, "days_on_therapy", "4"),
    ({"days_on_therapy": 4000}, VALUE_NOT_ALLOWED, "days_on_therapy", 4000),
    ({"days_on_therapy": -1}, VALUE_NOT_ALLOWED, "days_on_therapy", -1),
    ({"days_on_therapy": True}, VALUE_NOT_ALLOWED, "days_on_therapy", True),
    ({"immune_status": "immunosupressed"}, VALUE_NOT_ALLOWED, "immune_status", "immunosupressed"),
    ({"immune_statu": "immunocompromised"}, UNKNOWN_CASE_FACT, "immune_statu", None),
    ({"resistance_suspected": True}, DERIVED_FACT_IN_CASE, "resistance_suspected", True),
]


@pytest.mark.parametrize(("case", "code", "fact", "value"), INVALID_CASES,
                         ids=[next(iter(c[0])) + "=" + repr(next(iter(c[0].values()))) for c in INVALID_CASES])
def test_evaluate_refuses_what_the_command_line_refuses(hsv_kb: KnowledgeBase, hsv_engine: Engine,
                                                        case: dict[str, Any], code: Any, fact: str,
                                                        value: Any) -> None:
    assert fact in hsv_kb.facts or code is UNKNOWN_CASE_FACT  # the case is about the HSV vocabulary
    with pytest.raises(CaseError) as api:
        hsv_engine.evaluate(case)
    with pytest.raises(CaseError) as cli:
        parse_case(yaml.safe_dump(case), hsv_kb, "case.yaml")
    assert [p.message for p in api.value.problems()] == [p.message for p in cli.value.problems()]
    assert [p.hint for p in api.value.problems()] == [p.hint for p in cli.value.problems()]
    [problem] = api.value.problems()
    assert problem.code is code
    assert (api.value.fact, api.value.value) == (fact, value)
    assert api.value.allowed
    with pytest.raises(CaseError):
        hsv_engine.fire(case)


def test_a_misspelt_fact_gets_did_you_mean_never_a_key_error(hsv_engine: Engine) -> None:
    with pytest.raises(CaseError) as caught:
        hsv_engine.evaluate({"immune_statu": "immunocompromised"})
    assert caught.value.problems()[0].hint == "did you mean 'immune_status'?"


def test_a_validated_case_may_skip_validation(hsv_kb: KnowledgeBase, hsv_engine: Engine) -> None:
    from guidekb.engine.format.cases import validate_case

    case = validate_case({"days_on_therapy": 12, "on_foscarnet": None}, hsv_kb)
    assert hsv_engine.evaluate(case, validated=True) == hsv_engine.evaluate({"days_on_therapy": 12})


# --- one hierarchy ---------------------------------------------------------------------------


def test_unknown_names_are_guidekb_errors_and_key_errors(hsv_kb: KnowledgeBase) -> None:
    from guidekb.engine.runtime.explanation import explain

    with pytest.raises(UnknownName) as rule:
        hsv_kb.rule("no-famciclovir-when-suspectd")
    assert isinstance(rule.value, KeyError) and isinstance(rule.value, GuidekbError)
    assert "did you mean" in str(rule.value)
    with pytest.raises(KeyError, match="unknown code 'iv_foscarnett'"):
        explain(hsv_kb, {}, "iv_foscarnett")


def test_every_error_of_guidekb_derives_from_one_base() -> None:
    from guidekb.engine.qa.scenarios import ScenarioError
    from guidekb.engine.semantics.operators import UnsupportedCondition
    from guidekb.visualize.decisions import TooLarge
    from guidekb.visualize.errors import VisualizeError

    for error in (ProblemsError, KnowledgeBaseError, CaseError, ScenarioError, EvaluationError, UnknownName,
                  UnsupportedCondition, TooLarge, VisualizeError):
        assert issubclass(error, GuidekbError), error


def test_every_problem_guidekb_reports_has_a_specific_code() -> None:
    """A program reading `--format json` or SARIF filters and links problems by code; GKB000
    ("not yet classified") is the default of `Problem`, so a construction that forgets `code=`
    would slip through every other test. Every `Problem(...)` in guidekb's code names one."""
    import ast

    from tests.conftest import ROOT

    unclassified = []
    for folder in ("engine", "guidekb", "visualize"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                name = getattr(node, "func", None)
                called = getattr(name, "id", getattr(name, "attr", None))
                if (isinstance(node, ast.Call) and called == "Problem" and len(node.args) < 7
                        and not any(k.arg in ("code", None) for k in node.keywords)):
                    unclassified.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not unclassified, "Problem(...) without code=: " + ", ".join(unclassified)
