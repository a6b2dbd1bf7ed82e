"""Prove the checks can fail: seeded mutations of the default knowledge base must be caught.

Each test copies knowledge/hsv-resistance to a temporary folder, edits one rule's YAML text
(located by rule id; a missing rule fails the test loudly rather than testing nothing), and
shows that the invariants' property test, the scenario suite or the loader rejects the result. For
the dropped famciclovir prohibition the printed counterexample is itself checked: written to
a file, it loads as a scenario that fails on the mutated knowledge base and passes on the
real one. Each mutated knowledge base is loaded once (durable_rules never frees a ruleset).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, find, settings

from guidekb.engine.errors import KnowledgeBaseError
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.loading import load_knowledge_base
from guidekb.engine.qa.invariants import Invariant, check_case, load_invariants
from guidekb.engine.qa.scenarios import load_scenario, run_scenario, run_scenarios
from guidekb.engine.qa.strategies import invariant_cases
from guidekb.engine.runtime.evaluation import Engine
from tests.conftest import HSV_KB
from tests.kbedit import drop_rule, edit_rule, rule_block
from tests.propcheck import InvariantViolated, property_test, scenario_text

# Enough for the search to find a violation reliably, fast enough for the `ci` profile.
SEARCH = settings(max_examples=1000, database=None, deadline=None, derandomize=True,
                  report_multiple_bugs=False, suppress_health_check=list(HealthCheck))
# Detection only: shrinking a counterexample costs far more than finding it, and only the
# famciclovir test (which checks the printed scenario) needs the shrunk one.
DETECT = settings(SEARCH, phases=[Phase.generate])


# --- editing the knowledge base as text ---------------------------------------------------------


def copy_kb(tmp_path: Path) -> Path:
    target = tmp_path / "hsv-resistance"
    shutil.copytree(HSV_KB, target)
    return target


def invariant(kb: KnowledgeBase, inv_id: str) -> Invariant:
    by_id = {inv.id: inv for inv in load_invariants(kb)}
    assert inv_id in by_id, f"invariant '{inv_id}' is not in {kb.root / 'invariants.yaml'}"
    return by_id[inv_id]


def find_violation(kb: KnowledgeBase, inv: Invariant, engine: Engine) -> dict[str, Any]:
    """A case violating `inv`, found by Hypothesis (NoSuchExample fails the test)."""
    case: dict[str, Any] = find(invariant_cases(kb, inv),
                                lambda c: check_case(inv, c, engine.evaluate) is not None,
                                settings=DETECT)
    return case


# --- the mutations ------------------------------------------------------------------------------


def test_dropping_the_famciclovir_prohibition_is_caught(tmp_path: Path, hsv_kb: KnowledgeBase,
                                                        hsv_engine: Engine) -> None:
    root = copy_kb(tmp_path)
    drop_rule(root, "no-famciclovir-when-suspected")
    kb = load_knowledge_base(root)  # the loader cannot see a missing rule...
    engine = Engine.for_kb(kb)
    inv = invariant(kb, "no-famciclovir-when-resistance-suspected")

    # ...the property test can: it fails, and prints a scenario.
    with pytest.raises(InvariantViolated) as failure:
        SEARCH(property_test(kb, inv, engine))()
    printed = scenario_text(str(failure.value))

    # The printed scenario is a valid scenario file that fails on the mutated knowledge base
    # and passes on the real one: a regression test for exactly this mistake.
    path = tmp_path / "counterexample.yaml"
    path.write_text(printed, encoding="utf-8")
    on_mutant = run_scenario(engine, load_scenario(path, kb))
    assert on_mutant.loaded.scenario.expect.forbidden == ["famciclovir"]
    assert [(d.expectation, d.item) for d in on_mutant.differences] == [("forbidden", "famciclovir")]
    assert run_scenario(hsv_engine, load_scenario(path, hsv_kb)).passed

    # The violation is the one seeded: suspicion is still concluded, famciclovir not forbidden.
    assert "resistance_suspected" in on_mutant.answer.derived_facts()


def test_raising_the_treatment_failure_threshold_is_caught(tmp_path: Path, hsv_engine: Engine) -> None:
    root = copy_kb(tmp_path)
    edit_rule(root, "treatment-failure-no-resolution", "ge: 10\n", "ge: 100\n")
    kb = load_knowledge_base(root)
    engine = Engine.for_kb(kb)
    inv = invariant(kb, "no-famciclovir-when-resistance-suspected")
    case = find_violation(kb, inv, engine)
    # The counterexample sits in the days the mutation stopped counting as failure.
    assert 10 <= case["days_on_therapy"] < 100
    assert check_case(inv, case, hsv_engine.evaluate) is None
    # The scenario suite catches it too: the day-10 boundary scenarios now fail.
    failed = {r.name for r in run_scenarios(kb) if not r.passed}
    assert "window-day-10-failure" in failed


def test_weakening_the_resistance_test_is_caught(tmp_path: Path, hsv_engine: Engine) -> None:
    """A rule that reads the wrong culture result no longer forbids the acyclovir family."""
    root = copy_kb(tmp_path)
    edit_rule(root, "resistance-confirmed-by-testing", "equals: acyclovir_resistant", "equals: pending")
    kb = load_knowledge_base(root)
    engine = Engine.for_kb(kb)
    inv = invariant(kb, "acyclovir-family-forbidden-once-resistance-confirmed")
    case = find_violation(kb, inv, engine)
    assert case["susceptibility_result"] == "acyclovir_resistant"
    assert check_case(inv, case, hsv_engine.evaluate) is None


def test_dropping_renal_monitoring_is_caught(tmp_path: Path) -> None:
    root = copy_kb(tmp_path)
    drop_rule(root, "foscarnet-renal-monitoring")
    kb = load_knowledge_base(root)
    engine = Engine.for_kb(kb)
    case = find_violation(kb, invariant(kb, "foscarnet-requires-renal-monitoring"), engine)
    assert "iv_foscarnet" in engine.evaluate(case).recommended_codes()


def test_an_altered_quote_is_caught_by_the_loader(tmp_path: Path) -> None:
    root = copy_kb(tmp_path)
    edit_rule(root, "no-famciclovir-when-suspected", "as cross-resistance is common",
              "as cross-resistance is rare")
    with pytest.raises(KnowledgeBaseError) as failure:
        load_knowledge_base(root)
    [problem] = failure.value.problems
    assert problem.file.endswith("prohibitions.yaml")
    assert "no-famciclovir-when-suspected" in problem.message
    assert "quote not found verbatim" in problem.message


def test_a_deleted_provenance_is_caught_by_the_loader(tmp_path: Path) -> None:
    root = copy_kb(tmp_path)
    path, start, end = rule_block(root, "no-famciclovir-when-suspected")
    text = path.read_text(encoding="utf-8")
    block = text[start:end]
    cut = block.index("    provenance:\n")
    path.write_text(text[:start] + block[:cut] + text[end:], encoding="utf-8")
    with pytest.raises(KnowledgeBaseError) as failure:
        load_knowledge_base(root)
    assert any("missing required key 'provenance'" in p.message for p in failure.value.problems)


def test_an_altered_invariant_quote_is_caught(tmp_path: Path) -> None:
    root = copy_kb(tmp_path)
    path = root / "invariants.yaml"
    text = path.read_text(encoding="utf-8")
    old = "quote: Do not attempt these alternatives once resistance is confirmed"
    assert old in text
    path.write_text(text.replace(old, old.replace("confirmed", "suspected")), encoding="utf-8")
    kb = load_knowledge_base(root)  # rules are untouched...
    with pytest.raises(KnowledgeBaseError) as failure:  # ...but the invariants do not load
        load_invariants(kb)
    assert all("quote not found verbatim" in p.message for p in failure.value.problems)
    assert all(p.file.endswith("invariants.yaml") for p in failure.value.problems)
