"""The public Python API, `guidekb` and `guidekb.strategies`, used only through public names.

What matters most: a case given as a mapping is validated before it is answered, and an
invalid one raises the CaseError the command line shows, never a silent answer.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import Phase, given, settings

import guidekb
from guidekb.strategies import cases, cases_where, invariant_cases
from tests.conftest import HSV_KB, ROOT
from tests.kbedit import drop_rule

# The failure of the qa-guide: suspicion of resistance is derived from these facts.
SUSPECTED = {"lesion_course": "persistent", "days_on_therapy": 10, "current_antiviral": "valacyclovir",
             "dose_adequate": True, "adherent": True}


@pytest.fixture(scope="module")
def kb() -> guidekb.KnowledgeBase:
    return guidekb.load(HSV_KB)


@pytest.fixture(scope="module")
def mutant(tmp_path_factory: pytest.TempPathFactory) -> guidekb.KnowledgeBase:
    """The HSV knowledge base without its famciclovir prohibition (loaded once per module)."""
    root = tmp_path_factory.mktemp("mutant") / "hsv-resistance"
    shutil.copytree(HSV_KB, root)
    drop_rule(root, "no-famciclovir-when-suspected")
    return guidekb.load(root)


# --- the package itself -------------------------------------------------------------------------


def test_import_guidekb_loads_nothing_heavy() -> None:
    """Names are imported on first use: the CLI and the pytest plugin stay cheap to import."""
    code = ("import sys, guidekb\n"
            "heavy = ('guidekb.engine', 'durable', 'pydantic', 'hypothesis', 'z3', 'networkx', 'yaml')\n"
            "print(sorted(m for m in sys.modules if m.startswith(heavy)))\n"
            "guidekb.Engine\n"
            "print('guidekb.engine.runtime.evaluation' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            cwd=ROOT)
    assert result.stdout.splitlines() == ["[]", "True"]


def test_every_public_name_resolves() -> None:
    from guidekb import _EXPORTS

    assert sorted(guidekb.__all__) == sorted(_EXPORTS) == guidekb.__all__
    for name in guidekb.__all__:
        assert getattr(guidekb, name) is not None
        assert name in dir(guidekb)
    assert guidekb.load_knowledge_base.__module__ == "guidekb.engine.format.loading"
    with pytest.raises(AttributeError, match="no attribute 'evaluat'"):
        guidekb.evaluat  # noqa: B018  (a misspelt name is an AttributeError, as usual)


def test_type_checkers_see_every_public_name(tmp_path: Path) -> None:
    """Lazy at run time, yet mypy knows each name's type and still reports a misspelt one."""
    snippet = tmp_path / "uses_guidekb.py"
    snippet.write_text("import guidekb\nimport guidekb.strategies\n"
                       + "".join(f"reveal_type(guidekb.{name})\n" for name in guidekb.__all__)
                       + "reveal_type(guidekb.strategies.cases)\nguidekb.evaluat\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "mypy", "--strict", str(snippet)], cwd=ROOT,
                            capture_output=True, text=True, timeout=600)
    revealed = re.findall(r'Revealed type is "(.*)"', result.stdout)
    assert len(revealed) == len(guidekb.__all__) + 1, result.stdout
    assert not [t for t in revealed if t == "Any"], result.stdout
    assert 'Module has no attribute "evaluat"' in result.stdout


def test_submodules_are_still_importable_beside_the_lazy_names() -> None:
    from guidekb import cli, commands

    assert callable(cli.main)
    assert commands.__name__ == "guidekb.commands"


def test_error_classes_form_one_hierarchy() -> None:
    for error in (guidekb.ProblemsError, guidekb.KnowledgeBaseError, guidekb.CaseError,
                  guidekb.ScenarioError, guidekb.UnknownName, guidekb.InvariantViolated,
                  guidekb.EvaluationError):
        assert issubclass(error, guidekb.GuidekbError)
    for error in (guidekb.KnowledgeBaseError, guidekb.CaseError, guidekb.ScenarioError):
        assert issubclass(error, guidekb.ProblemsError)
    assert issubclass(guidekb.InvariantViolated, AssertionError)  # a failed test, for runners


# --- loading and evaluating ---------------------------------------------------------------------


def test_load_and_evaluate(kb: guidekb.KnowledgeBase) -> None:
    assert kb.id == "hsv-resistance"
    answer = guidekb.evaluate(kb, SUSPECTED)
    assert isinstance(answer, guidekb.Answer)
    assert "famciclovir" in answer.forbidden_codes()
    assert {"treatment_failure", "resistance_suspected"} <= set(answer.derived_facts())
    # None means unknown, as an absent fact does.
    assert guidekb.evaluate(kb, {**SUSPECTED, "immune_status": None}) == answer


def test_load_reports_every_problem(tmp_path: Path) -> None:
    with pytest.raises(guidekb.KnowledgeBaseError) as failure:
        guidekb.load(tmp_path)
    [problem] = failure.value.problems
    assert isinstance(problem, guidekb.Problem)
    assert problem.message == "no manifest.yaml here"


INVALID_CASES = {
    "value outside the domain": {"immune_status": "immunosuppressed"},
    "integer given as a string": {"days_on_therapy": "10"},
    "integer out of range": {"days_on_therapy": -1},
    "boolean given as a string": {"dose_adequate": "yes"},
    "misspelt fact": {"imune_status": "immunocompetent"},
    "derived fact given": {"resistance_suspected": True},
    "list fact given one value": {"immunocompromise_causes": "hiv"},
}


@pytest.mark.parametrize("case", INVALID_CASES.values(), ids=INVALID_CASES.keys())
def test_evaluate_rejects_what_the_command_line_rejects(kb: guidekb.KnowledgeBase, case: dict[str, Any],
                                                        tmp_path: Path) -> None:
    with pytest.raises(guidekb.CaseError) as from_api:
        guidekb.evaluate(kb, {**SUSPECTED, **case})
    path = tmp_path / "case.yaml"
    path.write_text(yaml.safe_dump({**SUSPECTED, **case}), encoding="utf-8")
    with pytest.raises(guidekb.CaseError) as from_file:  # what `guidekb run case.yaml` reads
        guidekb.load_case(path, kb)
    said = [(p.message, p.hint) for p in from_api.value.problems]
    assert said == [(p.message, p.hint) for p in from_file.value.problems]
    assert len(said) == 1 and next(iter(case)) in said[0][0]


def test_the_command_line_prints_the_same_message(kb: guidekb.KnowledgeBase, tmp_path: Path) -> None:
    case = {"immune_status": "immunosuppressed"}
    with pytest.raises(guidekb.CaseError) as failure:
        guidekb.evaluate(kb, case)
    [problem] = failure.value.problems
    assert problem.message == "fact 'immune_status': value 'immunosuppressed' is not allowed"
    assert "immunocompromised" in problem.hint  # did you mean / what is allowed
    (tmp_path / "case.yaml").write_text(yaml.safe_dump(case), encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "guidekb", "run", "case.yaml", "--kb", str(HSV_KB)],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert f"case.yaml:1:16: {problem.message}\n    {problem.hint}" in result.stderr


def test_the_engine_validates_by_default(kb: guidekb.KnowledgeBase) -> None:
    """`Engine.evaluate` is public too: it must not answer an invalid case either."""
    engine = guidekb.Engine.for_kb(kb)
    assert engine.evaluate(SUSPECTED) == guidekb.evaluate(kb, SUSPECTED)
    for case in INVALID_CASES.values():
        with pytest.raises(guidekb.CaseError):
            engine.evaluate(case)


# --- explaining ---------------------------------------------------------------------------------


def test_explain(kb: guidekb.KnowledgeBase) -> None:
    explanation = guidekb.explain(kb, SUSPECTED, "famciclovir")
    assert isinstance(explanation, guidekb.Explanation)
    assert explanation.status == "forbidden"
    fired = [t.rule for t in explanation.rules if t.fired]
    assert "no-famciclovir-when-suspected" in fired
    assert guidekb.explain(kb, {}, "iv_foscarnet").status == "not recommended"


def test_explain_rejects_an_invalid_case_and_an_unknown_code(kb: guidekb.KnowledgeBase) -> None:
    with pytest.raises(guidekb.CaseError):
        guidekb.explain(kb, {"days_on_therapy": "10"}, "famciclovir")
    with pytest.raises(guidekb.UnknownName) as failure:
        guidekb.explain(kb, SUSPECTED, "famcyclovir")
    assert str(failure.value) == "unknown code 'famcyclovir': did you mean 'famciclovir'?"
    assert isinstance(failure.value, KeyError)


# --- invariants ---------------------------------------------------------------------------------


def test_violated_invariants_of_one_case(kb: guidekb.KnowledgeBase, mutant: guidekb.KnowledgeBase) -> None:
    assert guidekb.violated_invariants(kb, SUSPECTED) == {}
    assert guidekb.violated_invariants(mutant, SUSPECTED) == {
        "no-famciclovir-when-resistance-suspected":
            "does not forbid famciclovir although the condition holds"}
    only = [i for i in guidekb.load_invariants(mutant) if i.id == "never-topical-acyclovir"]
    assert guidekb.violated_invariants(mutant, SUSPECTED, only) == {}
    with pytest.raises(guidekb.CaseError):
        guidekb.violated_invariants(kb, {"days_on_therapy": 5000})


def test_property_test_passes_and_fails_with_a_scenario(kb: guidekb.KnowledgeBase,
                                                        mutant: guidekb.KnowledgeBase) -> None:
    def famciclovir(base: guidekb.KnowledgeBase) -> guidekb.Invariant:
        return next(i for i in guidekb.load_invariants(base) if i.id == "no-famciclovir-when-resistance-suspected")

    search = settings(max_examples=100, derandomize=True, database=None, deadline=None)
    search(guidekb.property_test(kb, famciclovir(kb)))()  # holds: returns quietly
    with pytest.raises(guidekb.InvariantViolated) as failure:  # (not shrunk: the plugin test shrinks)
        settings(search, phases=[Phase.generate])(guidekb.property_test(mutant, famciclovir(mutant)))()
    found = failure.value.counterexample
    assert isinstance(found, guidekb.Counterexample) and found.confirmed
    assert yaml.safe_load(failure.value.scenario_yaml)["expect"] == {"forbidden": ["famciclovir"]}
    assert failure.value.scenario_yaml in str(failure.value)
    # The same counterexample, built by hand from a case one already has:
    by_hand = guidekb.counterexample(mutant, famciclovir(mutant), SUSPECTED)
    assert by_hand.problem == "does not forbid famciclovir although the condition holds"


# --- scenarios ----------------------------------------------------------------------------------


def test_run_scenarios(kb: guidekb.KnowledgeBase) -> None:
    results = guidekb.run_scenarios(kb)
    assert len(results) == len(list((HSV_KB / "scenarios").glob("*.yaml"))) == 49
    assert all(isinstance(r, guidekb.ScenarioResult) and r.passed for r in results)
    one = guidekb.run_scenarios(kb, [HSV_KB / "scenarios" / "window-day-10-failure.yaml"])
    assert [r.name for r in one] == ["window-day-10-failure"]


def test_run_scenarios_reports_invalid_files(kb: guidekb.KnowledgeBase, tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("description: d\ncase: {days_on_therapy: '10'}\nexpect: {}\n", encoding="utf-8")
    with pytest.raises(guidekb.ScenarioError) as failure:
        guidekb.run_scenarios(kb, [path])
    assert [p.line for p in failure.value.problems] == [2]


# --- strategies ---------------------------------------------------------------------------------


def test_strategies_draw_valid_cases(kb: guidekb.KnowledgeBase) -> None:
    invariant = guidekb.load_invariants(kb)[0]
    condition = invariant.condition
    assert condition is not None

    @settings(max_examples=40, derandomize=True, database=None, deadline=None)
    @given(cases(kb), cases_where(kb, condition), invariant_cases(kb, invariant))
    def all_valid(plain: dict[str, Any], aimed: dict[str, Any], for_invariant: dict[str, Any]) -> None:
        for case in (plain, aimed, for_invariant):
            assert guidekb.validate_case(case, kb) == case
            guidekb.evaluate(kb, case)

    all_valid()
