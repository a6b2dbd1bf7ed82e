"""The clinical decision diagram, computed from the rules' semantics.

Shannon expansion over the vocabulary's questions, in asking order: at each step the firing
formulas of the rules that recommend or forbid something are partially evaluated under the
answers so far; the first question they still depend on is asked; when none is left, the
rules that fire give the outcome. Like a reduced ordered multi-valued decision diagram:

* a question is asked only where some formula still depends on it, and skipped where every
  answer leads to the same sub-diagram ("does not change the outcome on this path");
* identical sub-diagrams are one node (hash-consing), and so are identical outcomes;
* answers leading to the same node share one edge ("no / unknown").

`--focus CODE` keeps only the rules that recommend or forbid that code, so the diagram asks
only the questions that matter for it. The asking order is the vocabulary's, or one chosen
by `guidekb.visualize.ordering` to keep the diagram small; edge labels are in
`guidekb.visualize.labels`.

Milestones: conclusions of the pathway can be asked as questions ("Resistance suspected?")
instead of expanded into the case facts behind them, so that a chart of a later stage starts
where the earlier ones end (guidekb.visualize.chartbook decides which). A milestone's answer
is not free: one consistency formula per milestone ("yes exactly when the rules draw it")
travels with the firing formulas, and an answer that makes them jointly unsatisfiable is
pruned, so no drawn path is one no case can take. `conclusion=` builds the chart of one
conclusion itself: its leaves say where the rules draw it.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.models import Rule
from guidekb.engine.semantics.derivation import producers
from guidekb.engine.semantics.verdict import verdict
from guidekb.visualize.counterfactual import Counterfactual, Unknown
from guidekb.visualize.errors import VisualizeError
from guidekb.visualize.formulas import (
    Assignment,
    Atom,
    FiringFormulas,
    Formula,
    Restrictor,
    junction,
    negation,
    questions_in,
    restrict,
    satisfiable,
)
from guidekb.visualize.questions import Question, Vocabulary, vocabulary


@dataclass(frozen=True)
class Outcome:
    """A leaf: codes recommended (after prohibitions are applied) and codes forbidden.

    `find_out`, for an open leaf (one advising nothing beyond what every case gets): the
    first question answered "unknown" on the way here (in asking order) whose answer would
    change the advice (guidekb.visualize.counterfactual), by the index of its fact's first
    question; empty when there is none. It is part of the leaf, so that leaves saying
    different things are different nodes and every path into one leaf finds the same words
    there."""

    recommended: tuple[str, ...]
    forbidden: tuple[str, ...]
    find_out: tuple[int, ...] = ()


NOTHING = Outcome((), ())  # no code: what "in every case" is for a chart that draws none apart


def without(outcome: Outcome, always: Outcome) -> Outcome:
    """What a leaf shows when the codes of `always` ("in every case") are drawn once,
    elsewhere: the same leaf in every format (guidekb.visualize.dot, guidekb.visualize.mermaid)."""
    return Outcome(tuple(c for c in outcome.recommended if c not in always.recommended),
                   tuple(c for c in outcome.forbidden if c not in always.forbidden))


def advises_nothing(outcome: Outcome) -> bool:
    return not outcome.recommended and not outcome.forbidden


@dataclass(frozen=True)
class Branch:
    answers: tuple[int, ...]  # indexes into the question's answers
    child: int


@dataclass(frozen=True)
class Decision:
    question: int
    branches: tuple[Branch, ...]


Node = Decision | Outcome
T = TypeVar("T")


@dataclass(frozen=True)
class Step:
    """One edge of a root-to-leaf path."""

    question: Question
    answers: tuple[int, ...]


@dataclass
class Diagram:
    kb: KnowledgeBase
    vocabulary: Vocabulary
    nodes: dict[int, Node]
    root: int
    focus: frozenset[str] | None = None  # the codes drawn (None: every code)
    # leaf id -> code -> rules that recommend or forbid it on some path into the leaf
    because: dict[int, dict[str, list[str]]] = field(default_factory=dict)
    # a conclusion chart: how the rules draw this conclusion; its leaves hold the conclusion's
    # name where it is drawn (guidekb.visualize.style.outcome_text words it), nothing elsewhere
    conclusion: str | None = None
    # what outputs derive from the (never changed) diagram, kept so that drawing a chart many
    # times over (trial layouts of slides and pages) computes it once: see `derived`
    _derived: dict[tuple[object, ...], object] = field(default_factory=dict, init=False, repr=False,
                                                       compare=False)

    def derived(self, key: tuple[object, ...], compute: Callable[[], T]) -> T:
        """`compute()`, remembered under `key` for this diagram (a diagram is never changed
        once built, so whatever is derived from it alone stays true)."""
        if key not in self._derived:
            self._derived[key] = compute()
        return cast(T, self._derived[key])

    def question(self, node: Decision) -> Question:
        return self.vocabulary.questions[node.question]

    def decisions(self) -> dict[int, Decision]:
        return dict(self.derived(("decisions",),
                                 lambda: {i: n for i, n in self.nodes.items() if isinstance(n, Decision)}))

    def outcomes(self) -> dict[int, Outcome]:
        return dict(self.derived(("outcomes",),
                                 lambda: {i: n for i, n in self.nodes.items() if isinstance(n, Outcome)}))

    def paths(self) -> Iterator[tuple[list[Step], Outcome]]:
        """Every root-to-leaf path: the answers along it and the outcome it ends in."""

        def walk(node_id: int, steps: list[Step]) -> Iterator[tuple[list[Step], Outcome]]:
            node = self.nodes[node_id]
            if isinstance(node, Outcome):
                yield steps, node
                return
            for branch in node.branches:
                yield from walk(branch.child, [*steps, Step(self.question(node), branch.answers)])

        yield from walk(self.root, [])

    def is_open(self, node_id: int) -> bool:
        """Whether a node is a leaf advising nothing beyond what every case gets (the codes
        "in every case" are drawn once, under the title): it says "Find out" or "Not
        indicated here" instead (guidekb.visualize.leaves)."""
        node = self.nodes[node_id]
        if not isinstance(node, Outcome):
            return False
        always = self.derived(("drawn once",),
                              lambda: self.in_every_case() if self.decisions() else Outcome((), ()))
        return set(node.recommended) <= set(always.recommended) \
            and set(node.forbidden) <= set(always.forbidden)

    def in_every_case(self) -> Outcome:
        """Codes recommended (or forbidden) on every path: drawn once instead of in each leaf."""
        return self.derived(("in every case",), self._in_every_case)

    def _in_every_case(self) -> Outcome:
        leaves = list(self.outcomes().values())
        rec = set.intersection(*(set(o.recommended) for o in leaves))
        forb = set.intersection(*(set(o.forbidden) for o in leaves))
        return Outcome(tuple(c for c in self.kb.outcomes if c in rec),
                       tuple(c for c in self.kb.outcomes if c in forb))

    def topological(self) -> list[int]:
        """Node ids, parents before children, in the order a reader meets them."""
        return list(self.derived(("topological",), self._topological))

    def _topological(self) -> list[int]:
        order: list[int] = []
        seen: set[int] = set()

        def visit(node_id: int) -> None:
            if node_id in seen:
                return
            seen.add(node_id)
            node = self.nodes[node_id]
            if isinstance(node, Decision):
                for branch in node.branches:
                    visit(branch.child)
            order.append(node_id)

        visit(self.root)
        return order[::-1]


def codes_of(rule: Rule) -> list[str]:
    return [*rule.then.recommend, *(p.code for p in rule.then.forbid)]


def _acts_on(rule: Rule, focus: frozenset[str] | None) -> bool:
    codes = codes_of(rule)
    return bool(codes) and (focus is None or not focus.isdisjoint(codes))


STATES_PER_NODE = 25  # partial answers explored per decision node allowed, before giving up


class TooLarge(VisualizeError):
    """The diagram would need more decision nodes than the caller allowed."""


@dataclass(frozen=True)
class _Shared:
    """What every expansion of one knowledge base in one asking order computes alike: the
    questions, the rules' firing formulas and the memo of restricted formulas. A chart book
    expands the same knowledge base some 150 times (per code, per group, per trial merge);
    computing these once per book instead of once per expansion saves about half its time."""

    vocabulary: Vocabulary
    formulas: FiringFormulas
    restrict: Restrictor
    # for each milestone question: "answered yes exactly when the rules draw the conclusion",
    # over the case-fact questions; a path breaking one can be taken by no case
    consistency: tuple[Formula, ...] = ()
    satisfiable_memo: dict[tuple[Formula, object], bool] = field(default_factory=dict)


def _consistency(kb: KnowledgeBase, words: Vocabulary) -> tuple[Formula, ...]:
    expanded = FiringFormulas(kb, words, expand_milestones=True)
    found: list[Formula] = []
    for i, q in enumerate(words.questions):
        if q.milestone:
            drawn = expanded.derived(q.fact)
            found.append(junction(False, (junction(True, (Atom(i, frozenset({0})), drawn)),
                                          junction(True, (Atom(i, frozenset({1})), negation(drawn, words))))))
    return tuple(found)


_SHARED: OrderedDict[tuple[str, tuple[str, ...] | None, tuple[str, ...]], _Shared] = OrderedDict()
_SHARED_KEPT = 8  # a long-running process editing a knowledge base keeps only the latest


def _shared(kb: KnowledgeBase, order: list[str] | None, milestones: tuple[str, ...] = ()) -> _Shared:
    """The shared part of an expansion, keyed by the knowledge base's content, the order and
    the milestones."""
    key = (kb.content_hash, None if order is None else tuple(order), milestones)
    found = _SHARED.get(key)
    if found is None:
        words = vocabulary(kb, order, milestones)
        found = _SHARED[key] = _Shared(words, FiringFormulas(kb, words), Restrictor(),
                                       _consistency(kb, words))
        while len(_SHARED) > _SHARED_KEPT:
            _SHARED.popitem(last=False)
    else:
        _SHARED.move_to_end(key)
    return found


class _Builder:
    """One expansion. With `always` given (the codes every case gets, from a first expansion),
    it also carries the questions answered "unknown" so far, so that each open leaf can say
    which of them to find out; without it, leaves are outcomes only."""

    def __init__(self, kb: KnowledgeBase, focus: frozenset[str] | None, budget: int | None,
                 order: list[str] | None, always: Outcome | None = None,
                 milestones: tuple[str, ...] = (), conclusion: str | None = None) -> None:
        self.kb = kb
        self.budget = budget
        self.focus = focus
        self.conclusion = conclusion
        shared = _shared(kb, order, milestones)
        self.vocabulary = shared.vocabulary
        if conclusion is None:
            self.rules = [r for r in kb.rules if _acts_on(r, focus)]
        else:
            self.rules = [kb.rule(r) for r in producers(kb).get(conclusion, [])]
        # the formulas followed down the diagram: each rule's firing formula, then the
        # milestones' consistency formulas (they only prune paths no case can take)
        self.start = (*(shared.formulas.fires(r.id) for r in self.rules), *shared.consistency)
        self.firing = len(self.rules)
        self.satisfiable_memo = shared.satisfiable_memo
        self.nodes: dict[int, Node] = {}
        self.ids: dict[Node, int] = {}
        self.memo: dict[object, int] = {}
        self.because: dict[int, dict[str, list[str]]] = {}
        self.restrict = shared.restrict
        self.judged: dict[tuple[Formula, ...], tuple[tuple[str, ...], tuple[str, ...]]] = {}
        self.always = always
        self.counterfactual = Counterfactual(self._judge, shared.restrict, self.firing, self.possible)

    def intern(self, node: Node) -> int:
        if node not in self.ids:
            if self.budget is not None and isinstance(node, Decision) and len(self.ids) >= self.budget:
                raise TooLarge
            self.ids[node] = len(self.ids)
            self.nodes[self.ids[node]] = node
        return self.ids[node]

    def build(self, assignment: Assignment, residual: tuple[Formula, ...],
              unknowns: tuple[Unknown, ...] = ()) -> int:
        key = (residual, assignment.presence_key(), tuple(u.key() for u in unknowns))
        if key not in self.memo:
            if self.budget is not None and len(self.memo) > STATES_PER_NODE * self.budget:
                raise TooLarge
            self.memo[key] = self._expand(assignment, residual, unknowns)
        return self.memo[key]

    def possible(self, assignment: Assignment, residual: tuple[Formula, ...]) -> bool:
        """Whether some case gives these answers: the milestone consistency formulas (after
        the rules' formulas in `residual`) can all hold at once (one at a time is not enough:
        "treatment failure: not established" and "resistance suspected: yes" each can)."""
        return satisfiable(junction(True, residual[self.firing:]), assignment, self.satisfiable_memo)

    def _expand(self, assignment: Assignment, residual: tuple[Formula, ...],
                unknowns: tuple[Unknown, ...]) -> int:
        open_questions = questions_in(residual[:self.firing])
        if not open_questions:
            return self._leaf(residual, unknowns)
        question = min(open_questions)
        touched = assignment.touched_by(question)
        open_answers = self.vocabulary.questions[question].answered_unknown
        states = {}
        for answer in sorted(assignment.allowed(question)):
            given = assignment.given(question, answer)
            after = self.restrict.all(residual, given, touched)
            if self.firing < len(after) and not self.possible(given, after):
                continue  # a milestone answer that contradicts the case facts given so far
            states[answer] = (given, after)
        groups: dict[int, list[int]] = {}
        for answer, (given, after) in states.items():
            carried = unknowns
            if self.always is not None:
                carried = self.counterfactual.advance(unknowns, question, answer, residual, after)
                alternatives = tuple(s for a, s in states.items() if a not in open_answers)
                if answer in open_answers and any(formulas != after for _, formulas in alternatives):
                    carried = (*carried, Unknown(question, alternatives))
            child = self.build(given, after, carried)
            groups.setdefault(child, []).append(answer)
        if len(groups) == 1:  # the answer does not matter here: skip the question
            only = next(iter(groups))
            if self.always is not None and unknowns and len(states) < len(assignment.allowed(question)):
                # Some answers were pruned (no case gives them with the milestones on this path)
                # and the question is not drawn: the reader never answers it, so the unknowns'
                # alternatives must not take the path's answer to it either ("resistance
                # suspected: yes" needs "adherent: yes", which "not established" had pruned).
                # Every answer led to the same place, so one stands for all of them.
                given, after = next(iter(states.values()))
                only = self.build(given, after, unknowns)
            return only
        branches = tuple(Branch(tuple(answers), child) for child, answers in groups.items())
        return self.intern(Decision(question, branches))

    def _judge(self, residual: tuple[Formula, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The codes recommended and forbidden once every firing formula is constant (the same
        constants recur on many paths and in many counterfactual searches: remembered)."""
        residual = residual[:self.firing]
        said = self.judged.get(residual)
        if said is None:
            said = self.judged[residual] = self._verdict(residual)
        return said

    def _verdict(self, residual: tuple[Formula, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
        fired = [rule for rule, value in zip(self.rules, residual, strict=True) if value is True]
        if self.conclusion is not None:  # drawn when one of the rules drawing it fires
            return ((self.conclusion,), ()) if fired else ((), ())
        said = verdict(fired)  # the one definition: a prohibition beats a recommendation
        forbidden = set(said.forbidden)
        recommended = set(said.recommended)
        if self.focus is not None:
            forbidden &= self.focus
            recommended &= self.focus
        order = list(self.kb.outcomes)
        return tuple(c for c in order if c in recommended), tuple(c for c in order if c in forbidden)

    def _leaf(self, residual: tuple[Formula, ...], unknowns: tuple[Unknown, ...]) -> int:
        recommended, forbidden = self._judge(residual)
        residual = residual[:self.firing]
        find_out: tuple[int, ...] = ()
        always = self.always
        if always is not None and set(recommended) <= set(always.recommended) \
                and set(forbidden) <= set(always.forbidden):
            # The first question answered unknown (in asking order) whose known answer would
            # change the advice: what to find out next, after which the reader follows the
            # chart again. Naming every such question made leaves that differ only in the
            # later names, which cannot share a node: the unknown arrows then grew whole
            # sub-charts (HSV chart 5 asked 31 questions). By fact (its first question): the
            # items of one list are found out together.
            first = next((u for u in unknowns
                          if self.counterfactual.would_change(u, (recommended, forbidden))), None)
            if first is not None:
                find_out = (min(self.vocabulary.siblings[first.question]),)
        leaf = self.intern(Outcome(recommended, forbidden, find_out))
        because = self.because.setdefault(leaf, {})
        fired = [rule for rule, value in zip(self.rules, residual, strict=True) if value is True]
        for rule in fired:
            for code in codes_of(rule) if self.conclusion is None else [self.conclusion]:
                if code in recommended or code in forbidden:
                    rules = because.setdefault(code, [])
                    if rule.id not in rules:
                        rules.append(rule.id)
        return leaf


def build_diagram(kb: KnowledgeBase, focus: str | Iterable[str] | None = None,
                  budget: int | None = None, order: list[str] | None = None,
                  milestones: tuple[str, ...] = (), conclusion: str | None = None) -> Diagram:
    """The reduced decision diagram of a knowledge base, or of some codes only (`focus`).

    With a `budget`, raises TooLarge as soon as more nodes than that would be needed: a
    diagram too big to read is not worth finishing. `order` overrides the asking order of
    facts (see guidekb.visualize.questions.vocabulary). `milestones`: conclusions asked as
    questions first, instead of the case facts their rules read (a chart of a later stage).
    `conclusion`: instead of codes, when the rules draw this conclusion (a stage's own chart).
    """
    codes = None if focus is None else frozenset([focus] if isinstance(focus, str) else focus)
    plain = _expanded(_Builder(kb, codes, budget, order, milestones=milestones, conclusion=conclusion))
    if not any(plain.is_open(i) for i in plain.outcomes()):
        return plain
    # Open leaves say what to find out, which depends on the whole path into them: expand
    # again, carrying the unknown answers (the first expansion gave the codes every case gets).
    always = plain.in_every_case() if plain.decisions() else Outcome((), ())
    return _expanded(_Builder(kb, codes, budget, order, always, milestones, conclusion))


def _expanded(builder: _Builder) -> Diagram:
    """The builder's diagram from the root, keeping only the nodes reached."""
    vocab = builder.vocabulary
    root = builder.build(Assignment(vocab), builder.start)
    reachable = set()
    stack = [root]
    while stack:
        node_id = stack.pop()
        if node_id in reachable:
            continue
        reachable.add(node_id)
        node = builder.nodes[node_id]
        if isinstance(node, Decision):
            stack.extend(b.child for b in node.branches)
    nodes = {i: n for i, n in builder.nodes.items() if i in reachable}
    because = {i: b for i, b in builder.because.items() if i in reachable}
    return Diagram(builder.kb, vocab, nodes, root, builder.focus, because, builder.conclusion)


def answers_for(diagram: Diagram, case: Mapping[str, Any]) -> dict[int, int]:
    """The answer a validated case gives to every question of the diagram: its facts, and for
    a milestone whether the rules draw that conclusion from them ("yes", else "not
    established"), by the same firing formulas the diagram is built from."""
    vocab = diagram.vocabulary
    answers = vocab.answers_for(case)
    if any(q.milestone for q in vocab.questions):
        expanded = FiringFormulas(diagram.kb, vocab, expand_milestones=True)
        given = Assignment(vocab, answers)
        for i, q in enumerate(vocab.questions):
            if q.milestone:
                drawn = restrict(expanded.derived(q.fact), given)
                assert isinstance(drawn, bool), "every case fact is answered"
                answers[i] = 0 if drawn else 1
    return answers
