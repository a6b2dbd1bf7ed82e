"""The Hypothesis strategies QA teams reuse: valid cases, unknowns, threshold edges, aiming."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis.errors import NoSuchExample

from guidekb.engine.format.cases import validate_case
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.models import Compare, Condition, Not
from guidekb.engine.qa.reference import reference_evaluate
from guidekb.engine.qa.strategies import boundary_points, cases, cases_where, thresholds
from guidekb.engine.semantics.logic import evaluate

QUICK = settings(max_examples=100, database=None, deadline=None, derandomize=True,
                 suppress_health_check=list(HealthCheck))
# Only "is there one?": shrinking the example found would cost far more than finding it.
NO_SHRINK = settings(QUICK, max_examples=60, phases=[Phase.generate])


def test_generated_cases_are_valid(hsv_kb: KnowledgeBase) -> None:
    @given(cases(hsv_kb))
    def valid(case: dict[str, Any]) -> None:
        assert validate_case(case, hsv_kb) == case

    valid()


def test_every_fact_is_sometimes_unknown_and_sometimes_known(hsv_kb: KnowledgeBase) -> None:
    known: set[str] = set()
    unknown: set[str] = set()

    @QUICK
    @given(cases(hsv_kb))
    def record(case: dict[str, Any]) -> None:
        known.update(case)
        unknown.update(set(hsv_kb.case_facts) - set(case))

    record()
    assert known == unknown == set(hsv_kb.case_facts)
    # Shrinking goes towards unknown: the smallest case with one fact known names only it.
    assert find(cases(hsv_kb), lambda c: "adherent" in c, settings=QUICK) == {"adherent": False}


def test_integers_are_drawn_at_the_rules_thresholds(hsv_kb: KnowledgeBase) -> None:
    spec = hsv_kb.case_facts["days_on_therapy"]
    tested = thresholds(rule.when for rule in hsv_kb.rules)
    assert 10 in tested["days_on_therapy"]
    points = boundary_points(spec, tested["days_on_therapy"])
    assert {spec.min, 9, 10, 11, spec.max} <= set(points)
    for edge in (9, 10, 11):
        find(cases(hsv_kb, facts=["days_on_therapy"]), lambda c, e=edge: c.get("days_on_therapy") == e,
             settings=QUICK)


def test_restricting_facts_leaves_the_rest_unknown(hsv_kb: KnowledgeBase) -> None:
    @QUICK
    @given(cases(hsv_kb, facts=["adherent", "dose_adequate"]))
    def only(case: dict[str, Any]) -> None:
        assert set(case) <= {"adherent", "dose_adequate"}

    only()


def test_aimed_cases_reach_every_rule(hsv_kb: KnowledgeBase) -> None:
    """`cases_where(kb, rule.when)` finds a case firing the rule within a few examples, even
    for rules at the end of a chain (suspicion needs failure, which needs three facts)."""
    unreached = []
    for rule in hsv_kb.rules:
        try:
            find(cases_where(hsv_kb, rule.when), lambda c, r=rule.id: r in reference_evaluate(hsv_kb, c).fired,
                 settings=NO_SHRINK)
        except NoSuchExample:
            unreached.append(rule.id)
    assert unreached == []


@pytest.mark.parametrize("negated", [False, True], ids=["test", "negated test"])
def test_aiming_at_a_test_and_its_negation(hsv_kb: KnowledgeBase, negated: bool) -> None:
    test = Compare.model_validate({"fact": "susceptibility_result", "equals": "acyclovir_resistant"})
    condition: Condition = Not(not_=test) if negated else test

    @QUICK
    @given(cases_where(hsv_kb, condition))
    def aimed(case: dict[str, Any]) -> None:
        assert evaluate(condition, case) is True  # known, and on the right side of the test

    aimed()
