"""The decision diagram agrees with the engine on every path, and is reduced.

Each root-to-leaf path is turned into cases (every answer of every edge, both ends of an
integer range; "unknown" leaves the fact out), the engine evaluates them, and the leaf must
name exactly the codes recommended and forbidden. Facts the path never asks about are tried
both absent and present, since skipping a question claims it does not matter there.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any

import pytest

from guidekb.engine.format.conditions import facts_read
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.loading import load_knowledge_base
from guidekb.engine.qa.reference import reference_evaluate
from guidekb.engine.runtime.evaluation import Engine
from guidekb.visualize.chartbook import PAGE_LIMIT, chart_book, focus_diagram
from guidekb.visualize.decisions import (
    Branch,
    Decision,
    Diagram,
    Outcome,
    Step,
    build_diagram,
)
from guidekb.visualize.formulas import Assignment, FiringFormulas, restrict
from guidekb.visualize.labels import edge_label
from guidekb.visualize.leaves import leaf_text
from guidekb.visualize.ordering import compact_diagram
from guidekb.visualize.pathway import stages
from guidekb.visualize.questions import vocabulary
from tests.chart_cases import case_of, engine_milestones
from tests.negationkb import grid, write_negation_kb
from tests.visualize_kb import write_kb


@pytest.fixture(scope="module")
def toy_kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    return load_knowledge_base(write_kb(tmp_path_factory.mktemp("toy") / "kb"))


def _choices(step: Step) -> list[list[tuple[str, str | None, Any]]]:
    """Per answer of an edge, the (fact, item, value) settings it stands for (none for a
    milestone: the rules answer it, tests/chart_cases.py)."""
    q = step.question
    if q.milestone:
        return [[]]
    out = []
    for i in step.answers:
        answer = q.answers[i]
        values = [answer.low] if answer.low == answer.high else [answer.low, answer.high]
        out += [[(q.fact, q.item, v)] for v in values]
    return out


def _filler(kb: KnowledgeBase, fact: str) -> Any:
    spec = kb.case_facts[fact]
    return {"boolean": True, "enum": (spec.values or [""])[-1], "integer": spec.max,
            "enum_list": list(spec.values or [])}[spec.type]


def _cases(kb: KnowledgeBase, steps: list[Step], cap: int = 48) -> list[dict[str, Any]]:
    combos = list(itertools.islice(itertools.product(*(_choices(s) for s in steps)), cap))
    cases = []
    for combo in combos:
        for fill in (False, True):
            case: dict[str, Any] = {}
            absent: set[str] = set()
            for (fact, item, value) in (setting for settings in combo for setting in settings):
                if value is None:
                    absent.add(fact)
                elif item is None:
                    case[fact] = value
                else:
                    items = case.setdefault(fact, [])
                    if value:
                        items.append(item)
            if fill:
                asked = {s.question.fact for s in steps}
                for fact in kb.case_facts:
                    if fact not in asked:
                        case[fact] = _filler(kb, fact)
            for fact in absent:
                case.pop(fact, None)
            cases.append(case)
    return cases


def _milestone_cases(diagram: Diagram, steps: list[Step]) -> tuple[dict[int, int], list[dict[str, Any]]]:
    """A path's milestone answers, and cases that give the path's answers with them (the first
    and the last answer of each arrow, completed by a search: tests/chart_cases.py)."""
    index = {q: i for i, q in enumerate(diagram.vocabulary.questions)}
    milestones = {index[s.question]: s.answers[0] for s in steps if s.question.milestone}
    if not milestones:
        return milestones, []
    cases = []
    for pick in (min, max):
        answers = {index[s.question]: pick(s.answers) for s in steps}
        for rng in (None, random.Random(len(cases))):
            case = case_of(diagram, answers, rng)
            assert case is not None, f"no case takes the path {answers}: the chart drew an impossible path"
            cases.append(case)
    return milestones, cases


def assert_agrees(diagram: Diagram, cap: int = 48) -> int:
    """Check every path against the engine (at most `cap` answer combinations per path);
    returns the number of cases run. On a chart with milestones, a case counts for a path
    only when the engine draws exactly the milestones the path answers "yes" (cases that
    do not are another path's); every path must get some case."""
    kb = diagram.kb
    engine = Engine.for_kb(kb)
    runs = 0
    seen: set[tuple[str, str]] = set()
    for steps, leaf in diagram.paths():
        milestones, witnesses = _milestone_cases(diagram, steps)
        matched = 0
        for case in [*witnesses, *_cases(kb, steps, cap)]:
            key = (repr(sorted(case.items())), repr(leaf))
            if key in seen:
                matched += 1
                continue
            seen.add(key)
            answer = engine.evaluate(case)
            if not engine_milestones(diagram, milestones, answer):
                continue
            matched += 1
            recommended, forbidden = set(answer.recommended_codes()), set(answer.forbidden_codes())
            if diagram.focus is not None:
                recommended &= diagram.focus
                forbidden &= diagram.focus
            if diagram.conclusion is not None:  # a conclusion chart: drawn or not
                recommended = {diagram.conclusion} & set(answer.derived_facts())
                forbidden = set()
            path = " → ".join(f"{s.question.key}={[s.question.answers[i].label for i in s.answers]}"
                              for s in steps)
            assert (set(leaf.recommended), set(leaf.forbidden)) == (recommended, forbidden), \
                f"path {path} with case {case}"
            runs += 1
        assert matched, f"no case reached the end of a path: {[s.question.key for s in steps]}"
    return runs


def test_whole_toy_diagram_agrees_with_the_engine(toy_kb: KnowledgeBase) -> None:
    assert assert_agrees(build_diagram(toy_kb)) > 50
    assert assert_agrees(compact_diagram(toy_kb)) > 50


@pytest.mark.parametrize("code", ["drug_a", "drug_b", "escalation", "check_allergies", "drug_z", "ask_score"])
def test_focused_toy_diagrams_agree_with_the_engine(toy_kb: KnowledgeBase, code: str) -> None:
    assert_agrees(build_diagram(toy_kb, code))
    assert_agrees(compact_diagram(toy_kb, code))


def test_compacting_keeps_the_manifest_order_first_and_never_grows(toy_kb: KnowledgeBase) -> None:
    head = toy_kb.manifest.flowchart.question_order
    for focus in (None, "drug_b", "check_allergies", "ask_score"):
        compact, plain = compact_diagram(toy_kb, focus), build_diagram(toy_kb, focus)
        assert len(compact.decisions()) <= len(plain.decisions())
        for steps, _ in compact.paths():
            facts = [s.question.fact for s in steps]
            asked_head = [f for f in facts if f in head]
            assert facts[: len(asked_head)] == asked_head, "manifest questions come first"
            assert asked_head == [f for f in head if f in asked_head]


def test_every_chart_of_the_default_kb_agrees_with_the_engine(hsv_kb: KnowledgeBase) -> None:
    book = chart_book(hsv_kb)
    for chart in book.charts:
        assert_agrees(chart.diagram, cap=2)


def test_codes_outside_the_charts_are_decided_alike_for_every_case(hsv_kb: KnowledgeBase) -> None:
    book = chart_book(hsv_kb)
    engine = Engine.for_kb(hsv_kb)
    for case in ({}, {f: _filler(hsv_kb, f) for f in hsv_kb.case_facts}):
        answer = engine.evaluate(case)
        assert set(book.in_every_case.forbidden) <= set(answer.forbidden_codes())
        assert set(book.in_every_case.recommended) <= set(answer.recommended_codes())
        assert not set(book.never) & {*answer.recommended_codes(), *answer.forbidden_codes()}


def test_the_diagram_is_reduced(toy_kb: KnowledgeBase) -> None:
    diagram = build_diagram(toy_kb)
    decisions = list(diagram.decisions().values())
    assert len(set(decisions)) == len(decisions), "identical sub-diagrams are shared"
    assert len(set(diagram.outcomes().values())) == len(diagram.outcomes())
    for node in decisions:
        children = [b.child for b in node.branches]
        assert len(set(children)) == len(children) >= 2, "answers to one node share one edge"
    for steps, _ in diagram.paths():
        keys = [s.question.key for s in steps]
        assert len(keys) == len(set(keys)), "no question is asked twice on a path"


def test_questions_follow_the_manifest_order_and_skip_unread_facts(toy_kb: KnowledgeBase) -> None:
    diagram = build_diagram(toy_kb)
    root = diagram.nodes[diagram.root]
    assert isinstance(root, Decision) and diagram.question(root).fact == "score"
    asked = {diagram.question(n).fact for n in diagram.decisions().values()}
    assert "unused" not in asked
    read = {f for r in toy_kb.rules for f in facts_read(r.when)}
    assert asked <= read


def test_edge_labels_show_thresholds_and_merged_unknowns(toy_kb: KnowledgeBase) -> None:
    diagram = build_diagram(toy_kb)
    labels: dict[str, set[str]] = {}
    for node in diagram.decisions().values():
        for branch in node.branches:
            labels.setdefault(diagram.question(node).key, set()).add(edge_label(diagram, node, branch))
    assert {"< 3", "3–9", "≥ 10", "unknown"} <= labels["score"]
    assert "frail / unknown" in labels["frailty"]  # unknown frailty escalates, like frail
    assert any("unknown" in label for label in labels["allergies[penicillin]"])


def test_focus_asks_only_questions_that_can_lead_to_the_code(toy_kb: KnowledgeBase) -> None:
    diagram = build_diagram(toy_kb, "drug_a")
    asked = {diagram.question(n).fact for n in diagram.decisions().values()}
    assert asked == {"score"}
    outcomes = {o for o in diagram.outcomes().values()}
    score = next(i for i, q in enumerate(diagram.vocabulary.questions) if q.fact == "score")
    # a low score: nothing; an unknown one: find out the score (a high one gives drug A)
    assert outcomes == {Outcome(("drug_a",), ()), Outcome((), ()), Outcome((), (), (score,))}


def test_a_prohibition_removes_the_recommendation_in_the_leaves(toy_kb: KnowledgeBase) -> None:
    diagram = build_diagram(toy_kb, ["drug_b"])
    leaves = set(diagram.outcomes().values())
    assert Outcome((), ("drug_b",)) in leaves and Outcome(("drug_b",), ()) in leaves


def reduced_size(diagram: Diagram, says: Callable[[int], Hashable]) -> int:
    """The decisions of the reduced ordered diagram computing the same as `diagram`, with
    each leaf standing for what `says` it says: identical sub-diagrams made one, questions
    whose every answer leads to the same one skipped. For a fixed asking order that diagram
    is unique and the smallest there is (Bryant's canonicity of reduced ordered diagrams)."""
    ids: dict[tuple[object, ...], int] = {}
    canon: dict[int, int] = {}

    def visit(node_id: int) -> int:
        if node_id not in canon:
            node = diagram.nodes[node_id]
            if isinstance(node, Outcome):
                canon[node_id] = ids.setdefault(("leaf", says(node_id)), len(ids))
            else:
                groups: dict[int, set[int]] = {}
                for branch in node.branches:
                    groups.setdefault(visit(branch.child), set()).update(branch.answers)
                if len(groups) == 1:
                    canon[node_id] = next(iter(groups))
                else:
                    arrows = frozenset((child, frozenset(answers)) for child, answers in groups.items())
                    canon[node_id] = ids.setdefault(("ask", node.question, arrows), len(ids))
        return canon[node_id]

    visit(diagram.root)
    return sum(1 for key in ids if key[0] == "ask")


def test_the_default_kb_is_drawn_as_charts_small_enough_to_print(hsv_kb: KnowledgeBase) -> None:
    """PAGE_LIMIT (30) bounds what the chart book composes: every chart of several codes (a
    group, or a merge) fits it. One chart of ONE code may not: "Orolabial episodic dosing"
    has 31 questions. Its outcomes alone take 14 (the chart before issue 11), but an open
    leaf names every question answered "unknown" on the path whose known answer would change
    the advice, so sub-charts reached with different unknowns say different things and are
    drawn apart. Measured (Nov 2026) for that chart, all in the pathway's one asking order:
    hash-consing the final diagram on (question, arrows, leaf words) merges nothing (it is
    already reduced, so 31 is the fewest for that order); only reordering its questions
    could do better (27 within the pathway's stages, 25 freely), which would break the
    pathway's promise that every chart asks in one order. A single code's chart cannot be
    split further by code; the slides and handout pages split it into parts
    (test_visualize_presets). So this proves what is true: composed charts fit the page,
    and a chart over it is one code, reduced, whose outcomes alone fit the page."""
    book = chart_book(hsv_kb)
    for k, chart in enumerate(book.charts):
        diagram, size = chart.diagram, len(chart.diagram.decisions())
        words = {i: leaf_text(diagram, i, book.next_chart(k)) if diagram.is_open(i) else "" for i in diagram.outcomes()}

        def says(i: int, d: Diagram = diagram, w: dict[int, str] = words) -> Hashable:
            leaf = d.nodes[i]
            assert isinstance(leaf, Outcome)
            return leaf.recommended, leaf.forbidden, w[i]

        def does(i: int, d: Diagram = diagram) -> Hashable:
            leaf = d.nodes[i]
            assert isinstance(leaf, Outcome)
            return leaf.recommended, leaf.forbidden

        assert reduced_size(diagram, says) == size, f"chart {k + 1} is not reduced: {chart.title}"
        if len(chart.codes) > 1:
            assert size <= PAGE_LIMIT, f"chart {k + 1} of {len(chart.codes)} codes: {size} questions"
        elif size > PAGE_LIMIT:
            assert reduced_size(diagram, does) <= PAGE_LIMIT, f"chart {k + 1}: its outcomes alone overflow"
    assert sum(1 for c in book.charts if len(c.diagram.decisions()) > PAGE_LIMIT) <= 1
    charted = [code for c in book.charts if c.conclusion is None for code in (c.codes or hsv_kb.outcomes)]
    assert len(charted) == len(set(charted))
    everything = set(charted) | set(book.in_every_case.recommended) | set(book.in_every_case.forbidden)
    assert everything | set(book.never) == set(hsv_kb.outcomes)


def test_small_kbs_are_one_chart(tmp_path: Path) -> None:
    kb = load_knowledge_base(write_kb(tmp_path / "kb"))
    book = chart_book(kb)
    assert len(book.charts) == 1 and book.charts[0].codes == ()
    assert book.in_every_case.forbidden == ("drug_z",)


def test_firing_formulas_agree_with_the_interpreter_on_every_negation(tmp_path: Path) -> None:
    """The HSV rules never use `not`, so the charts of the default knowledge base cannot catch
    a negation read wrongly here: every rule of the negation knowledge base, on every case of
    its grid, fires by its formula exactly when the plain interpreter fires it."""
    kb = load_knowledge_base(write_negation_kb(tmp_path))
    vocab = vocabulary(kb)
    formulas = FiringFormulas(kb, vocab)
    fired: set[str] = set()
    for case in grid():
        assignment = Assignment(vocab, vocab.answers_for(case))
        expected = set(reference_evaluate(kb, case).fired)
        got = {rule.id for rule in kb.rules if restrict(formulas.fires(rule.id), assignment) is True}
        assert got == expected, f"case {case}"
        fired |= got
    assert {rule.id for rule in kb.rules} - fired == {"not-always"}


def test_whole_negation_diagram_agrees_with_the_engine(tmp_path: Path) -> None:
    kb = load_knowledge_base(write_negation_kb(tmp_path))
    assert assert_agrees(build_diagram(kb), cap=12) > 50


def test_charts_of_later_stages_start_from_milestones(hsv_kb: KnowledgeBase) -> None:
    """Issue 11: the chart of a later stage asks the earlier stages' conclusions ("Resistance
    confirmed? (see chart 9)") instead of the case facts behind them, so the treatment chart
    asks a handful of questions, not the whole pathway again; each milestone names the chart
    that decides it."""
    book = chart_book(hsv_kb)
    treatment = next(c for c in book.charts if "iv_foscarnet" in c.codes)
    asked = [treatment.diagram.question(n) for n in treatment.diagram.decisions().values()]
    assert any(q.milestone for q in asked) and len(asked) <= 8
    assert not {"current_antiviral", "days_on_therapy", "adherent"} & {q.fact for q in asked}
    stage_of = {c: s.name for s in stages(hsv_kb) for c in s.conclusions}
    own = {c.conclusion: k for k, c in enumerate(book.charts) if c.conclusion is not None}
    for k, chart in enumerate(book.charts):
        for node in chart.diagram.decisions().values():
            q = chart.diagram.question(node)
            if q.milestone:  # every milestone asked has a chart of its own, earlier in the book
                assert q.place == f"chart {own[q.fact] + 1}" and f"(see {q.place})" in q.text
                assert book.charts[own[q.fact]].stage == stage_of[q.fact] and own[q.fact] < k
    # a conclusion chart ends in the conclusion where the rules draw it, and nowhere else
    for name, k in own.items():
        drawn = {c for o in book.charts[k].diagram.outcomes().values() for c in o.recommended}
        assert drawn == {name} and book.charts[k].codes == ()


def test_a_milestone_arrow_swapped_is_caught(hsv_kb: KnowledgeBase) -> None:
    """Mutants: each milestone question of the book with its two arrows swapped; the proof
    against the engine must fail on every one."""
    book = chart_book(hsv_kb)
    tried = caught = 0
    for chart in book.charts:
        diagram = chart.diagram
        for node_id, node in diagram.decisions().items():
            if not diagram.question(node).milestone or len(node.branches) != 2:
                continue
            first, second = node.branches
            nodes = dict(diagram.nodes)
            nodes[node_id] = Decision(node.question, (Branch(first.answers, second.child),
                                                      Branch(second.answers, first.child)))
            tried += 1
            with pytest.raises(AssertionError):
                assert_agrees(Diagram(diagram.kb, diagram.vocabulary, nodes, diagram.root, diagram.focus,
                                      diagram.because, diagram.conclusion), cap=2)
            caught += 1
    assert tried == caught >= 5


def test_every_focused_chart_agrees_with_the_engine_and_points_into_the_book(hsv_kb: KnowledgeBase) -> None:
    """`--focus CODE` (and the by-code exports) draw as the book does, from the milestones the
    book has charts of; every such chart is proven against the engine like the book's."""
    book = chart_book(hsv_kb)
    own = {c.conclusion: k for k, c in enumerate(book.charts) if c.conclusion is not None}
    milestones = 0
    for code in hsv_kb.outcomes:
        diagram = focus_diagram(hsv_kb, code)
        assert diagram.focus == frozenset({code})
        assert_agrees(diagram, cap=2)
        for node in diagram.decisions().values():
            question = diagram.question(node)
            if question.milestone:
                assert question.place == f"chart {own[question.fact] + 1}"
                milestones += 1
    assert milestones >= 15
