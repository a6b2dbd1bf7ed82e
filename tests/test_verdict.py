"""The verdict ("a prohibition beats a recommendation of the same code; the conflict is listed")
is defined once, in guidekb.engine.semantics.verdict, and every backend reads it the same way:
answer assembly (the engine), the z3 encoding, the reference evaluator and explanations."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
import z3

from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.loading import load_knowledge_base
from guidekb.engine.format.models import Rule
from guidekb.engine.qa.casespace import sample_cases
from guidekb.engine.qa.reference import reference_evaluate
from guidekb.engine.qa.scenarios import load_scenarios
from guidekb.engine.qa.symbolic import Z3_OPS, SymbolicKB
from guidekb.engine.runtime.evaluation import Engine
from guidekb.engine.runtime.explanation import explain
from guidekb.engine.semantics.verdict import PLAIN, conflicted, recommended, verdict
from tests.minikb import write_mini_kb

CITE = """\
    provenance:
      - source: cold-sores
        section: Common Pitfalls to Avoid
        quote: Do not use topical acyclovir
        refs: [2]
"""

# Two recommenders and two forbidders of codes the mini knowledge base already produces, so
# that conflicts, `also_by` and first-rule-wins are all exercised.
CLASHING_RULES = f"""
  - id: topical-acyclovir-off-foscarnet
    title: test
    when: {{fact: on_foscarnet, equals: false}}
    then: {{recommend: [topical_acyclovir, id_consult]}}
{CITE}
  - id: topical-acyclovir-when-resolving
    title: test
    when: {{fact: lesion_course, equals: resolving}}
    then: {{recommend: [topical_acyclovir]}}
{CITE}
  - id: no-consult-when-competent
    title: test
    when: {{fact: immune_status, equals: immunocompetent}}
    then: {{forbid: [{{code: id_consult, reason: not needed}}, {{code: topical_acyclovir, reason: again}}]}}
{CITE}"""


def _rule(rule_id: str, recommend: list[str], forbid: list[str]) -> Rule:
    return Rule.model_validate({
        "id": rule_id, "title": rule_id, "when": {"always": True},
        "then": {"recommend": recommend, "forbid": [{"code": c, "reason": f"{rule_id} says no"} for c in forbid]},
        "provenance": [{"source": "s", "section": "x", "quote": "q"}],
    })


def test_the_rule_over_plain_booleans_and_z3() -> None:
    for proposed, forbidden in itertools.product([False, True], repeat=2):
        assert recommended(proposed, forbidden, PLAIN) is (proposed and not forbidden)
        assert conflicted(proposed, forbidden, PLAIN) is (proposed and forbidden)
        p, f = z3.BoolVal(proposed), z3.BoolVal(forbidden)
        assert z3.is_true(z3.simplify(recommended(p, f, Z3_OPS))) is (proposed and not forbidden)
        assert z3.is_true(z3.simplify(conflicted(p, f, Z3_OPS))) is (proposed and forbidden)


def test_prohibition_beats_recommendation_and_the_conflict_is_listed() -> None:
    decided = verdict([
        _rule("a", ["x", "y"], []),
        _rule("b", ["y", "z"], ["x"]),
        _rule("c", ["x"], ["w", "x"]),
    ])
    assert dict(decided.proposed) == {"x": ("a", "c"), "y": ("a", "b"), "z": ("b",)}
    assert dict(decided.forbidden) == {"x": (("b", "b says no"), ("c", "c says no")),
                                       "w": (("c", "c says no"),)}
    assert decided.recommended == {"y": ("a", "b"), "z": ("b",)}  # x is forbidden: not recommended
    assert decided.conflicts == {"x": ("a", "b")}  # first recommender, first forbidder
    assert [decided.status(c) for c in ("x", "y", "w", "v")] == [
        "recommended but forbidden", "recommended", "forbidden", "not recommended"]


def test_nothing_fired_decides_nothing() -> None:
    decided = verdict([])
    assert (dict(decided.proposed), dict(decided.forbidden), decided.recommended, decided.conflicts) == (
        {}, {}, {}, {})


def assert_backends_agree(kb: KnowledgeBase, engine: Engine, sym: SymbolicKB,
                          case: dict[str, Any]) -> None:
    """The engine's answer, the reference evaluator, the z3 encoding and the explanation
    status agree on every code's verdict for this case."""
    answer = engine.evaluate(case)
    ref = reference_evaluate(kb, case)
    codes = list(kb.outcomes)
    conflicts = {c.code: (c.recommended_by, c.forbidden_by) for c in answer.conflicts}
    engine_view = {"recommended": answer.recommended_codes(), "forbidden": answer.forbidden_codes(),
                   "conflicts": sorted(conflicts)}
    ref_view = {"recommended": ref.recommended, "forbidden": ref.forbidden,
                "conflicts": sorted(set(ref.proposed) & set(ref.forbidden))}
    assert engine_view == ref_view, case
    truth = sym.evaluate([sym.recommended(c) for c in codes] + [sym.forbidden(c) for c in codes]
                         + [sym.conflict(c) for c in codes], case)
    n = len(codes)
    z3_view = {"recommended": {c for c, t in zip(codes, truth[:n], strict=True) if t},
               "forbidden": {c for c, t in zip(codes, truth[n:2 * n], strict=True) if t},
               "conflicts": {c for c, t in zip(codes, truth[2 * n:], strict=True) if t}}
    assert z3_view == {k: set(v) for k, v in engine_view.items()}, case
    # Who recommends and who forbids, as the answer names them, is the verdict of what fired.
    decided = verdict(r for r in kb.rules if r.id in answer.fired)
    assert conflicts == decided.conflicts
    assert {r.code: [r.rule, *r.also_by] for r in answer.recommendations} == {
        c: list(rules) for c, rules in decided.recommended.items()}


def test_backends_agree_on_every_hsv_scenario(hsv_kb: KnowledgeBase, hsv_engine: Engine) -> None:
    sym = SymbolicKB(hsv_kb)
    loaded = load_scenarios(hsv_kb)
    assert len(loaded) >= 40
    for scenario in loaded:
        assert_backends_agree(hsv_kb, hsv_engine, sym, scenario.case)


@pytest.fixture(scope="module")
def clash_kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    root = write_mini_kb(tmp_path_factory.mktemp("clash"))
    with (root / "rules" / "main.yaml").open("a", encoding="utf-8") as out:
        out.write(CLASHING_RULES)
    return load_knowledge_base(root)


def test_backends_agree_where_rules_clash(clash_kb: KnowledgeBase) -> None:
    engine, sym = Engine.for_kb(clash_kb), SymbolicKB(clash_kb)
    clashing = {"on_foscarnet": False, "lesion_course": "resolving", "immune_status": "immunocompetent"}
    answer = engine.evaluate(clashing)
    assert [(c.code, c.recommended_by, c.forbidden_by) for c in answer.conflicts] == [
        ("topical_acyclovir", "topical-acyclovir-off-foscarnet", "no-topical-acyclovir"),
        ("id_consult", "topical-acyclovir-off-foscarnet", "no-consult-when-competent")]
    assert "topical_acyclovir" not in answer.recommended_codes()
    prohibition = next(p for p in answer.prohibitions if p.code == "topical_acyclovir")
    assert (prohibition.rule, list(prohibition.also_by)) == ("no-topical-acyclovir", ["no-consult-when-competent"])
    for case in [clashing, *sample_cases(clash_kb, 200, seed=3)]:
        assert_backends_agree(clash_kb, engine, sym, case)


def test_explanation_status_is_the_verdict(clash_kb: KnowledgeBase, tmp_path: Path) -> None:
    case = {"on_foscarnet": False, "lesion_course": "resolving", "immune_status": "immunocompromised"}
    status = {code: explain(clash_kb, case, code).status for code in clash_kb.outcomes}
    assert status == {"iv_foscarnet": "not recommended", "monitor_renal_function": "not recommended",
                      "id_consult": "recommended", "topical_acyclovir": "recommended but forbidden"}
