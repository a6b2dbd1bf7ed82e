"""Differential testing: the durable_rules engine against the reference interpreter.

`guidekb.engine.qa.reference` reads the condition trees directly with Kleene logic and shares no code
with the compiler (guidekb.engine.runtime.compiling) or the engine's firing path (guidekb.engine.runtime.evaluation). The two
must agree exactly, on every case, on the rules fired, the conclusions derived and the codes
recommended and forbidden. Scenarios only test the cases someone thought of; this catches a
compiler bug on any case Hypothesis can reach, and exhaustively on a small knowledge base
built to exercise every kind of negation and unknown.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample

from guidekb.engine.format.cases import validate_case
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.loading import load_knowledge_base
from guidekb.engine.qa.reference import reference_evaluate
from guidekb.engine.qa.strategies import cases, cases_where
from guidekb.engine.runtime.evaluation import Engine
from tests.conftest import knowledge_base_dirs
from tests.negationkb import grid, write_negation_kb


@cache
def _kb(path: Path) -> KnowledgeBase:
    return load_knowledge_base(path)


def assert_agree(kb: KnowledgeBase, engine: Engine, case: dict[str, Any]) -> None:
    answer = engine.evaluate(case)
    ref = reference_evaluate(kb, case)
    got = {"fired": list(answer.fired), "derived": sorted(answer.derived_facts()),
           "recommended": sorted(answer.recommended_codes()),
           "forbidden": sorted(answer.forbidden_codes())}
    want = {"fired": ref.fired, "derived": ref.derived, "recommended": sorted(ref.recommended),
            "forbidden": sorted(ref.forbidden)}
    assert got == want, f"engine and reference disagree on case {case}"
    conflicts = sorted(c.code for c in answer.conflicts)
    assert conflicts == sorted(set(ref.proposed) & set(ref.forbidden))


@pytest.mark.parametrize("kb_dir", knowledge_base_dirs(), ids=lambda p: p.name)
def test_engine_agrees_with_reference(kb_dir: Path) -> None:
    kb = _kb(kb_dir)
    engine = Engine.for_kb(kb)
    # Plain cases leave each fact unknown half the time; focused ones know most facts; aimed
    # ones are built to make one rule fire, which is what it takes to reach the deep chains
    # (failure -> suspicion -> treatment) and the boundaries of each rule's tests.
    aimed = [cases_where(kb, rule.when) for rule in kb.rules]
    strategy = st.one_of(cases(kb), cases(kb, focus=kb.case_facts), *aimed)

    @given(strategy)
    def agree(case: dict[str, Any]) -> None:
        assert validate_case(case, kb) == case  # the strategy only makes valid cases
        assert_agree(kb, engine, case)

    agree()


# --- a knowledge base made of negations, compared on every case of a grid ---------------------


@pytest.fixture(scope="module")
def negation_kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    return load_knowledge_base(write_negation_kb(tmp_path_factory.mktemp("negations")))


def test_engine_agrees_with_reference_on_every_negation(negation_kb: KnowledgeBase) -> None:
    engine = Engine.for_kb(negation_kb)
    fired: set[str] = set()
    for case in grid():
        assert_agree(negation_kb, engine, case)
        fired.update(engine.evaluate(case).fired)
    # The grid is only a test if it reaches the rules: all but the one that can never fire.
    assert {rule.id for rule in negation_kb.rules} - fired == {"not-always"}


TARGETED: list[tuple[dict[str, Any], set[str], set[str]]] = [
    # An unknown fact makes both a test and its negation unknown: neither rule fires.
    ({}, {"not-known", "unknown", "forbid-foscarnet-unless-known-course"},
     {"not-enum-equals", "not-int-ge", "not-list-contains", "not-bool", "not-unknown", "int-in"}),
    ({"days_on_therapy": 9}, {"not-int-ge", "not-int-equals", "not-int-in", "not-int-gt", "not-int-le",
                              "not-int-lt"}, {"int-in"}),
    ({"days_on_therapy": 5}, {"not-int-lt", "not-int-ge"}, {"not-int-le"}),
    ({"days_on_therapy": 21}, {"not-int-lt"}, {"not-int-gt", "not-int-ge"}),
    ({"days_on_therapy": 10}, {"not-int-equals", "not-int-in"}, {"not-int-ge"}),
    ({"days_on_therapy": 7}, {"int-in", "not-int-ge"}, {"not-int-equals", "not-int-in"}),
    ({"causes": []}, {"not-list-contains", "not-unknown"}, {"list-contains"}),
    ({"causes": ["hiv"]}, {"not-unknown"}, {"not-list-contains"}),
    ({"on_foscarnet": False}, {"not-bool"}, {"not-bool-in"}),
    ({"lesion_course": "progressive"}, {"double-not", "not-enum-equals"}, {"not-enum-in", "unknown"}),
    # De Morgan under three values: competent makes the inner `all` false, so `not` is true...
    ({"immune_status": "immunocompetent"}, {"de-morgan"}, set()),
    # ...compromised with nothing else known leaves it unknown, so the rule stays silent.
    ({"immune_status": "immunocompromised"}, set(), {"de-morgan"}),
]


@pytest.mark.parametrize(("case", "fires", "silent"), TARGETED,
                         ids=[",".join(f"{k}={v}" for k, v in c.items()) or "all-unknown" for c, _, _ in TARGETED])
def test_targeted_negations(negation_kb: KnowledgeBase, case: dict[str, Any], fires: set[str],
                            silent: set[str]) -> None:
    answer = Engine.for_kb(negation_kb).evaluate(case)
    assert fires <= set(answer.fired)
    assert not silent & set(answer.fired)
    assert_agree(negation_kb, Engine.for_kb(negation_kb), case)


def test_derived_chain_through_negation(negation_kb: KnowledgeBase) -> None:
    """A conclusion reached through a negated list test feeds two rules; where one of them
    forbids what the other recommends, the prohibition wins and both evaluators see the clash."""
    engine = Engine.for_kb(negation_kb)
    case = {"lesion_course": "persistent", "days_on_therapy": 12, "immune_status": "immunocompromised",
            "causes": ["hiv"]}
    answer = engine.evaluate(case)
    assert {"failing", "suspected"} <= set(answer.derived_facts())
    assert "iv_foscarnet" in answer.recommended_codes()
    clash = {**case, "immune_status": "immunocompetent"}
    answer = engine.evaluate(clash)
    assert "iv_foscarnet" in answer.forbidden_codes()
    assert "iv_foscarnet" not in answer.recommended_codes()
    assert [c.code for c in answer.conflicts] == ["iv_foscarnet"]
    assert_agree(negation_kb, engine, clash)
    chemo = {**case, "causes": ["chemotherapy"], "immune_status": "immunocompetent"}
    assert "suspected" not in engine.evaluate(chemo).derived_facts()
    assert_agree(negation_kb, engine, chemo)


def test_aimed_cases_reach_every_negated_rule(negation_kb: KnowledgeBase) -> None:
    """`cases_where(kb, rule.when)` finds a case firing each rule of the negation knowledge
    base (all but the one that never fires), so a `not` aimed the wrong way is caught."""
    unreached = []
    for rule in negation_kb.rules:
        if rule.id == "not-always":
            continue
        def fires(case: dict[str, Any], rule_id: str = rule.id) -> bool:
            return rule_id in reference_evaluate(negation_kb, case).fired

        try:
            find(cases_where(negation_kb, rule.when), fires,
                 settings=settings(max_examples=50, phases=[Phase.generate], database=None))
        except NoSuchExample:
            unreached.append(rule.id)
    assert unreached == []
