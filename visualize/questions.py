"""The questions a flowchart can ask about a case, and the answers each one allows.

A question is one case fact, or for a list fact one item of it ("does the list include
hiv?"). Its answers partition everything a case can say about the fact, so that every test
a rule makes is constant on each answer: enum values, yes/no, integer ranges split at the
thresholds the rules compare against, and always "unknown" (the fact is absent), because the
engine treats an absent fact differently from any value.
"""

from __future__ import annotations

from dataclasses import dataclass

from guidekb.engine.format.conditions import leaves
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.models import Compare, FactSpec

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

    @property
    def key(self) -> str:
        return self.fact if self.item is None else f"{self.fact}[{self.item}]"

    @property
    def unknown_index(self) -> int:
        return len(self.answers) - 1  # "unknown" is always the last answer


UNKNOWN = "unknown"


def _integer_answers(spec: FactSpec, cuts: set[int]) -> tuple[Answer, ...]:
    """Ranges of [min, max] split where a rule's test changes value; `cuts` are range starts."""
    assert spec.min is not None and spec.max is not None
    starts = sorted({spec.min} | {c for c in cuts if spec.min < c <= spec.max})
    ends = [s - 1 for s in starts[1:]] + [spec.max]
    answers = [Answer(range_label(lo, hi, spec.min, spec.max), lo, hi)
               for lo, hi in zip(starts, ends, strict=True)]
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


def _cuts(test: Compare) -> set[int]:
    """Where an integer test can change value: the first integer of each constant range."""
    op, operand = test.operator, test.operand
    if op in ("lt", "ge"):
        return {operand}
    if op in ("le", "gt"):
        return {operand + 1}
    values = operand if op == "in" else [operand]
    return {v for v in values if isinstance(v, int)} | {v + 1 for v in values if isinstance(v, int)}


def humanize(value: str) -> str:
    return value.replace("_", " ")


def _question_text(name: str, spec: FactSpec) -> str:
    return spec.question or spec.description or humanize(name)


@dataclass(frozen=True)
class Vocabulary:
    """Every question worth asking for a knowledge base, in asking order."""

    questions: tuple[Question, ...]

    def for_fact(self, fact: str) -> list[Question]:
        return [q for q in self.questions if q.fact == fact]

    def presence_question(self, fact: str) -> Question:
        """The question whose answer tells whether `fact` is recorded at all."""
        return self.for_fact(fact)[0]


def vocabulary(kb: KnowledgeBase, order: list[str] | None = None) -> Vocabulary:
    """The questions of a knowledge base: only case facts some rule reads are asked.

    Order: the manifest's `flowchart.question_order`, then the facts file's order, unless
    `order` is given (facts it leaves out follow it, in the default order). The items of a
    list fact are asked one by one, in the order of its declared values.
    """
    read: dict[str, list[Compare | None]] = {}
    for rule in kb.rules:
        for site in leaves(rule.when):
            if site.fact in kb.case_facts:
                read.setdefault(site.fact, []).append(site.leaf if isinstance(site.leaf, Compare) else None)
    preferred = [f for f in kb.manifest.flowchart.question_order if f in read]
    default = preferred + [f for f in kb.case_facts if f in read and f not in preferred]
    if order is None:
        order = default
    else:
        order = list(dict.fromkeys(f for f in order if f in read))
        order += [f for f in default if f not in order]
    questions: list[Question] = []
    for name in order:
        spec = kb.case_facts[name]
        text = _question_text(name, spec)
        tests = [t for t in read[name] if t is not None]
        if spec.type == "boolean":
            questions.append(Question(name, None, text, (
                Answer("yes", True, True), Answer("no", False, False), Answer(UNKNOWN, ABSENT, ABSENT))))
        elif spec.type == "enum":
            values = [Answer(humanize(v), v, v) for v in spec.values or []]
            questions.append(Question(name, None, text, (*values, Answer(UNKNOWN, ABSENT, ABSENT))))
        elif spec.type == "integer":
            cuts: set[int] = set()
            for test in tests:
                cuts |= _cuts(test)
            questions.append(Question(name, None, text, _integer_answers(spec, cuts)))
        else:
            tested = {t.operand for t in tests if t.operator == "contains"}
            items: list[str | None] = [v for v in spec.values or [] if v in tested] or [None]
            for item in items:
                answers: tuple[Answer, ...]
                if item is None:
                    answers = (Answer("recorded", True, True), Answer(UNKNOWN, ABSENT, ABSENT))
                    questions.append(Question(name, None, f"{text} (recorded?)", answers))
                else:
                    answers = (Answer("yes", True, True), Answer("no", False, False),
                               Answer(UNKNOWN, ABSENT, ABSENT))
                    questions.append(Question(name, item, f"{text} Includes {humanize(item)}?", answers))
    return Vocabulary(tuple(questions))
