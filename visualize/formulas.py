"""When does a rule fire? Each rule's condition as a plain true/false formula over answers.

The engine fires a rule when its condition is *true* under Kleene logic (an absent fact makes
a test unknown, never false). "The condition is true" is two-valued, and pushes down through
`all`/`any` (De Morgan holds in Kleene logic too), so each rule's firing becomes an and/or
formula whose atoms say "question q got one of these answers". A conclusion a rule reads is
replaced by "one of the rules deriving it fires" (the loader rejects cycles and negated
conclusions, so this always terminates and stays positive). Partially evaluating these
formulas under some answers is what the decision diagram is built from.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.models import AllOf, Always, AnyOf, Compare, Condition, Known, Not, Unknown
from guidekb.engine.semantics.logic import compare
from guidekb.visualize.questions import Vocabulary


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
    """The firing formula of every rule of a knowledge base, over a vocabulary's questions."""

    def __init__(self, kb: KnowledgeBase, vocabulary: Vocabulary) -> None:
        self.kb = kb
        self.vocabulary = vocabulary
        self.index = {(q.fact, q.item): i for i, q in enumerate(vocabulary.questions)}
        self._fires: dict[str, Formula] = {}

    def fires(self, rule_id: str) -> Formula:
        if rule_id not in self._fires:
            self._fires[rule_id] = self._holds(self.kb.rule(rule_id).when, negated=False)
        return self._fires[rule_id]

    def _derived(self, name: str) -> Formula:
        return junction(False, (self.fires(r.id) for r in self.kb.rules if name in r.then.derive))

    def _holds(self, cond: Condition, negated: bool) -> Formula:
        """Formula for "cond is true" (or "cond is false" when `negated`)."""
        if isinstance(cond, AllOf | AnyOf):
            children = cond.all if isinstance(cond, AllOf) else cond.any
            conjunctive = isinstance(cond, AllOf) != negated
            return junction(conjunctive, (self._holds(c, negated) for c in children))
        if isinstance(cond, Not):
            return self._holds(cond.not_, not negated)
        if isinstance(cond, Always):
            return not negated
        if isinstance(cond, Known | Unknown):
            name = cond.known if isinstance(cond, Known) else cond.unknown
            if name in self.kb.derived_facts:
                assert not negated and isinstance(cond, Known), "the loader admits only positive conclusions"
                return self._derived(name)
            want_present = isinstance(cond, Known) != negated
            return self._presence(name, want_present)
        return self._compare(cond, negated)

    def _presence(self, fact: str, present: bool) -> Formula:
        i = self.index[(fact, self.vocabulary.presence_question(fact).item)]
        q = self.vocabulary.questions[i]
        accepted = {k for k, a in enumerate(q.answers) if a.unknown != present}
        return Atom(i, frozenset(accepted))

    def _compare(self, test: Compare, negated: bool) -> Formula:
        if test.fact in self.kb.derived_facts:
            assert not negated, "the loader admits only positive conclusions"
            return self._derived(test.fact)
        if test.operator == "contains":
            i = self.index[(test.fact, test.operand)]
            return Atom(i, frozenset({1 if negated else 0}))  # answers: yes, no, unknown
        i = self.index[(test.fact, None)]
        q = self.vocabulary.questions[i]
        want = not negated
        accepted = {k for k, a in enumerate(q.answers) if compare(test, a.low) is want}
        return Atom(i, frozenset(accepted))


# --- partial evaluation ---------------------------------------------------------------------


class Assignment:
    """Answers given so far, and what they imply for the other items of a list fact."""

    def __init__(self, vocabulary: Vocabulary, answers: Mapping[int, int] | None = None) -> None:
        self.vocabulary = vocabulary
        self.answers: dict[int, int] = dict(answers or {})

    def touched_by(self, question: int) -> frozenset[int]:
        """Questions whose allowed answers change when `question` is answered."""
        fact = self.vocabulary.questions[question].fact
        return frozenset(i for i, q in enumerate(self.vocabulary.questions) if q.fact == fact)

    def given(self, question: int, answer: int) -> Assignment:
        return Assignment(self.vocabulary, {**self.answers, question: answer})

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
        """Which list facts are known recorded or not: it shapes the questions still open."""
        seen: dict[str, bool] = {}
        for i, answer in self.answers.items():
            q = self.vocabulary.questions[i]
            if q.item is not None:
                seen[q.fact] = not q.answers[answer].unknown
        return tuple(sorted(seen.items()))


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
        relevant = formula_questions(formula) & touched
        if not relevant:
            return formula
        key = (formula, tuple((q, assignment.allowed(q)) for q in sorted(relevant)))
        if key not in self._memo:
            self._memo[key] = restrict(formula, assignment, touched)
        return self._memo[key]


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
