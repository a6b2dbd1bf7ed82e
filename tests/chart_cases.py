"""Concrete cases for the answers on a chart's path, milestones included.

A chart of a later stage starts from milestones: conclusions of earlier stages asked as
questions ("Resistance suspected?"), answered by the rules, never by the case. A path through
such a chart says "resistance suspected: yes" without saying which case facts make it so, so
turning a path into a case takes a search: the case facts the path gives, completed so that the
rules draw exactly the milestones the path answers "yes". The search walks the rules' firing
formulas (it only proposes cases); the engine then decides every case, and the proofs check
that the engine draws the conclusions the path assumed (`engine_milestones`).
"""

from __future__ import annotations

import random
from typing import Any

from guidekb.engine.runtime.answer import Answer
from guidekb.visualize.decisions import Diagram
from guidekb.visualize.formulas import (
    Assignment,
    FiringFormulas,
    Formula,
    negation,
    questions_in,
    restrict,
)


def is_open_answer(diagram: Diagram, question: int, answer: int) -> bool:
    """Whether an answer leaves something to find out: "unknown", or a milestone "not
    established"."""
    return answer in diagram.vocabulary.questions[question].answered_unknown


def milestone_formulas(diagram: Diagram, answers: dict[int, int]) -> list[Formula]:
    """For each milestone answered in `answers`: when the rules give that answer, over case facts."""
    vocab = diagram.vocabulary
    expanded = FiringFormulas(diagram.kb, vocab, expand_milestones=True)
    wanted: list[Formula] = []
    for q, a in sorted(answers.items()):
        if vocab.questions[q].milestone:
            drawn = expanded.derived(vocab.questions[q].fact)
            wanted.append(drawn if a == 0 else negation(drawn, vocab))
    return wanted


def complete(diagram: Diagram, answers: dict[int, int], rng: random.Random | None = None) -> dict[int, int] | None:
    """The case-fact answers of `answers`, with as many other case-fact questions answered
    as it takes for the rules to draw exactly the milestones `answers` says (the others stay
    unanswered: no answer to them changes a milestone); None when no case gives `answers`.
    With `rng`, the answers are tried in random order (a different case each time)."""
    vocab = diagram.vocabulary
    given = {q: a for q, a in answers.items() if not vocab.questions[q].milestone}
    if len(given) == len(answers):
        return given  # no milestone: the answers are the case's
    wanted = milestone_formulas(diagram, answers)
    failed: set[tuple[tuple[Formula, ...], object]] = set()

    def search(assignment: Assignment) -> Assignment | None:
        formulas = tuple(restrict(f, assignment) for f in wanted)
        if any(f is False for f in formulas):
            return None
        key = (formulas, assignment.presence_key())
        if key in failed:
            return None
        open_questions = questions_in(f for f in formulas if not isinstance(f, bool))
        if not open_questions:
            return assignment
        question = min(open_questions)
        options = sorted(assignment.allowed(question))
        if rng is not None:
            rng.shuffle(options)
        for option in options:
            found = search(assignment.given(question, option))
            if found is not None:
                return found
        failed.add(key)
        return None

    found = search(Assignment(vocab, given))
    return None if found is None else dict(found.answers)


def case_from(diagram: Diagram, answers: dict[int, int]) -> dict[str, Any]:
    """The case a set of case-fact answers (question index -> answer index) stands for
    (milestones are skipped: the rules draw them)."""
    case: dict[str, Any] = {}
    questions = diagram.vocabulary.questions
    for index, chosen in answers.items():
        question = questions[index]
        if question.milestone:
            continue
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


def case_of(diagram: Diagram, answers: dict[int, int], rng: random.Random | None = None) -> dict[str, Any] | None:
    """A case giving `answers` (milestones included), or None when no case does."""
    found = complete(diagram, answers, rng)
    return None if found is None else case_from(diagram, found)


def engine_milestones(diagram: Diagram, answers: dict[int, int], engine_answer: Answer) -> bool:
    """Whether the engine drew exactly the milestones `answers` says, for its case."""
    drawn = set(engine_answer.derived_facts())
    questions = diagram.vocabulary.questions
    return all((questions[q].fact in drawn) == (a == 0) for q, a in answers.items() if questions[q].milestone)
