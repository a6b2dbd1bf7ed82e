"""guidekb.engine.qa.invariants on a small knowledge base: loading with located errors, and what each
kind of invariant accepts and rejects, including three-valued conditions and monotonicity."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from guidekb.engine.errors import KnowledgeBaseError
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.loading import load_knowledge_base
from guidekb.engine.qa.invariants import (
    Invariant,
    check_case,
    codes_mentioned,
    facts_mentioned,
    load_invariants,
)
from guidekb.engine.runtime.evaluation import Engine
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
