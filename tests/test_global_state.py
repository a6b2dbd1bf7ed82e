"""No global state that can answer wrongly: one test per fault found in the core (issue 8).

* the compiled-engine registry answered a knowledge base changed in memory with the old rules;
* `Engine(kb)` a second time raised durable_rules' bare "already registered";
* a source passage's `refs` was one list shared by every answer;
* the chart book was cached by `id(kb)`, and `KNOWN_KEYS` was mutated at import time (so a
  rules file got did-you-mean suggestions from the invariants and lint formats).
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import Any

import pytest

from guidekb.engine.errors import KnowledgeBaseError
from guidekb.engine.format import validation
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.loading import load_knowledge_base
from guidekb.engine.format.models import Rule, RulesFile
from guidekb.engine.runtime.evaluation import Engine
from guidekb.visualize.chartbook import chart_book
from tests.minikb import edit, write_mini_kb

SUSPECTED = {"lesion_course": "persistent", "days_on_therapy": 12, "immune_status": "immunocompromised"}


@pytest.fixture
def mini(tmp_path: Path) -> KnowledgeBase:
    return load_knowledge_base(write_mini_kb(tmp_path / "kb"))


# --- the engine registry is keyed by content ---------------------------------------------------


def test_a_knowledge_base_replaced_in_memory_is_answered_with_its_own_rules(mini: KnowledgeBase) -> None:
    assert "topical_acyclovir" in Engine.for_kb(mini).evaluate({}).forbidden_codes()
    without = dataclasses.replace(mini, rules=[r for r in mini.rules if r.id != "no-topical-acyclovir"])
    answer = Engine.for_kb(without).evaluate({})
    assert "topical_acyclovir" not in answer.forbidden_codes()
    assert "no-topical-acyclovir" not in answer.fired
    # ... and the original is still answered with its own rules.
    assert "topical_acyclovir" in Engine.for_kb(mini).evaluate({}).forbidden_codes()


def test_a_rule_changed_in_memory_changes_the_answer(mini: KnowledgeBase) -> None:
    rules = list(mini.rules)
    i = next(i for i, r in enumerate(rules) if r.id == "failing-after-ten-days")
    data = rules[i].model_dump(by_alias=True, exclude_none=True)
    data["when"]["all"][1]["ge"] = 20  # failing only after twenty days
    rules[i] = Rule.model_validate(data)
    changed = dataclasses.replace(mini, rules=rules)
    assert Engine.for_kb(mini).evaluate(SUSPECTED).derived_facts() == ["failing", "suspected"]
    assert Engine.for_kb(changed).evaluate(SUSPECTED).derived_facts() == []


def test_the_knowledge_base_is_immutable(mini: KnowledgeBase) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        mini.rules = ()  # type: ignore[misc]
    with pytest.raises(TypeError):
        mini.facts["extra"] = mini.facts["on_foscarnet"]  # type: ignore[index]
    with pytest.raises(TypeError):
        del mini.outcomes["id_consult"]  # type: ignore[attr-defined]
    assert isinstance(mini.rules, tuple)
    with pytest.raises(TypeError):
        mini.rules_by_id["x"] = mini.rules[0]  # type: ignore[index]


def test_a_knowledge_base_survives_pickling(mini: KnowledgeBase) -> None:
    import pickle

    copy = pickle.loads(pickle.dumps(mini))
    assert copy.content_hash == mini.content_hash and copy.rule_locations == mini.rule_locations
    assert Engine.for_kb(copy).evaluate(SUSPECTED) == Engine.for_kb(mini).evaluate(SUSPECTED)


def test_content_hash_covers_what_affects_answers(tmp_path: Path, mini: KnowledgeBase) -> None:
    # The same content elsewhere has the same hash; it does not depend on where or when.
    copy = tmp_path / "copy"
    shutil.copytree(mini.root, copy)
    assert load_knowledge_base(copy).content_hash == mini.content_hash
    # Each kind of change gives a new hash, from the content itself.
    rule = mini.rules[3]
    requoted = rule.model_copy(update={"provenance": [rule.provenance[0].model_copy(update={"refs": [2]})]})
    variants = {
        "provenance": dataclasses.replace(mini, rules=[*mini.rules[:3], requoted, *mini.rules[4:]]),
        "rule order": dataclasses.replace(mini, rules=list(reversed(mini.rules))),
        "outcome text": dataclasses.replace(mini, outcomes={
            **mini.outcomes, "id_consult": mini.outcomes["id_consult"].model_copy(update={"text": "x"})}),
        "fact domain": dataclasses.replace(mini, facts={
            **mini.facts, "days_on_therapy": mini.facts["days_on_therapy"].model_copy(update={"max": 99})}),
        "version": dataclasses.replace(mini, manifest=mini.manifest.model_copy(update={"version": "9"})),
    }
    hashes = {name: kb.content_hash for name, kb in variants.items()}
    assert mini.content_hash not in hashes.values()
    assert len(set(hashes.values())) == len(hashes)


def test_a_source_text_edited_on_disk_gives_a_new_hash(tmp_path: Path, mini: KnowledgeBase) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(mini.root, copy)
    source = copy / "sources" / "persistent-cold-sores-next-step.txt"
    source.write_text(source.read_text(encoding="utf-8") + "\nAn added line.\n", encoding="utf-8")
    assert load_knowledge_base(copy).content_hash != mini.content_hash


def test_reloading_an_edited_knowledge_base_recompiles(tmp_path: Path) -> None:
    root = write_mini_kb(tmp_path / "kb")
    before = Engine.for_kb(load_knowledge_base(root))
    edit(root / "rules" / "main.yaml", "          ge: 10", "          ge: 20")
    after = Engine.for_kb(load_knowledge_base(root))
    assert after is not before
    assert before.evaluate(SUSPECTED).derived_facts() == ["failing", "suspected"]
    assert after.evaluate(SUSPECTED).derived_facts() == []


# --- Engine(kb) any number of times ------------------------------------------------------------


def test_engine_may_be_made_any_number_of_times(mini: KnowledgeBase) -> None:
    engines = [Engine(mini) for _ in range(3)]
    answers = [e.evaluate(SUSPECTED).model_dump(mode="json") for e in engines]
    assert answers[0] == answers[1] == answers[2]
    # One compiled ruleset per content: durable_rules never frees one, so none is added.
    assert len({e.ruleset for e in engines}) == 1
    assert Engine(mini).ruleset == Engine.for_kb(mini).ruleset


def test_engines_of_different_contents_coexist(mini: KnowledgeBase) -> None:
    other = dataclasses.replace(mini, rules=mini.rules[:1])
    first, second = Engine(mini), Engine(other)
    assert first.ruleset != second.ruleset
    assert "no-topical-acyclovir" in first.evaluate({}).fired
    assert "no-topical-acyclovir" not in second.evaluate({}).fired


# --- answers share nothing mutable -------------------------------------------------------------


def test_answers_are_immutable_and_share_nothing(mini: KnowledgeBase) -> None:
    engine = Engine.for_kb(mini)
    first = engine.evaluate({"on_foscarnet": True})
    refs = first.recommendations[0].provenance[0].refs
    with pytest.raises(AttributeError):
        refs.append(99)  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="frozen"):
        first.fired = ()  # type: ignore[misc]
    with pytest.raises(ValueError, match="frozen"):
        first.recommendations[0].code = "id_consult"  # type: ignore[misc]
    second = engine.evaluate({"on_foscarnet": True})
    assert list(second.recommendations[0].provenance[0].refs) == [1]


def test_an_answer_owns_its_copy_of_the_case(mini: KnowledgeBase) -> None:
    case: dict[str, Any] = {"causes": ["hiv"], "on_foscarnet": True}
    answer = Engine.for_kb(mini).evaluate(case, validated=True)
    case["causes"].append("transplant")
    answer.case["causes"].append("chemotherapy")
    assert Engine.for_kb(mini).evaluate({"causes": ["hiv"]}).case == {"causes": ["hiv"]}
    assert case["causes"] == ["hiv", "transplant"]


# --- no cache keyed by id(), no import-time mutation --------------------------------------------


def test_chart_book_is_shared_by_equal_contents_and_not_by_changed_ones(tmp_path: Path,
                                                                         mini: KnowledgeBase) -> None:
    again = load_knowledge_base(mini.root)
    book = chart_book(mini)
    reused = chart_book(again)
    assert reused.charts is book.charts  # computed once per content, whatever the object
    assert reused.kb is again and book.kb is mini
    changed = dataclasses.replace(mini, rules=[r for r in mini.rules if r.id != "renal-monitoring"])
    codes = {c for chart in chart_book(changed).charts for c in chart.codes}
    assert "monitor_renal_function" not in codes


def test_validation_has_no_mutable_module_state() -> None:
    import guidekb.engine.qa.invariants
    import guidekb.engine.qa.lint  # noqa: F401 -- importing them once mutated the key set

    assert not any(isinstance(value, set | dict | list) and name.isupper()
                   for name, value in vars(validation).items())


def test_a_rules_file_gets_suggestions_from_its_own_format(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """`rationale` is a key of invariants.yaml, `finding` of lint.yaml: never of a rule."""
    import guidekb.engine.qa.invariants
    import guidekb.engine.qa.lint  # noqa: F401

    root = write_mini_kb(tmp_path / "kb")
    edit(root / "rules" / "main.yaml", "    title: Foscarnet\n", "    title: Foscarnet\n    rationalle: x\n")
    monkeypatch.chdir(root)
    with pytest.raises(KnowledgeBaseError) as caught:
        load_knowledge_base(root)
    [problem] = caught.value.problems
    assert problem.message == "unknown key 'rationalle' in rules[2]"
    assert "rationale" not in problem.hint


def test_each_format_suggests_its_own_keys() -> None:
    from guidekb.engine.qa.invariants import InvariantsFile
    from guidekb.engine.qa.lint import LintFile

    assert {"rationale", "never_recommend", "when", "fact"} <= validation.keys_of(InvariantsFile)
    assert validation.keys_of(LintFile) == {"acknowledgements", "finding", "reason"}
    assert {"rationale", "finding", "acknowledgements"}.isdisjoint(validation.keys_of(RulesFile))
