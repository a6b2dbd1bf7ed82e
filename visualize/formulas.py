"""When does a rule fire? Each rule's condition as a plain true/false formula over answers.

The engine fires a rule when its condition is *true* under Kleene logic (an absent fact makes
a test unknown, never false). "The condition is true" is the condition's normal form
(`guidekb.engine.semantics.normal_form`, where three-valued negation is resolved): a positive
and/or formula whose atoms say "this fact is known with a value in this set", "unknown",
"this list holds (or lacks) this item" or "this conclusion was drawn". Each atom becomes
"question q got one of these answers"; a conclusion becomes "one of the rules deriving it
fires" (the loader rejects cycles and negated conclusions, so this always terminates and
stays positive). Partially evaluating these formulas under some answers is what the decision
diagram is built from.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.semantics import intervals
from guidekb.engine.semantics import normal_form as nf
from guidekb.engine.semantics.derivation import producers
from guidekb.visualize.questions import Answer, Vocabulary


@dataclass(frozen=True)
class Atom:
    """True when question number `question` got one of the answers numbered in `accepted`."""

    question: int
    accepted: frozenset[int]


@dataclass(frozen=True)
class Junction:
    """All (`conjunctive`) or any of `parts`; parts are a set, so formulas that differ only
    in the order or repetition of parts compare and hash equal. The hash and the questions
    a formula depends on are computed once: expansion hashes and restricts formulas a great
    many times, and most answers leave most sub-formulas untouched."""

    conjunctive: bool
    parts: frozenset[Formula]
    questions: frozenset[int] = field(init=False, compare=False, repr=False)
    _hash: int = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        found: set[int] = set()
        for part in self.parts:
            if isinstance(part, Atom):
                found.add(part.question)
            elif isinstance(part, Junction):
                found |= part.questions
        object.__setattr__(self, "questions", frozenset(found))
        object.__setattr__(self, "_hash", hash((self.conjunctive, self.parts)))

    def __hash__(self) -> int:
        return self._hash


Formula = bool | Atom | Junction


def junction(conjunctive: bool, parts: Iterable[Formula]) -> Formula:
    """And/or of `parts`, flattened and simplified; constants absorbed."""
    flat: set[Formula] = set()
    for part in parts:
        if isinstance(part, bool):
            if part != conjunctive:
                return part  # false in an `and`, true in an `or`
            continue
        if isinstance(part, Junction) and part.conjunctive == conjunctive:
            flat.update(part.parts)
        else:
            flat.add(part)
    if not flat:
        return conjunctive
    if len(flat) == 1:
        return flat.pop()
    return Junction(conjunctive, frozenset(flat))


class FiringFormulas:
    """The firing formula of every rule of a knowledge base, over a vocabulary's questions.

    A conclusion the vocabulary asks as a milestone question stays that question unless
    `expand_milestones`: a chart of a later stage reads "resistance suspected: yes" where the
    rules drawing it read a dozen case facts. Expanded, the same formulas say what the
    milestone's answer is for a case."""

    def __init__(self, kb: KnowledgeBase, vocabulary: Vocabulary, expand_milestones: bool = False) -> None:
        self.kb = kb
        self.vocabulary = vocabulary
        self.index = {(q.fact, q.item): i for i, q in enumerate(vocabulary.questions)}
        self.milestones = {} if expand_milestones else \
            {q.fact: i for i, q in enumerate(vocabulary.questions) if q.milestone}
        self._fires: dict[str, Formula] = {}
        self._producers = producers(kb)

    def fires(self, rule_id: str) -> Formula:
        if rule_id not in self._fires:
            normal = nf.when_true(self.kb.facts, self.kb.rule(rule_id).when)
            self._fires[rule_id] = nf.fold(normal, self._atom, junction)
        return self._fires[rule_id]

    def derived(self, name: str) -> Formula:
        """When the conclusion `name` is drawn: one of the rules drawing it fires."""
        return junction(False, (self.fires(r) for r in self._producers.get(name, [])))

    def _atom(self, atom: nf.Atom) -> Formula:
        if isinstance(atom, nf.Concluded):
            if atom.name in self.milestones:
                return Atom(self.milestones[atom.name], frozenset({0}))  # answered "yes"
            return self.derived(atom.name)
        if isinstance(atom, nf.NotConcluded):
            raise AssertionError("the loader admits conclusions only positively")
        if isinstance(atom, nf.FactKnown | nf.FactUnknown):
            question = self.index[(atom.fact, self.vocabulary.presence_question(atom.fact).item)]
            present = isinstance(atom, nf.FactKnown)
            return self._accepting(question, lambda a: a.unknown != present)
        if isinstance(atom, nf.ListHas):
            question = self.index[(atom.fact, atom.item)]
            return Atom(question, frozenset({0 if atom.present else 1}))  # answers: yes, no, unknown
        question = self.index[(atom.fact, None)]
        if isinstance(atom, nf.IntIn):
            ranges = atom.intervals
            return self._accepting(question, lambda a: not a.unknown and _within(a, ranges))
        values = atom.values
        return self._accepting(question, lambda a: not a.unknown and any(_same(a.low, v) for v in values))

    def _accepting(self, question: int, accepts: Callable[[Answer], bool]) -> Formula:
        answers = self.vocabulary.questions[question].answers
        return Atom(question, frozenset(k for k, a in enumerate(answers) if accepts(a)))


def _same(value: Any, other: Any) -> bool:
    return bool(value == other and type(value) is type(other))


def _within(answer: Answer, ranges: intervals.Intervals) -> bool:
    """Whether an integer answer's range lies in `ranges`. The vocabulary splits integers at
    every cut point of the rules, so a range is never partly in."""
    assert isinstance(answer.low, int) and isinstance(answer.high, int)
    inside = intervals.contains(ranges, answer.low)
    assert inside == intervals.contains(ranges, answer.high), "answer ranges follow the cut points"
    return inside


# --- partial evaluation ---------------------------------------------------------------------


class Assignment:
    """Answers given so far, and what they imply for the other items of a list fact."""

    def __init__(self, vocabulary: Vocabulary, answers: Mapping[int, int] | None = None) -> None:
        self.vocabulary = vocabulary
        self.answers: dict[int, int] = dict(answers or {})
        self._presence: tuple[tuple[str, bool], ...] | None = None  # computed once, when asked

    def touched_by(self, question: int) -> frozenset[int]:
        """Questions whose allowed answers change when `question` is answered."""
        return self.vocabulary.siblings[question]

    def given(self, question: int, answer: int) -> Assignment:
        after = Assignment(self.vocabulary, {**self.answers, question: answer})
        if self.vocabulary.questions[question].item is None:  # no list item: presence as before
            after._presence = self.presence_key()
        return after

    def allowed(self, question: int) -> frozenset[int]:
        """Answers still possible for a question: a list fact is recorded or not as a whole."""
        if question in self.answers:
            return frozenset({self.answers[question]})
        q = self.vocabulary.questions[question]
        all_answers = frozenset(range(len(q.answers)))
        if q.item is None:
            return all_answers
        for other, answer in self.answers.items():
            sibling = self.vocabulary.questions[other]
            if sibling.fact == q.fact:
                unknown = sibling.answers[answer].unknown
                return frozenset({q.unknown_index}) if unknown else all_answers - {q.unknown_index}
        return all_answers

    def presence_key(self) -> tuple[tuple[str, bool], ...]:
        """Which list facts are known recorded or not: it shapes the questions still open.
        (Answers are never changed once given, so it is computed once: every memo key of an
        expansion holds it.)"""
        if self._presence is None:
            seen: dict[str, bool] = {}
            for i, answer in self.answers.items():
                q = self.vocabulary.questions[i]
                if q.item is not None:
                    seen[q.fact] = not q.answers[answer].unknown
            self._presence = tuple(sorted(seen.items()))
        return self._presence


def restrict(formula: Formula, assignment: Assignment, touched: frozenset[int] | None = None) -> Formula:
    """The formula with every question the assignment settles replaced by its value.

    `touched`: the only questions whose allowed answers changed since the formula was last
    restricted (sub-formulas not depending on them are returned as they are)."""
    if isinstance(formula, bool):
        return formula
    if touched is not None and formula_questions(formula).isdisjoint(touched):
        return formula
    if isinstance(formula, Atom):
        allowed = assignment.allowed(formula.question)
        kept = formula.accepted & allowed
        if kept == allowed:
            return True
        if not kept:
            return False
        return Atom(formula.question, kept) if kept != formula.accepted else formula
    parts = [restrict(p, assignment, touched) for p in formula.parts]
    if all(new is old for new, old in zip(parts, formula.parts, strict=True)):
        return formula
    return junction(formula.conjunctive, parts)


class Restrictor:
    """`restrict` for one expansion, remembering results: the same sub-formula meets the
    same answers on many paths."""

    def __init__(self) -> None:
        self._memo: dict[tuple[Formula, tuple[tuple[int, frozenset[int]], ...]], Formula] = {}

    def __call__(self, formula: Formula, assignment: Assignment, touched: frozenset[int]) -> Formula:
        return self.all((formula,), assignment, touched)[0]

    def all(self, formulas: Iterable[Formula], assignment: Assignment,
            touched: frozenset[int]) -> tuple[Formula, ...]:
        """Each formula restricted; what the touched questions allow is looked up once."""
        allowed: dict[int, frozenset[int]] | None = None
        restricted: list[Formula] = []
        for formula in formulas:
            if isinstance(formula, Junction):
                relevant: Iterable[int] = formula.questions & touched
            elif isinstance(formula, Atom) and formula.question in touched:
                relevant = (formula.question,)
            else:
                relevant = ()
            if not relevant:
                restricted.append(formula)
                continue
            if allowed is None:
                allowed = {q: assignment.allowed(q) for q in touched}
            key = (formula, tuple((q, allowed[q]) for q in sorted(relevant)))
            found = self._memo.get(key)
            if found is None:
                found = self._memo[key] = restrict(formula, assignment, touched)
            restricted.append(found)
        return tuple(restricted)


def negation(formula: Formula, vocabulary: Vocabulary) -> Formula:
    """The formula that holds exactly where `formula` does not: a question's answers partition
    what a case can say, so "not one of these answers" is "one of the others"."""
    if isinstance(formula, bool):
        return not formula
    if isinstance(formula, Atom):
        rest = frozenset(range(len(vocabulary.questions[formula.question].answers))) - formula.accepted
        return Atom(formula.question, rest) if rest else False
    return junction(not formula.conjunctive, (negation(p, vocabulary) for p in formula.parts))


def formula_questions(formula: Formula) -> frozenset[int]:
    if isinstance(formula, Atom):
        return frozenset({formula.question})
    if isinstance(formula, Junction):
        return formula.questions
    return frozenset()


def questions_in(formulas: Iterable[Formula]) -> set[int]:
    found: set[int] = set()
    for formula in formulas:
        found |= formula_questions(formula)
    return found


def satisfiable(formula: Formula, assignment: Assignment,
                memo: dict[tuple[Formula, object], bool] | None = None) -> bool:
    """Can some case make the formula true? (Shannon expansion, first open question first;
    a sub-problem met again on another path is answered from `memo`.)"""
    formula = restrict(formula, assignment)
    if isinstance(formula, bool):
        return formula
    memo = {} if memo is None else memo
    key = (formula, assignment.presence_key())
    if key not in memo:
        question = min(questions_in([formula]))
        memo[key] = any(satisfiable(formula, assignment.given(question, a), memo)
                        for a in sorted(assignment.allowed(question)))
    return memo[key]
