"""The questions a flowchart can ask about a case, and the answers each one allows.

A question is one case fact, or for a list fact one item of it ("does the list include
hiv?"). Its answers partition everything a case can say about the fact, so that every test
a rule makes is constant on each answer: enum values, yes/no, integer ranges split at the
thresholds the rules compare against, and always "unknown" (the fact is absent), because the
engine treats an absent fact differently from any value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from guidekb.engine.format.conditions import facts_read
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.models import FactSpec
from guidekb.engine.semantics.cut_points import cut_points, regions, tested_items
from guidekb.visualize.style import conclusion_words

ABSENT = None  # the value of the "unknown" answer: the fact is left out of the case


@dataclass(frozen=True)
class Answer:
    """One answer to a question: a label and the value(s) a case built from it holds.

    `low`/`high` bound an integer range (both ends are valid representatives); for other
    facts they are equal. For a list item the value is True (included) or False.
    """

    label: str
    low: object
    high: object

    @property
    def unknown(self) -> bool:
        return self.low is ABSENT


@dataclass(frozen=True)
class Question:
    """A question about one case fact (or, for a list fact, one of its items)."""

    fact: str
    item: str | None
    text: str
    answers: tuple[Answer, ...]
    # what to find out when the answer is unknown: the question itself, or for an item of a
    # list fact the list's own question (the list is recorded or not as a whole)
    topic: str = ""
    # a milestone: a conclusion of an earlier stage of the pathway asked as a question ("Resistance
    # suspected?"), answered "yes" or "not established" from the case by the rules drawing it,
    # never "unknown" (a conclusion is drawn or not); `place` names the chart that shows how
    # it is drawn ("chart 6"), filled in by the chart book
    milestone: bool = False
    place: str = ""

    def __post_init__(self) -> None:
        if not self.topic:
            object.__setattr__(self, "topic", self.text)

    @property
    def key(self) -> str:
        return self.fact if self.item is None else f"{self.fact}[{self.item}]"

    @property
    def unknown_index(self) -> int:
        """The "unknown" answer: always the last, for every question but a milestone (which
        has none: it is answered from the rules)."""
        assert not self.milestone, "a milestone is never answered 'unknown'"
        return len(self.answers) - 1

    @property
    def answered_unknown(self) -> frozenset[int]:
        """The answers that leave something open to find out: "unknown"; for a milestone, "not
        established" (what the chart of its stage finds out)."""
        return frozenset({1 if self.milestone else len(self.answers) - 1})


UNKNOWN = "unknown"
NOT_ESTABLISHED = "not established"


def milestone_question(kb: KnowledgeBase, name: str) -> Question:
    """The conclusion `name` asked as a question: "Resistance suspected?"."""
    topic = conclusion_words(kb, name)
    answers = (Answer("yes", True, True), Answer(NOT_ESTABLISHED, False, False))
    return Question(name, None, f"{topic}?", answers, topic, milestone=True)


def _integer_answers(spec: FactSpec, cuts: list[int]) -> tuple[Answer, ...]:
    """Ranges of [min, max] split where a rule's test changes value (at its cut points)."""
    assert spec.min is not None and spec.max is not None
    answers = [Answer(range_label(lo, hi, spec.min, spec.max), lo, hi) for lo, hi in regions(spec, cuts)]
    return (*answers, Answer(UNKNOWN, ABSENT, ABSENT))


def range_label(lo: int, hi: int, lowest: int, highest: int) -> str:
    """'< 10', '≥ 10', '10–19' or '= 5', written relative to the fact's bounds."""
    if lo == hi:
        return f"= {lo}"
    if lo == lowest and hi == highest:
        return "any value"
    if lo == lowest:
        return f"< {hi + 1}"
    if hi == highest:
        return f"≥ {lo}"
    return f"{lo}–{hi}"


def humanize(value: str) -> str:
    return value.replace("_", " ")


def _question_text(name: str, spec: FactSpec) -> str:
    return spec.question or spec.description or humanize(name)


@dataclass(frozen=True)
class Vocabulary:
    """Every question worth asking for a knowledge base, in asking order."""

    questions: tuple[Question, ...]

    @cached_property
    def siblings(self) -> tuple[frozenset[int], ...]:
        """For each question, the questions about the same fact (itself included): answering
        one changes what the others allow. Computed once: expansion asks it at every step."""
        by_fact: dict[str, set[int]] = {}
        for i, q in enumerate(self.questions):
            by_fact.setdefault(q.fact, set()).add(i)
        return tuple(frozenset(by_fact[q.fact]) for q in self.questions)

    def for_fact(self, fact: str) -> list[Question]:
        return [q for q in self.questions if q.fact == fact]

    def presence_question(self, fact: str) -> Question:
        """The question whose answer tells whether `fact` is recorded at all."""
        return self.for_fact(fact)[0]

    def answers_for(self, case: Mapping[str, Any]) -> dict[int, int]:
        """The answer a concrete (validated) case gives to every case-fact question, by index
        (a milestone's answer comes from the rules: guidekb.visualize.decisions.answers_for)."""
        chosen: dict[int, int] = {}
        for i, q in enumerate(self.questions):
            if q.milestone:
                continue
            if q.fact not in case:
                chosen[i] = q.unknown_index
                continue
            value = case[q.fact]
            if q.item is not None:
                value = q.item in value
            chosen[i] = next(k for k, a in enumerate(q.answers) if not a.unknown and _matches(a, value))
        return chosen


def _matches(answer: Answer, value: Any) -> bool:
    if isinstance(value, list):
        return True  # the "recorded?" question of a list fact no rule tests item by item
    if isinstance(value, int) and not isinstance(value, bool):
        low, high = answer.low, answer.high
        return isinstance(low, int) and isinstance(high, int) and low <= value <= high
    return bool(answer.low == value and type(answer.low) is type(value))


def vocabulary(kb: KnowledgeBase, order: list[str] | None = None,
               milestones: tuple[str, ...] = ()) -> Vocabulary:
    """The questions of a knowledge base: only case facts some rule reads are asked, after
    the `milestones` (conclusions asked as questions, in the order given: a chart of a later
    stage starts from the earlier stages' conclusions instead of asking their case facts again).

    Order: the manifest's `flowchart.question_order`, then the facts file's order, unless
    `order` is given (facts it leaves out follow it, in the default order). The items of a
    list fact are asked one by one, in the order of its declared values.
    """
    conditions = [rule.when for rule in kb.rules]
    read = {f for c in conditions for f in facts_read(c) if f in kb.case_facts}
    cuts = cut_points(conditions, kb.facts)
    items = tested_items(kb.facts, conditions)
    preferred = [f for f in kb.manifest.flowchart.question_order if f in read]
    default = preferred + [f for f in kb.case_facts if f in read and f not in preferred]
    if order is None:
        order = default
    else:
        order = list(dict.fromkeys(f for f in order if f in read))
        order += [f for f in default if f not in order]
    questions: list[Question] = [milestone_question(kb, name) for name in milestones]
    for name in order:
        spec = kb.case_facts[name]
        text = _question_text(name, spec)
        if spec.type == "boolean":
            questions.append(Question(name, None, text, (
                Answer("yes", True, True), Answer("no", False, False), Answer(UNKNOWN, ABSENT, ABSENT))))
        elif spec.type == "enum":
            values = [Answer(humanize(v), v, v) for v in spec.values or []]
            questions.append(Question(name, None, text, (*values, Answer(UNKNOWN, ABSENT, ABSENT))))
        elif spec.type == "integer":
            questions.append(Question(name, None, text, _integer_answers(spec, cuts.get(name, []))))
        else:
            tested: list[str | None] = [v for v in spec.values or [] if v in items.get(name, ())] or [None]
            for item in tested:
                answers: tuple[Answer, ...]
                if item is None:
                    answers = (Answer("recorded", True, True), Answer(UNKNOWN, ABSENT, ABSENT))
                    questions.append(Question(name, None, f"{text} (recorded?)", answers, text))
                else:
                    answers = (Answer("yes", True, True), Answer("no", False, False),
                               Answer(UNKNOWN, ABSENT, ABSENT))
                    asked = f"{text} Includes {humanize(item)}?"
                    questions.append(Question(name, item, asked, answers, text))
    return Vocabulary(tuple(questions))
