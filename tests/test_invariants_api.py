"""guidekb.engine.qa.invariants on a small knowledge base: loading with located errors, and what each
kind of invariant accepts and rejects, including three-valued conditions and monotonicity."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import z3

from guidekb.engine.errors import KnowledgeBaseError
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.loading import load_knowledge_base
from guidekb.engine.format.models import Expectations
from guidekb.engine.format.yamlsource import load_yaml
from guidekb.engine.qa.casespace import sample_cases
from guidekb.engine.qa.counterexamples import counterexample
from guidekb.engine.qa.invariant_kinds import KIND_REGISTRY, Goal, InvariantKind, register
from guidekb.engine.qa.invariants import (
    KINDS,
    STRUCTURAL_KINDS,
    Invariant,
    check_case,
    codes_mentioned,
    facts_mentioned,
    load_invariants,
)
from guidekb.engine.qa.proof import Prover
from guidekb.engine.qa.scenarios import compare
from guidekb.engine.qa.symbolic import SymbolicKB
from guidekb.engine.runtime.evaluation import Engine
from guidekb.engine.semantics.logic import evaluate as kleene
from tests.minikb import write_mini_kb

CITE = """\
    provenance:
      - source: cold-sores
        section: Common Pitfalls to Avoid
        quote: Do not use topical acyclovir
        refs: [2]
"""

# Two rules that make the mini knowledge base break invariants on purpose: a prohibition on
# an unknown fact (not monotone) and a recommendation of a forbidden code (a clash).
EXTRA_RULES = f"""
  - id: no-foscarnet-while-course-unknown
    title: test
    when: {{unknown: lesion_course}}
    then: {{forbid: [{{code: iv_foscarnet, reason: test}}]}}
{CITE}
  - id: topical-acyclovir-off-foscarnet
    title: test
    when: {{fact: on_foscarnet, equals: false}}
    then: {{recommend: [topical_acyclovir]}}
{CITE}"""

INVARIANTS = f"""\
invariants:
  - id: no-foscarnet-when-competent
    rationale: test
    never_recommend:
      code: iv_foscarnet
      when: {{fact: immune_status, equals: immunocompetent}}
{CITE}
  - id: no-foscarnet-for-failing-compromised
    rationale: test
    never_recommend:
      codes: [iv_foscarnet, id_consult]
      when:
        all:
          - {{fact: immune_status, equals: immunocompromised}}
          - {{fact: failing, equals: true}}
{CITE}
  - id: forbid-topical-when-failing
    rationale: test
    always_forbid:
      code: topical_acyclovir
      when: {{fact: days_on_therapy, ge: 10}}
{CITE}
  - id: forbid-foscarnet-early
    rationale: test
    always_forbid:
      codes: [iv_foscarnet]
      when: {{not: {{fact: days_on_therapy, ge: 2}}}}
{CITE}
  - id: foscarnet-needs-monitoring
    rationale: test
    requires: {{code: iv_foscarnet, also: monitor_renal_function}}
{CITE}
  - id: not-consult-and-monitoring
    rationale: test
    never_both: {{codes: [id_consult, monitor_renal_function]}}
{CITE}
  - id: course-is-monotone
    rationale: test
    monotone: {{fact: lesion_course}}
  - id: course-is-monotone-for-topical
    rationale: test
    monotone: {{fact: lesion_course, codes: [topical_acyclovir]}}
  - id: no-clash
    rationale: test
    no_recommendation_forbidden: true
  - id: provenance
    rationale: test
    recommendations_have_provenance: true
"""


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    root = write_mini_kb(tmp_path_factory.mktemp("mini-invariants"))
    with (root / "rules" / "main.yaml").open("a", encoding="utf-8") as out:
        out.write(EXTRA_RULES)
    (root / "invariants.yaml").write_text(INVARIANTS, encoding="utf-8")
    return load_knowledge_base(root)


@pytest.fixture(scope="module")
def invariants(kb: KnowledgeBase) -> dict[str, Invariant]:
    return {inv.id: inv for inv in load_invariants(kb)}


def check(kb: KnowledgeBase, inv: Invariant, case: dict[str, Any]) -> str | None:
    return check_case(inv, case, Engine.for_kb(kb).evaluate)


FAILING = {"lesion_course": "persistent", "days_on_therapy": 12}


def test_every_kind_loads(invariants: dict[str, Invariant]) -> None:
    assert [inv.kind for inv in invariants.values()] == [
        "never_recommend", "never_recommend", "always_forbid", "always_forbid", "requires",
        "never_both", "monotone", "monotone", "no_recommendation_forbidden",
        "recommendations_have_provenance"]
    inv = invariants["no-foscarnet-for-failing-compromised"]
    assert facts_mentioned(inv) == {"immune_status", "failing"}
    assert codes_mentioned(inv) == {"iv_foscarnet", "id_consult"}
    assert facts_mentioned(invariants["course-is-monotone"]) == {"lesion_course"}
    assert codes_mentioned(invariants["foscarnet-needs-monitoring"]) == {"iv_foscarnet",
                                                                        "monitor_renal_function"}


def test_a_knowledge_base_without_invariants_has_none(tmp_path: Path) -> None:
    assert load_invariants(load_knowledge_base(write_mini_kb(tmp_path))) == []


def test_never_recommend(kb: KnowledgeBase, invariants: dict[str, Invariant]) -> None:
    inv = invariants["no-foscarnet-for-failing-compromised"]
    compromised = {**FAILING, "immune_status": "immunocompromised"}
    assert check(kb, inv, compromised) == "recommends iv_foscarnet, id_consult although the condition holds"
    # A derived fact in the condition is read from the answer: not failing, nothing to check.
    assert check(kb, inv, {**compromised, "days_on_therapy": 3}) is None
    # Unknown immune status leaves the condition unknown, not true: the invariant is silent.
    assert check(kb, inv, FAILING) is None


def test_always_forbid(kb: KnowledgeBase, invariants: dict[str, Invariant]) -> None:
    inv = invariants["forbid-topical-when-failing"]
    assert check(kb, inv, {"days_on_therapy": 10}) is None  # the rule forbids it in every case
    early = invariants["forbid-foscarnet-early"]
    # days 1: `not ge 2` is true, and foscarnet is forbidden only while the course is unknown.
    assert check(kb, early, {"days_on_therapy": 1}) is None
    assert check(kb, early, {"days_on_therapy": 1, "lesion_course": "resolving"}) == (
        "does not forbid iv_foscarnet although the condition holds")
    assert check(kb, early, {"lesion_course": "resolving"}) is None  # days unknown: silent


def test_requires_and_never_both(kb: KnowledgeBase, invariants: dict[str, Invariant]) -> None:
    compromised = {**FAILING, "immune_status": "immunocompromised"}
    requires = invariants["foscarnet-needs-monitoring"]
    assert check(kb, requires, compromised) == "recommends iv_foscarnet without monitor_renal_function"
    assert check(kb, requires, {**compromised, "on_foscarnet": True}) is None
    both = invariants["not-consult-and-monitoring"]
    assert check(kb, both, {**compromised, "on_foscarnet": True}) == (
        "recommends id_consult and monitor_renal_function together")
    assert check(kb, both, compromised) is None


def test_monotone(kb: KnowledgeBase, invariants: dict[str, Invariant]) -> None:
    inv = invariants["course-is-monotone"]
    # Learning the course lifts the prohibition that the unknown course triggered.
    assert check(kb, inv, {"lesion_course": "resolving"}) == (
        "learning lesion_course='resolving' removes the prohibition of iv_foscarnet")
    assert check(kb, inv, {}) is None  # the fact is unknown: nothing was learnt
    # Restricted to a code whose prohibition never depends on the course, it holds.
    assert check(kb, invariants["course-is-monotone-for-topical"], {"lesion_course": "resolving"}) is None


def test_no_recommendation_forbidden(kb: KnowledgeBase, invariants: dict[str, Invariant]) -> None:
    inv = invariants["no-clash"]
    message = check(kb, inv, {"on_foscarnet": False})
    assert message is not None and message.startswith("topical_acyclovir is both recommended and forbidden")
    assert check(kb, inv, {"on_foscarnet": True}) is None


def test_recommendations_have_provenance(kb: KnowledgeBase, invariants: dict[str, Invariant]) -> None:
    inv = invariants["provenance"]
    engine = Engine.for_kb(kb)
    case = {"on_foscarnet": True}
    assert check_case(inv, case, engine.evaluate) is None

    def stripped(c: dict[str, Any]) -> Any:
        answer = engine.evaluate(c)
        bare = [r.model_copy(update={"provenance": []}) for r in answer.recommendations]
        return answer.model_copy(update={"recommendations": bare})

    assert check_case(inv, case, stripped) == "recommends monitor_renal_function without provenance"


BROKEN = f"""\
invariants:
  - id: a
    rationale: x
    never_recomend:
      code: iv_foscarnet
      when: {{always: true}}
  - id: b
    rationale: x
    never_recommend:
      code: iv_foscarnett
      when: {{fact: immune_status, equals: compromised}}
{CITE}
  - id: b
    rationale: x
    monotone: {{fact: suspected}}
  - id: c
    rationale: x
    requires: {{code: iv_foscarnet, also: monitor_renal_function}}
  - id: d
    rationale: x
    never_recommend:
      code: iv_foscarnet
      when: {{not: {{fact: failing, equals: true}}}}
    provenance:
      - source: cold-sores
        section: Common Pitfalls to Avoid
        quote: Do use topical acyclovir
  - id: e
    rationale: x
    requires: {{code: iv_foscarnet, also: id_consult}}
    never_both: {{codes: [iv_foscarnet, id_consult]}}
{CITE}"""


def test_every_problem_is_reported_located(tmp_path: Path) -> None:
    root = write_mini_kb(tmp_path)
    (root / "invariants.yaml").write_text(BROKEN, encoding="utf-8")
    kb = load_knowledge_base(root)
    with pytest.raises(KnowledgeBaseError) as failure:
        load_invariants(kb)
    found = [(p.line, p.message, p.hint) for p in failure.value.problems]
    messages = "\n".join(f"{line}: {message} | {hint}" for line, message, hint in found)
    expected = [
        (4, "unknown key 'never_recomend' in invariants[0]", "did you mean 'never_recommend'?"),
        (10, "invariant 'b' names unknown code 'iv_foscarnett'", "did you mean 'iv_foscarnet'?"),
        (11, "value 'compromised' is not allowed for fact 'immune_status'", "did you mean"),
        (18, "duplicate invariant id 'b'", "first defined at line 7"),
        (20, "invariant 'b' is monotone in 'suspected', which is not a case fact", "a derived fact"),
        (21, "invariants[3]: a 'requires' invariant is a clinical claim", "provenance"),
        (28, "invariant 'd' negates derived fact 'failing'", "derived conclusion"),
        (32, "invariant 'd': quote not found verbatim in source 'cold-sores'", "closest passage"),
        (33, "invariants[5]: an invariant needs exactly one of", "requires, never_both"),
    ]
    assert len(found) == len(expected), messages
    for (line, message, hint), (want_line, want_message, want_hint) in zip(found, expected, strict=True):
        assert line == want_line, messages
        assert message.startswith(want_message), messages
        assert want_hint in hint or want_hint in message, messages
    assert all(p.file.endswith("invariants.yaml") for p in failure.value.problems)


# --- each kind is one registered class --------------------------------------------------------

NOT_KINDS = ("id", "rationale", "provenance")
HOOKS = ("code_sites", "condition", "facts", "cross_check", "check", "violation", "expectations",
         "scenario_note", "vacuous", "aims")


def test_the_registry_covers_exactly_the_kinds_of_the_model() -> None:
    fields = [name for name in Invariant.model_fields if name not in NOT_KINDS]
    assert list(KIND_REGISTRY) == fields == list(KINDS)
    for name, kind in KIND_REGISTRY.items():
        assert kind.name == name
        assert Invariant.model_fields[name].annotation == (kind.spec_type | None), name
    assert STRUCTURAL_KINDS == ("monotone", "no_recommendation_forbidden", "recommendations_have_provenance")


def test_a_kind_cannot_be_registered_twice() -> None:
    with pytest.raises(ValueError, match="registered twice"):
        register(type(KIND_REGISTRY["requires"]))


def test_every_registered_kind_implements_every_hook(kb: KnowledgeBase,
                                                      invariants: dict[str, Invariant]) -> None:
    for kind in KIND_REGISTRY.values():
        assert isinstance(kind, InvariantKind)
        assert not getattr(type(kind), "__abstractmethods__", None), type(kind).__name__
        for hook in HOOKS:
            assert callable(getattr(kind, hook)), (kind.name, hook)
    # The test knowledge base states every kind: each hook runs on each, with the right result.
    assert {inv.kind for inv in invariants.values()} == set(KIND_REGISTRY)
    engine = Engine.for_kb(kb)
    prover = Prover(kb)
    case = {**FAILING, "immune_status": "immunocompromised", "on_foscarnet": False}
    answer = engine.evaluate(case)
    doc, _ = load_yaml(kb.root / "invariants.yaml")
    for i, inv in enumerate(invariants.values()):
        kind, spec = inv.definition, inv.spec
        assert {code for _, code in kind.code_sites(spec)} == codes_mentioned(inv)
        assert kind.facts(spec) == facts_mentioned(inv)
        assert kind.cross_check(kb, spec, inv.id, doc, ("invariants", i, inv.kind)) == []
        assert kind.check(spec, case, answer, engine.evaluate) == check_case(inv, case, engine.evaluate)
        goal = kind.violation(spec, prover.sym)
        assert isinstance(goal, Goal) and z3.is_bool(goal.formula) and goal.method
        assert isinstance(kind.expectations(spec, case, answer, engine.evaluate), Expectations)
        assert isinstance(kind.scenario_note(spec), str)
        vacuous = kind.vacuous(spec, prover.sym, lambda *c: prover.check(*c) != z3.unsat)
        # Topical acyclovir is forbidden in every case: learning the course cannot change that.
        assert vacuous == ("learning 'lesion_course' never changes a prohibition"
                           if inv.id == "course-is-monotone-for-topical" else None), inv.id
        aims = kind.aims(spec, kb)
        assert all(kleene(aim, {}) in (True, False, None) for aim in aims)
        assert aims or inv.kind == "never_both", inv.id  # every other kind has a rule to aim at


def test_check_and_violation_formula_agree_case_by_case(kb: KnowledgeBase,
                                                        invariants: dict[str, Invariant]) -> None:
    """A kind's concrete check and its z3 violation are two readings of one property: pinned to
    a case, the formula is satisfiable exactly when the check reports a violation."""
    engine = Engine.for_kb(kb)
    chosen = [FAILING, {"on_foscarnet": False}, {"lesion_course": "resolving"},
              {**FAILING, "immune_status": "immunocompromised"},
              {**FAILING, "immune_status": "immunocompromised", "on_foscarnet": True},
              {"days_on_therapy": 1, "lesion_course": "resolving"}]
    cases = [*chosen, *sample_cases(kb, 80, seed=5)]
    for inv in invariants.values():
        goal = inv.definition.violation(inv.spec, SymbolicKB(kb))
        violated = 0
        for case in cases:
            solver = z3.Solver()
            solver.add(*goal.domain, *goal.sym.fix(case), goal.formula)
            problem = check_case(inv, case, engine.evaluate)
            assert (solver.check() == z3.sat) == (problem is not None), (inv.id, case, problem)
            violated += problem is not None
        if inv.id in ("no-foscarnet-for-failing-compromised", "forbid-foscarnet-early",
                      "foscarnet-needs-monitoring", "not-consult-and-monitoring",
                      "course-is-monotone", "no-clash"):
            assert violated, f"{inv.id}: no case violates it, the agreement proves little"


def test_a_counterexample_scenario_fails_while_the_violation_stands(
        kb: KnowledgeBase, invariants: dict[str, Invariant]) -> None:
    engine = Engine.for_kb(kb)
    violating = {
        "no-foscarnet-for-failing-compromised": {**FAILING, "immune_status": "immunocompromised"},
        "forbid-foscarnet-early": {"days_on_therapy": 1, "lesion_course": "resolving"},
        "foscarnet-needs-monitoring": {**FAILING, "immune_status": "immunocompromised"},
        "not-consult-and-monitoring": {**FAILING, "immune_status": "immunocompromised",
                                       "on_foscarnet": True},
        "course-is-monotone": {"lesion_course": "resolving"},
        "no-clash": {"on_foscarnet": False},
    }
    for inv_id, case in violating.items():
        found = counterexample(kb, invariants[inv_id], case, engine)
        assert found.confirmed, inv_id
        assert compare(engine.evaluate(case), found.scenario.expect), inv_id
