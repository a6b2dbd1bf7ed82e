"""Would knowing an answer change the advice? The question behind every "Find out" leaf.

A leaf of a decision chart that advises nothing is reached by a path of answers, some of them
"unknown". Such a leaf must not read "not indicated" when it is only the missing answer that
blocks an action (a penicillin allergy nobody has asked about blocks amoxicillin). So for each
question answered "unknown" on the path, this asks: with every other answer on the path kept,
and the questions the path never asked free, is there a known answer to it for which some case
gets a different outcome from this chart? The outcomes are decided by the same firing
formulas (guidekb.visualize.formulas, from engine/semantics/normal_form) and the same verdict
(engine/semantics/verdict) the chart is built from, never by a second reading of conditions.

A list fact is recorded or not as a whole, so asking about one of its items changes all of
them: its other items become free known answers.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass

from guidekb.visualize.formulas import Assignment, Formula, Restrictor, questions_in

Judge = Callable[[tuple[Formula, ...]], Hashable]  # constant residuals -> the outcome they give


Alternative = tuple[Assignment, tuple[Formula, ...]]  # answers, and the formulas they leave


@dataclass(frozen=True)
class Unknown:
    """A question answered "unknown" on the path so far, and where each of its known answers
    (every other answer kept) would have led: the answers and the formulas they leave."""

    question: int
    alternatives: tuple[Alternative, ...]

    def key(self) -> object:
        """What decides the rest of the chart's wording: the question and its alternatives."""
        return self.question, frozenset((r, a.presence_key()) for a, r in self.alternatives)


class Counterfactual:
    """Follows the alternatives of the unknown answers down a path, and answers "would a known
    answer change the outcome?" at its leaf, for one chart's rules.

    `judge` turns firing formulas that are all constant into the outcome (recommended and
    forbidden codes) they give. Searches are remembered across leaves: the same sub-problem
    recurs on many paths."""

    def __init__(self, judge: Judge, restrict: Restrictor | None = None, firing: int | None = None,
                 possible: Callable[[Assignment, tuple[Formula, ...]], bool] | None = None) -> None:
        self.judge = judge
        self.restrict = Restrictor() if restrict is None else restrict
        # the formulas after the first `firing` only say which answers a case can give together
        # (guidekb.visualize.decisions: milestones); `possible` checks them
        self.firing = firing
        self.possible = possible
        self._memo: dict[object, bool] = {}

    def advance(self, unknowns: tuple[Unknown, ...], question: int, answer: int,
                before: tuple[Formula, ...], residual: tuple[Formula, ...]) -> tuple[Unknown, ...]:
        """The unknowns once `question` got `answer` (which took the path's formulas from
        `before` to `residual`): each alternative takes the same answer. An unknown whose every
        alternative now leaves the path's own formulas is dropped: its answer can no longer
        change anything below.

        An alternative's formula that is still the path's own (the same object as in
        `before`) becomes the path's new one: it no longer mentions the unknown question's
        fact (answering "unknown" settled all of it), and on every other fact the alternative
        and the path hold the same answers, so restricting it again would give the same
        formula. Most of a chart's formulas never depend on any one question, so this skips
        most of the work."""
        kept: list[Unknown] = []
        for unknown in unknowns:
            moved: list[Alternative] = []
            for answers, formulas in unknown.alternatives:
                touched = answers.touched_by(question)
                given = answers.given(question, answer)
                moved.append((given, tuple(now if f is was else self.restrict(f, given, touched)
                                           for f, was, now in zip(formulas, before, residual, strict=True))))
            if any(formulas != residual for _, formulas in moved):
                kept.append(Unknown(unknown.question, tuple(moved)))
        return tuple(kept)

    def would_change(self, unknown: Unknown, outcome: Hashable) -> bool:
        """Whether some known answer to the unknown question, with every other answer on the
        path kept and the questions it never asked free, gives some case another outcome."""
        return any(self._differs(answers, formulas, outcome) for answers, formulas in unknown.alternatives)

    def _differs(self, answers: Assignment, residual: tuple[Formula, ...], outcome: Hashable) -> bool:
        """Whether some completion of `answers` that some case can give reaches an outcome
        other than `outcome`."""
        key = (residual, answers.presence_key(), outcome)
        if key not in self._memo:
            if self.possible is not None and not self.possible(answers, residual):
                self._memo[key] = False
                return False
            open_questions = questions_in(residual[:self.firing])
            if not open_questions:
                found = self.judge(residual) != outcome
            else:
                question = min(open_questions)
                touched = answers.touched_by(question)
                found = False
                for answer in sorted(answers.allowed(question)):
                    given = answers.given(question, answer)
                    after = self.restrict.all(residual, given, touched)
                    if self._differs(given, after, outcome):
                        found = True
                        break
            self._memo[key] = found
        return self._memo[key]
