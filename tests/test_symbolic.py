"""The z3 encoding of a knowledge base agrees with the real engine on every generated case.

Proofs (`guidekb check --prove`) and lint findings are only as good as this encoding, so it is
tested against the durable_rules engine on Hypothesis cases, for the default knowledge base and
for one that uses every operator of the condition language.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import z3
from hypothesis import given
from hypothesis import strategies as st

from guidekb.engine.format.conditions import facts_read
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.loading import load_knowledge_base
from guidekb.engine.format.models import Condition
from guidekb.engine.qa.proof import cross_check
from guidekb.engine.qa.strategies import cases
from guidekb.engine.qa.symbolic import SymbolicKB
from guidekb.engine.runtime.evaluation import Engine
from guidekb.engine.semantics.logic import evaluate as kleene
from tests.negationkb import grid, write_negation_kb
from tests.symkb import write_operator_kb


@pytest.fixture(scope="module")
def operator_kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    return load_knowledge_base(write_operator_kb(tmp_path_factory.mktemp("ops")))


def _agree(kb: KnowledgeBase, sym: SymbolicKB, case: dict[str, Any]) -> None:
    answer = Engine.for_kb(kb).evaluate(case)
    rules = [r.id for r in kb.rules]
    codes = list(kb.outcomes)
    derived = list(kb.derived_facts)
    exprs = ([sym.fired(r) for r in rules] + [sym.recommended(c) for c in codes]
             + [sym.forbidden(c) for c in codes] + [sym.conflict(c) for c in codes]
             + [sym.derived(d) for d in derived])
    got = sym.evaluate(exprs, case)
    conflicts = {c.code for c in answer.conflicts}
    expected = ([r in answer.fired for r in rules] + [c in answer.recommended_codes() for c in codes]
                + [c in answer.forbidden_codes() for c in codes] + [c in conflicts for c in codes]
                + [d in answer.derived_facts() for d in derived])
    names = ([f"fired {r}" for r in rules] + [f"recommended {c}" for c in codes]
             + [f"forbidden {c}" for c in codes] + [f"conflict {c}" for c in codes]
             + [f"derived {d}" for d in derived])
    wrong = [n for n, g, e in zip(names, got, expected, strict=True) if g != e]
    assert not wrong, f"encoding disagrees with the engine on {case}: {wrong}"


def test_operator_kb_fires_every_rule_somewhere(operator_kb: KnowledgeBase) -> None:
    """Guard for the test itself: a rule that never fires would test nothing."""
    sym = SymbolicKB(operator_kb)
    for rule in operator_kb.rules:
        solver = z3.Solver()
        solver.add(*sym.domain(), sym.fired(rule.id))
        assert solver.check() == z3.sat, rule.id


def test_encoding_agrees_with_engine_on_operator_kb(operator_kb: KnowledgeBase) -> None:
    sym = SymbolicKB(operator_kb)

    @given(cases(operator_kb))
    def agree(case: dict[str, Any]) -> None:
        _agree(operator_kb, sym, case)

    agree()


def test_encoding_agrees_with_engine_on_default_kb(hsv_kb: KnowledgeBase) -> None:
    sym = SymbolicKB(hsv_kb)

    @given(cases(hsv_kb))
    def agree(case: dict[str, Any]) -> None:
        _agree(hsv_kb, sym, case)

    agree()


def test_encoding_agrees_with_engine_on_every_negation(tmp_path: Path) -> None:
    """Every kind of `not` and `unknown`, on every seventh case of a grid that reaches each
    rule (7 is prime to the length of every axis, so every value of each fact is met)."""
    kb = load_knowledge_base(write_negation_kb(tmp_path))
    sym = SymbolicKB(kb)
    fired: set[str] = set()
    for case in grid()[::7]:
        _agree(kb, sym, case)
        fired.update(Engine.for_kb(kb).evaluate(case).fired)
    assert {rule.id for rule in kb.rules} - fired == {"not-always"}


def test_conditions_follow_kleene_logic(operator_kb: KnowledgeBase) -> None:
    """(is_true, is_false) of every rule condition matches guidekb.engine.semantics.logic on case facts."""
    sym = SymbolicKB(operator_kb)
    conditions: list[Condition] = [r.when for r in operator_kb.rules
                                   if not any(f in operator_kb.derived_facts for f in facts_read(r.when))]

    @given(cases(operator_kb), st.sampled_from(conditions))
    def agree(case: dict[str, Any], cond: Condition) -> None:
        is_true, is_false = sym.truth(cond)
        assert tuple(sym.evaluate([is_true, is_false], case)) == {
            True: (True, False), False: (False, True), None: (False, False)}[kleene(cond, case)]

    agree()


def test_models_are_valid_cases(operator_kb: KnowledgeBase) -> None:
    """A solver model read back as a case is accepted by validation and replays the same."""
    sym = SymbolicKB(operator_kb)
    for rule in operator_kb.rules:
        solver = z3.Solver()
        solver.add(*sym.domain(), sym.fired(rule.id))
        assert solver.check() == z3.sat
        case = sym.case_from(solver.model())
        assert rule.id in Engine.for_kb(operator_kb).evaluate(case).fired


def test_cross_check_finds_no_disagreement(hsv_kb: KnowledgeBase, operator_kb: KnowledgeBase) -> None:
    assert cross_check(hsv_kb, 100) == []
    assert cross_check(operator_kb, 100) == []


def test_cross_check_catches_an_encoding_bug(operator_kb: KnowledgeBase,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The runtime guard works: a deliberately wrong encoding (a condition that is not false
    taken as true, i.e. unknown read as true: the classic three-valued mistake) is caught on
    random cases."""
    real = SymbolicKB.truth

    def wrong(self: SymbolicKB, cond: Condition) -> Any:
        is_false = real(self, cond)[1]
        return z3.Not(is_false), is_false

    monkeypatch.setattr(SymbolicKB, "truth", wrong)
    assert cross_check(operator_kb, 200) != []


def test_shared_copy_differs_only_in_named_fact(operator_kb: KnowledgeBase) -> None:
    base = SymbolicKB(operator_kb)
    other = SymbolicKB(operator_kb, tag="b:", shared=base, differ={"on_foscarnet"})
    assert other.vars["days_on_therapy"] is base.vars["days_on_therapy"]
    assert other.vars["on_foscarnet"] is not base.vars["on_foscarnet"]


def test_unknown_facts_are_left_out_of_cases(tmp_path: Path) -> None:
    """Models only name facts that are known: case_from omits unknown facts."""
    kb = load_knowledge_base(write_operator_kb(tmp_path))
    sym = SymbolicKB(kb)
    solver = z3.Solver()
    solver.add(*sym.domain(), *[z3.Not(fv.present) for fv in sym.vars.values()])
    assert solver.check() == z3.sat
    assert sym.case_from(solver.model()) == {}
