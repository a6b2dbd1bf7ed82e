"""Engine semantics on durable_rules: forward chaining, three-valued logic, prohibitions,
isolation between cases and determinism. Each test states the behaviour a clinician relies on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from guidekb.engine.errors import CaseError
from guidekb.engine.format.cases import validate_case
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.loading import load_knowledge_base
from guidekb.engine.runtime.evaluation import Engine
from tests.minikb import write_mini_kb

PROVENANCE = """\
    provenance:
      - source: cold-sores
        section: Consultation Recommendation
        quote: Patients with proven or suspected acyclovir-resistant HSV should be managed in consultation with an infectious disease specialist
        refs: [1]
"""


def extra_rule(rule_id: str, when: str, then: str) -> str:
    return f"  - id: {rule_id}\n    title: {rule_id}\n    when:\n{when}    then:\n{then}{PROVENANCE}"


EXTRA_RULES = "rules:\n" + "".join([
    extra_rule("consult-if-compromised",
               "      fact: immune_status\n      equals: immunocompromised\n",
               "      recommend: [id_consult]\n"),
    extra_rule("renal-if-not-compromised",
               "      not:\n        fact: immune_status\n        equals: immunocompromised\n",
               "      recommend: [monitor_renal_function]\n"),
    extra_rule("topical-if-short-course",
               "      not:\n        fact: days_on_therapy\n        ge: 10\n",
               "      recommend: [topical_acyclovir]\n"),
    extra_rule("consult-if-hiv",
               "      fact: causes\n      contains: hiv\n",
               "      recommend: [id_consult]\n"),
    extra_rule("foscarnet-unless-hiv",
               "      not:\n        fact: causes\n        contains: hiv\n",
               "      recommend: [iv_foscarnet]\n"),
    extra_rule("consult-unless-day-five",
               "      not:\n        fact: days_on_therapy\n        in: [5]\n",
               "      recommend: [id_consult]\n"),
    extra_rule("consult-if-foscarnet-status-unknown",
               "      unknown: on_foscarnet\n",
               "      recommend: [id_consult]\n"),
])


@pytest.fixture(scope="module")
def mini(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    root = write_mini_kb(tmp_path_factory.mktemp("mini") / "kb")
    (root / "rules" / "extra.yaml").write_text(EXTRA_RULES, encoding="utf-8")
    return load_knowledge_base(root)


def fired(kb: KnowledgeBase, **case: Any) -> set[str]:
    return set(Engine.for_kb(kb).evaluate(validate_case(case, kb)).fired)


def test_forward_chaining_over_two_levels(mini: KnowledgeBase) -> None:
    answer = Engine.for_kb(mini).evaluate(
        {"lesion_course": "persistent", "days_on_therapy": 12, "immune_status": "immunocompromised"})
    assert [d.fact for d in answer.derived] == ["failing", "suspected"]
    foscarnet = next(r for r in answer.recommendations if r.code == "iv_foscarnet")
    assert foscarnet.rule == "foscarnet-when-suspected"
    # The chain reaches back to the case facts, deepest first, and every step has its source.
    assert list(foscarnet.because) == [
        "days_on_therapy=12", "lesion_course=persistent", "failing-after-ten-days",
        "immune_status=immunocompromised", "suspect-when-failing", "foscarnet-when-suspected"]
    assert [s.rule for s in foscarnet.chain] == [
        "failing-after-ten-days", "suspect-when-failing", "foscarnet-when-suspected"]
    assert all(step.provenance and step.provenance[0].quote for step in foscarnet.chain)


def test_chain_stops_when_a_link_is_missing(mini: KnowledgeBase) -> None:
    answer = Engine.for_kb(mini).evaluate({"lesion_course": "persistent", "days_on_therapy": 12})
    assert answer.derived_facts() == ["failing"]
    assert "foscarnet-when-suspected" not in answer.fired
    assert "iv_foscarnet" not in answer.recommended_codes()


def test_unknown_is_neither_true_nor_false(mini: KnowledgeBase) -> None:
    unknown = fired(mini)
    assert "consult-if-compromised" not in unknown
    assert "renal-if-not-compromised" not in unknown
    assert "renal-if-not-compromised" in fired(mini, immune_status="immunocompetent")
    assert "renal-if-not-compromised" not in fired(mini, immune_status="immunocompromised")


def test_negated_threshold_needs_a_known_value(mini: KnowledgeBase) -> None:
    assert "topical-if-short-course" not in fired(mini)
    assert "topical-if-short-course" in fired(mini, days_on_therapy=9)
    assert "topical-if-short-course" not in fired(mini, days_on_therapy=10)


def test_negated_integer_equality_needs_a_known_value(mini: KnowledgeBase) -> None:
    assert "consult-unless-day-five" not in fired(mini)
    assert "consult-unless-day-five" not in fired(mini, days_on_therapy=5)
    assert "consult-unless-day-five" in fired(mini, days_on_therapy=6)


def test_list_facts_and_their_negation(mini: KnowledgeBase) -> None:
    assert {"consult-if-hiv", "foscarnet-unless-hiv"}.isdisjoint(fired(mini))
    assert "consult-if-hiv" in fired(mini, causes=["chemotherapy", "hiv"])
    assert "foscarnet-unless-hiv" in fired(mini, causes=["chemotherapy"])
    assert "foscarnet-unless-hiv" in fired(mini, causes=[])
    assert "foscarnet-unless-hiv" not in fired(mini, causes=["hiv"])


def test_unknown_test_fires_only_on_absence(mini: KnowledgeBase) -> None:
    assert "consult-if-foscarnet-status-unknown" in fired(mini)
    assert "consult-if-foscarnet-status-unknown" not in fired(mini, on_foscarnet=False)
    # An explicit null in a case file means unknown too.
    assert "consult-if-foscarnet-status-unknown" in fired(mini, on_foscarnet=None)


def test_prohibition_beats_recommendation_and_is_shown(mini: KnowledgeBase) -> None:
    answer = Engine.for_kb(mini).evaluate({"days_on_therapy": 3})
    assert "topical-if-short-course" in answer.fired
    assert "topical_acyclovir" not in answer.recommended_codes()
    assert "topical_acyclovir" in answer.forbidden_codes()
    assert [(c.code, c.recommended_by, c.forbidden_by) for c in answer.conflicts] == [
        ("topical_acyclovir", "topical-if-short-course", "no-topical-acyclovir")]


def test_cases_are_isolated(mini: KnowledgeBase) -> None:
    engine = Engine.for_kb(mini)
    full = {"lesion_course": "persistent", "days_on_therapy": 12, "immune_status": "immunocompromised"}
    first = engine.evaluate(full)
    empty = engine.evaluate({})
    assert first.derived and not empty.derived
    assert "foscarnet-when-suspected" not in empty.fired
    # Interleaving many cases does not leak conclusions between sessions.
    for i in range(50):
        answer = engine.evaluate(full if i % 2 else {"days_on_therapy": 12})
        assert answer.derived_facts() == (["failing", "suspected"] if i % 2 else [])


def test_same_answer_twice(mini: KnowledgeBase) -> None:
    engine = Engine.for_kb(mini)
    case = {"lesion_course": "progressive", "days_on_therapy": 30, "immune_status": "immunocompromised",
            "causes": ["hiv"], "on_foscarnet": True}
    first = json.dumps(engine.evaluate(case).model_dump(mode="json"), sort_keys=True)
    second = json.dumps(engine.evaluate(case).model_dump(mode="json"), sort_keys=True)
    assert first == second


def test_compiled_negation_never_matches_absence(mini: KnowledgeBase) -> None:
    """A bare `$neq` or `$nex` would let durable_rules read an absent fact as false."""
    definition = {k: {kk: vv for kk, vv in v.items() if kk != "run"}
                  for k, v in Engine.for_kb(mini).definition.items()}
    text = json.dumps(definition)
    assert text.count('"$nex"') == 1  # only the explicit `unknown: on_foscarnet` test
    negated_day = json.dumps(definition["consult-unless-day-five"])
    assert '{"$and": [{"$ex": {"days_on_therapy": 1}}, {"$neq": {"days_on_therapy": 5}}]}' in negated_day
    assert text.count('"$neq"') == 1


def test_engine_compiles_once_per_knowledge_base(mini: KnowledgeBase) -> None:
    assert Engine.for_kb(mini) is Engine.for_kb(mini)


@pytest.mark.parametrize(("facts", "message"), [
    ({"immune_status": "immunosupressed"},
     "fact 'immune_status': value 'immunosupressed' is not allowed"),
    ({"days_on_therapy": 4000}, "fact 'days_on_therapy': value 4000 is not allowed"),
    ({"days_on_therapy": "ten"}, "fact 'days_on_therapy': value 'ten' is not allowed"),
    ({"on_foscarnet": "yes"}, "fact 'on_foscarnet': value 'yes' is not allowed"),
    ({"causes": ["hiv", "flu"]}, "fact 'causes': value 'flu' is not allowed in the list"),
    ({"imune_status": "immunocompetent"}, "unknown fact 'imune_status'"),
    ({"suspected": True}, "'suspected' is a conclusion the rules derive, not a case fact"),
])
def test_invalid_cases_name_fact_value_and_allowed(mini: KnowledgeBase, facts: dict[str, Any],
                                                   message: str) -> None:
    with pytest.raises(CaseError) as caught:
        validate_case(facts, mini)
    assert caught.value.problems[0].message == message


def test_invalid_enum_hint_lists_allowed_values(mini: KnowledgeBase) -> None:
    with pytest.raises(CaseError) as caught:
        validate_case({"immune_status": "immunosupressed"}, mini)
    assert caught.value.problems[0].hint == (
        "did you mean 'immunocompromised'? allowed: one of: immunocompetent, immunocompromised")


def test_knowledge_base_unchanged_by_evaluation(mini: KnowledgeBase, tmp_path: Path) -> None:
    before = {p: p.read_bytes() for p in mini.root.rglob("*") if p.is_file()}
    Engine.for_kb(mini).evaluate({"days_on_therapy": 3})
    assert before == {p: p.read_bytes() for p in mini.root.rglob("*") if p.is_file()}


def test_sessions_are_released(mini: KnowledgeBase) -> None:
    """durable_rules keeps a session's facts until deleted: each case must delete its own."""
    engine = Engine.for_kb(mini)
    session = engine.fire({"lesion_course": "persistent", "days_on_therapy": 12})
    assert session.derived_by == {"failing": "failing-after-ten-days"}
    assert dict(engine._sessions) == {}
    host = Engine._shared_host()
    last_sid = f"s{next(engine._rules._ids) - 1}"
    with pytest.raises(Exception, match="error code: 309"):  # durable_rules: no such session
        host.get_facts(engine.ruleset, last_sid)


def test_reloading_the_same_knowledge_base_reuses_its_compiled_ruleset(mini: KnowledgeBase) -> None:
    again = load_knowledge_base(mini.root)
    assert again is not mini
    assert Engine.for_kb(again) is Engine.for_kb(mini)


def test_durable_rules_facts_the_compiler_relies_on() -> None:
    """Measured behaviour of durable_rules 2.0.28, pinned so an upgrade that changes it is
    noticed: a `none(...)` pattern is satisfied by absence (so the compiler never uses it for
    negation), and a comparison never matches an absent field."""
    from durable import engine as durable_engine

    class QuietHost(durable_engine.Host):  # type: ignore[misc]
        def _run(self) -> None:
            return None

    hits: list[str] = []
    host = QuietHost()
    host.register_rulesets({"pinned-durable-facts": {
        "neq": {"all": [{"m": {"$and": [{"_k": "case"}, {"$neq": {"x": 5}}]}}],
                "run": lambda c: hits.append("neq")},
        "lt": {"all": [{"m": {"$and": [{"_k": "case"}, {"$lt": {"x": 5}}]}}],
               "run": lambda c: hits.append("lt")},
        "none": {"all": [{"m": {"_k": "case"}}, {"m2$not": {"_k": "d"}}],
                 "run": lambda c: hits.append("none")},
    }})
    host.assert_fact("pinned-durable-facts", {"_k": "case", "sid": "absent"})
    assert hits == ["none"]
    hits.clear()
    host.assert_fact("pinned-durable-facts", {"_k": "case", "sid": "present", "x": 3})
    assert sorted(hits) == ["lt", "neq", "none"]


def test_answers_do_not_share_mutable_state(mini: KnowledgeBase) -> None:
    """Source passages are shared between answers for speed, so they must be immutable."""
    engine = Engine.for_kb(mini)
    first = engine.evaluate({"on_foscarnet": True})
    passage = first.recommendations[0].provenance[0]
    with pytest.raises(ValueError, match="frozen"):
        passage.quote = "tampered"  # type: ignore[misc]
    with pytest.raises(AttributeError):  # a tuple: nothing to clear
        first.recommendations[0].provenance.clear()  # type: ignore[attr-defined]
    second = engine.evaluate({"on_foscarnet": True})
    assert second.recommendations[0].provenance[0].quote.startswith("Monitor renal function")
