"""What a leaf that advises nothing says, proven against the engine.

Issue 11: the leaf used to look only at the last arrow into it, so a penicillin allergy
answered "unknown" earlier on the path (it blocks amoxicillin) ended in "Not indicated here",
which teaches that the patient needs nothing. The leaf is now decided from the whole path.

The differential test walks every open leaf of every chart and, for every concrete set of
answers on its path, asks the engine (not the chart's own formulas): does some known answer
to a question answered "unknown" there, with the other answers kept and the questions the path
never asks free, change what this chart recommends or forbids? The leaf must name exactly
those questions, and say "Find out" exactly when there is one.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from guidekb.engine.format.conditions import facts_read
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.loading import load_knowledge_base
from guidekb.engine.runtime.evaluation import Engine
from guidekb.engine.semantics.derivation import producers
from guidekb.visualize.chartbook import chart_book
from guidekb.visualize.decisions import Decision, Diagram, Outcome, build_diagram, codes_of
from guidekb.visualize.leaves import FIND_OUT, NOT_HERE, join_topics, leaf_text
from guidekb.visualize.text_version import chart_items
from tests.negationkb import write_negation_kb
from tests.visualize_kb import write_kb

PNEUMONIA_SOURCE = """Pneumonia teaching example

Assessment
A patient with new confusion or a respiratory rate of 30 breaths per minute or more has severe pneumonia.
Treatment
Consider hospital admission for adults with severe pneumonia.
Offer oral amoxicillin to adults with pneumonia that is not severe.
Cautions
Do not offer amoxicillin to a patient with a penicillin allergy.
"""


def write_pneumonia_kb(root: Path) -> Path:
    """The author's pneumonia knowledge base of issue 11: the allergy is asked first, and an
    unknown allergy blocks amoxicillin (which needs a confirmed "no")."""
    (root / "rules").mkdir(parents=True)
    (root / "sources").mkdir()
    (root / "sources" / "example.txt").write_text(PNEUMONIA_SOURCE)
    manifest = {"id": "pneumonia", "title": "Community-acquired pneumonia", "version": "0.1.0",
                "authors": ["tests"],
                "sources": [{"id": "example", "title": "Example", "publisher": "tests", "date": "2026-01-01",
                             "file": "sources/example.txt", "sections": ["Assessment", "Treatment", "Cautions"]}]}
    facts = {"facts": {
        "new_confusion": {"type": "boolean", "description": "New mental confusion."},
        "respiratory_rate": {"type": "integer", "min": 0, "max": 80, "description": "Respiratory rate."},
        "penicillin_allergy": {"type": "boolean", "description": "Known penicillin allergy."},
        "severe_pneumonia": {"type": "boolean", "derived": True, "description": "Severe pneumonia."},
    }}
    outcomes = {"outcomes": {"oral_amoxicillin": {"text": "Offer oral amoxicillin."},
                             "consider_admission": {"text": "Consider hospital admission."}}}

    def quote(section: str, text: str) -> list[dict[str, str]]:
        return [{"source": "example", "section": section, "quote": text}]

    rules = {"rules": [
        {"id": "severe", "title": "Severe",
         "when": {"any": [{"fact": "new_confusion", "equals": True}, {"fact": "respiratory_rate", "ge": 30}]},
         "then": {"derive": ["severe_pneumonia"]},
         "provenance": quote("Assessment", "A patient with new confusion or a respiratory rate of 30 breaths "
                                           "per minute or more has severe pneumonia.")},
        {"id": "admit", "title": "Admit", "when": {"fact": "severe_pneumonia", "equals": True},
         "then": {"recommend": ["consider_admission"]},
         "provenance": quote("Treatment", "Consider hospital admission for adults with severe pneumonia.")},
        {"id": "amoxicillin", "title": "Amoxicillin",
         "when": {"all": [{"fact": "new_confusion", "equals": False}, {"fact": "respiratory_rate", "lt": 30},
                          {"fact": "penicillin_allergy", "equals": False}]},
         "then": {"recommend": ["oral_amoxicillin"]},
         "provenance": quote("Treatment", "Offer oral amoxicillin to adults with pneumonia that is not severe.")},
        {"id": "no-amoxicillin", "title": "No amoxicillin", "when": {"fact": "penicillin_allergy", "equals": True},
         "then": {"forbid": [{"code": "oral_amoxicillin", "reason": "Allergy."}]},
         "provenance": quote("Cautions", "Do not offer amoxicillin to a patient with a penicillin allergy.")},
    ]}
    for name, data in [("manifest.yaml", manifest), ("facts.yaml", facts), ("outcomes.yaml", outcomes)]:
        (root / name).write_text(yaml.safe_dump(data, sort_keys=False))
    (root / "rules" / "main.yaml").write_text(yaml.safe_dump(rules, sort_keys=False))
    return root


@pytest.fixture(scope="module")
def pneumonia_kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    return load_knowledge_base(write_pneumonia_kb(tmp_path_factory.mktemp("pneumonia") / "kb"))


ORDER = ["penicillin_allergy", "new_confusion", "respiratory_rate"]  # the allergy asked first


def _walk(diagram: Diagram) -> Iterator[tuple[list[tuple[int, tuple[int, ...]]], int]]:
    """Every root-to-leaf path: (question index, answers) per arrow, and the leaf's id."""
    def walk(node_id: int, steps: list[tuple[int, tuple[int, ...]]]) -> Iterator[Any]:
        node = diagram.nodes[node_id]
        if isinstance(node, Outcome):
            yield steps, node_id
            return
        for branch in node.branches:
            yield from walk(branch.child, [*steps, (node.question, branch.answers)])

    yield from walk(diagram.root, [])


def _leaf_after(diagram: Diagram, answers: dict[str, str]) -> int:
    """The leaf reached by answering each question by its label (fact -> label)."""
    node_id = diagram.root
    node = diagram.nodes[node_id]
    while isinstance(node, Decision):
        question = diagram.question(node)
        wanted = next(k for k, a in enumerate(question.answers) if a.label == answers[question.fact])
        node_id = next(b.child for b in node.branches if wanted in b.answers)
        node = diagram.nodes[node_id]
    return node_id


def test_an_earlier_unknown_allergy_asks_to_find_it_out(pneumonia_kb: KnowledgeBase) -> None:
    """The issue's own case: allergy unknown, no confusion, breathing below 30. Amoxicillin
    waits on the allergy, so the leaf says to find it out; before, it said 'Not indicated'."""
    diagram = build_diagram(pneumonia_kb, order=ORDER)
    leaf = _leaf_after(diagram, {"penicillin_allergy": "unknown", "new_confusion": "no",
                                 "respiratory_rate": "< 30"})
    assert diagram.is_open(leaf)
    assert leaf_text(diagram, leaf, "chart 2") == "Find out: Known penicillin allergy"
    # the same patient with a known "no" allergy gets amoxicillin: the answer does matter
    known = diagram.nodes[_leaf_after(diagram, {"penicillin_allergy": "no", "new_confusion": "no",
                                                "respiratory_rate": "< 30"})]
    assert isinstance(known, Outcome) and known.recommended == ("oral_amoxicillin",)


def test_several_unknowns_that_matter_are_all_named_in_asking_order(pneumonia_kb: KnowledgeBase) -> None:
    diagram = build_diagram(pneumonia_kb, order=ORDER)
    leaf = _leaf_after(diagram, {"penicillin_allergy": "unknown", "new_confusion": "unknown",
                                 "respiratory_rate": "unknown"})
    assert leaf_text(diagram, leaf, "chart 2") == \
        "Find out: Known penicillin allergy, new mental confusion, respiratory rate"
    # everything known and nothing indicated does not exist here; with only the rate unknown
    # and the rest known "no", only the rate is named
    leaf = _leaf_after(diagram, {"penicillin_allergy": "no", "new_confusion": "no", "respiratory_rate": "unknown"})
    assert leaf_text(diagram, leaf, "chart 2") == "Find out: Respiratory rate"


def test_every_output_of_the_text_version_reads_the_leaf_from_the_path(pneumonia_kb: KnowledgeBase) -> None:
    diagram = build_diagram(pneumonia_kb, order=ORDER)
    lines: list[str] = []

    def flat(items: list[Any]) -> None:
        for item in items:
            lines.append(item.text)
            flat(item.children)

    flat(chart_items(diagram, "chart 2"))
    assert "< 30 → Find out: Known penicillin allergy" in lines
    assert not any(NOT_HERE in line for line in lines), "every open leaf here waits on an unknown answer"


def test_an_unknown_that_changes_nothing_leaves_the_leaf_not_indicated(tmp_path: Path) -> None:
    """In the toy knowledge base, frailty matters only once drug A is indicated: with a low
    score and frailty unknown, nothing in the chart changes, so the leaf points elsewhere."""
    kb = load_knowledge_base(write_kb(tmp_path / "kb"))
    diagram = build_diagram(kb, "escalation")
    texts = {leaf_text(diagram, i, "chart 2") for i in diagram.outcomes() if diagram.is_open(i)}
    assert f"{NOT_HERE} → see chart 2" in texts
    assert f"{FIND_OUT}: Score?" in texts


def test_topics_read_as_a_list_of_questions_or_of_statements() -> None:
    assert join_topics(["Known penicillin allergy.", "New mental confusion."]) == \
        "Known penicillin allergy, new mental confusion"
    assert join_topics(["Is the dose adequate?", "Is the patient adherent?"]) == \
        "Is the dose adequate? Is the patient adherent?"
    assert join_topics(["Respiratory rate.", "HIV status", "Lesion site, side"]) == \
        "Respiratory rate; HIV status; lesion site, side"


# --- the differential proof against the engine --------------------------------------------


def _relevant_facts(kb: KnowledgeBase, diagram: Diagram) -> set[str]:
    """Case facts read, directly or through conclusions, by the rules the chart draws."""
    derivers = producers(kb)
    focus = diagram.focus
    pending = [r for r in kb.rules if codes_of(r) and (focus is None or focus & set(codes_of(r)))]
    seen: set[str] = set()
    facts: set[str] = set()
    while pending:
        rule = pending.pop()
        if rule.id in seen:
            continue
        seen.add(rule.id)
        for fact in facts_read(rule.when):
            if fact in kb.case_facts:
                facts.add(fact)
            pending += [kb.rule(r) for r in derivers.get(fact, [])]
    return facts


def _case(diagram: Diagram, answers: dict[int, int]) -> dict[str, Any]:
    """The case a set of answers (question index -> answer index) stands for."""
    case: dict[str, Any] = {}
    questions = diagram.vocabulary.questions
    for index, chosen in answers.items():
        question = questions[index]
        answer = question.answers[chosen]
        if answer.unknown:
            continue
        if question.item is None:
            case[question.fact] = [] if diagram.kb.case_facts[question.fact].type == "enum_list" else answer.low
        else:
            items = case.setdefault(question.fact, [])
            if answer.low is True:
                items.append(question.item)
    return case


class _Oracle:
    """The engine's answer (recommended and forbidden codes of the chart) per case, cached."""

    def __init__(self, kb: KnowledgeBase, diagram: Diagram) -> None:
        self.engine = Engine.for_kb(kb)
        self.focus = diagram.focus
        self.cache: dict[str, tuple[frozenset[str], frozenset[str]]] = {}
        self.calls = 0

    def __call__(self, case: dict[str, Any]) -> tuple[frozenset[str], frozenset[str]]:
        key = repr(sorted(case.items()))
        if key not in self.cache:
            self.calls += 1
            answer = self.engine.evaluate(case)
            rec, forb = set(answer.recommended_codes()), set(answer.forbidden_codes())
            if self.focus is not None:
                rec &= self.focus
                forb &= self.focus
            self.cache[key] = (frozenset(rec), frozenset(forb))
        return self.cache[key]


def _completions(diagram: Diagram, kept: dict[int, int], free: list[int]) -> Iterator[dict[int, int]]:
    """Every answer to the free questions consistent with the `kept` ones: a list fact is
    recorded or not as a whole, so its items are all unknown or all known."""
    questions = diagram.vocabulary.questions
    for combo in itertools.product(*(range(len(questions[q].answers)) for q in free)):
        chosen = {**kept, **dict(zip(free, combo, strict=True))}
        presence: dict[str, set[bool]] = {}
        for q, a in chosen.items():
            presence.setdefault(questions[q].fact, set()).add(questions[q].answers[a].unknown)
        if all(len(v) == 1 for v in presence.values()):
            yield chosen


def _engine_find_outs(diagram: Diagram, oracle: _Oracle, relevant: set[str], path: dict[int, int],
                      leaf: Outcome) -> set[str]:
    """Facts answered unknown on the path for which some known answer (others kept, the rest
    free) makes the engine's outcome for this chart differ from the leaf's."""
    questions = diagram.vocabulary.questions
    target = (frozenset(leaf.recommended), frozenset(leaf.forbidden))
    found: set[str] = set()
    for q, a in path.items():
        question = questions[q]
        if not question.answers[a].unknown or question.fact in found:
            continue
        kept = {p: b for p, b in path.items() if questions[p].fact != question.fact}
        free = [i for i, other in enumerate(questions) if other.fact in relevant and i not in kept and i != q]
        for known in range(len(question.answers)):
            if question.answers[known].unknown:
                continue
            for answers in _completions(diagram, {**kept, q: known}, free):
                if oracle(_case(diagram, answers)) != target:
                    found.add(question.fact)
                    break
            if question.fact in found:
                break
    return found


def assert_leaves_agree_with_the_engine(kb: KnowledgeBase, diagram: Diagram, elsewhere: str,
                                        cap: int = 64) -> int:
    """Every open leaf names exactly the unknown answers the engine says would change the
    advice, on every concrete path into it (at most `cap` answer combinations a path)."""
    oracle = _Oracle(kb, diagram)
    relevant = _relevant_facts(kb, diagram)
    checked = 0
    questions = diagram.vocabulary.questions
    for steps, leaf_id in _walk(diagram):
        if not diagram.is_open(leaf_id):
            continue
        leaf = diagram.nodes[leaf_id]
        assert isinstance(leaf, Outcome)
        named = {questions[i].fact for i in leaf.find_out}
        text = leaf_text(diagram, leaf_id, elsewhere)
        assert text.startswith(FIND_OUT) == bool(named), text
        assert "No action" not in text
        for combo in itertools.islice(itertools.product(*(answers for _, answers in steps)), cap):
            path = {q: a for (q, _), a in zip(steps, combo, strict=True)}
            expected = _engine_find_outs(diagram, oracle, relevant, path, leaf)
            words = [f"{questions[q].key}={questions[q].answers[a].label}" for q, a in path.items()]
            assert named == expected, f"path {words}: leaf says {text!r}, the engine: {sorted(expected)}"
            checked += 1
    return checked


def test_pneumonia_leaves_agree_with_the_engine(pneumonia_kb: KnowledgeBase) -> None:
    for order in (ORDER, None):
        assert assert_leaves_agree_with_the_engine(pneumonia_kb, build_diagram(pneumonia_kb, order=order),
                                                   "chart 2") >= 5


def test_toy_and_negation_leaves_agree_with_the_engine(tmp_path: Path) -> None:
    toy = load_knowledge_base(write_kb(tmp_path / "toy"))
    checked = 0
    for focus in (None, "escalation", "drug_b", "check_allergies", "ask_score"):
        checked += assert_leaves_agree_with_the_engine(toy, build_diagram(toy, focus), "chart 2", cap=8)
    negation = load_knowledge_base(write_negation_kb(tmp_path / "negation"))
    for focus in ("iv_foscarnet", "monitor_renal_function"):
        checked += assert_leaves_agree_with_the_engine(negation, build_diagram(negation, focus), "chart 2", cap=4)
    assert checked >= 10


@pytest.mark.skip(reason="too slow as written: enumerating the free facts of every HSV chart ran over "
                         "10 minutes unfinished; needs a cheaper enumeration (issue 11 follow-up)")
def test_every_hsv_chart_leaf_agrees_with_the_engine(hsv_kb: KnowledgeBase) -> None:
    book = chart_book(hsv_kb)
    finds = 0
    for k, chart in enumerate(book.charts):
        assert_leaves_agree_with_the_engine(hsv_kb, chart.diagram, book.next_chart(k), cap=2)
        finds += sum(1 for i in chart.diagram.outcomes()
                     if leaf_text(chart.diagram, i, book.next_chart(k)).startswith(FIND_OUT))
    assert finds >= 1
