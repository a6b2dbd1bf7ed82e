"""Hypothesis strategies generated from a knowledge base's fact vocabulary.

QA teams use `cases(kb)` in their own property tests::

    from hypothesis import given
    from guidekb.engine.qa.strategies import cases

    @given(cases(kb))
    def test_my_property(case): ...

Every generated case is valid for `guidekb.engine.format.cases.validate_case`. Each case fact may be
unknown (omitted), which is where three-valued rules are easiest to get wrong, and shrinking
goes towards unknown, so a counterexample names only the facts that matter. Integers are
drawn mostly at the edges that matter: each threshold a rule (or invariant) tests, one either
side of it, and the fact's min and max; a uniform draw keeps the rest of the range covered.

`cases_where(kb, condition)` aims cases at a condition (random cases rarely meet one that
needs five facts at once), and `invariant_cases(kb, inv)` mixes both for one invariant.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.models import Condition, FactSpec
from guidekb.engine.qa.invariants import Invariant, facts_mentioned
from guidekb.engine.semantics import intervals
from guidekb.engine.semantics import normal_form as nf
from guidekb.engine.semantics.cut_points import cut_points
from guidekb.engine.semantics.derivation import producers

# Whether a fact is known: its first entry (unknown) is where shrinking goes. A plain fact
# is drawn known one time in two, a fact in focus four in five (Hypothesis's own preference
# for simple examples makes both somewhat lower in practice).
_PLAIN = st.sampled_from([False, True])
_FOCUSED = st.sampled_from([False, True, True, True, True])


def thresholds(conditions: Iterable[Condition]) -> dict[str, set[int]]:
    """The cut points of each integer fact over the given conditions: every c where some test
    gives c - 1 and c different values (the one convention of
    `guidekb.engine.semantics.cut_points`; ``ge 10`` cuts at 10, ``gt 10`` at 11)."""
    return {fact: set(cuts) for fact, cuts in cut_points(conditions).items()}


def boundary_points(spec: FactSpec, tested: Iterable[int]) -> list[int]:
    """min, max, and each cut point c with c - 1 and c + 1, clipped to the range: both sides
    of every place where a test changes value."""
    assert spec.min is not None and spec.max is not None
    points = {spec.min, spec.max}
    for t in tested:
        points |= {t - 1, t, t + 1}
    return sorted(p for p in points if spec.min <= p <= spec.max)


def values(spec: FactSpec, tested: Iterable[int] = ()) -> st.SearchStrategy[Any]:
    """Every known value of one fact (never unknown)."""
    if spec.type == "boolean":
        return st.booleans()
    if spec.type == "enum":
        return st.sampled_from(spec.values or [])
    if spec.type == "enum_list":
        domain = spec.values or []
        return st.sets(st.sampled_from(domain)).map(lambda chosen: [v for v in domain if v in chosen])
    assert spec.min is not None and spec.max is not None
    edges = st.sampled_from(boundary_points(spec, tested))
    return st.one_of(edges, st.integers(spec.min, spec.max))


def cases(kb: KnowledgeBase, *, facts: Iterable[str] | None = None, focus: Iterable[str] = (),
          conditions: Iterable[Condition] = ()) -> st.SearchStrategy[dict[str, Any]]:
    """Cases over the knowledge base's case facts.

    `facts` restricts the case to those facts (the others stay unknown); `focus` names facts
    to make known more often (say, those an invariant talks about); `conditions` are extra
    conditions whose integer thresholds are added to the rules' own (an invariant's `when`).
    """
    names = [n for n in kb.case_facts if facts is None or n in set(facts)]
    focused = set(focus)
    tested = thresholds([*(rule.when for rule in kb.rules), *conditions])
    fields: dict[str, st.SearchStrategy[Any]] = {}
    for name in names:
        value = values(kb.case_facts[name], tested.get(name, ()))
        known = _FOCUSED if name in focused else _PLAIN
        fields[name] = st.tuples(known, value)
    return st.fixed_dictionaries(fields).map(
        lambda drawn: {k: v for k, (is_known, v) in drawn.items() if is_known})


# --- cases aimed at a condition -----------------------------------------------------------------

_UNKNOWN = object()  # in a partial case: this fact must stay unknown
Partial = dict[str, Any]


def cases_where(kb: KnowledgeBase, condition: Condition) -> st.SearchStrategy[dict[str, Any]]:
    """Cases aimed at making `condition` true, the rest of the case drawn as by `cases`.

    Random cases rarely satisfy a condition that needs five facts at once (each may be
    unknown), so a property "when C, then ..." would mostly be tested where C is false. This
    strategy builds the case from the condition's normal form instead
    (`guidekb.engine.semantics.normal_form`, where `not` is already resolved): one branch of
    each `any`, every part of each `all`, a value inside each atom's set, and, for a derived
    fact, the condition of a rule that derives it. It aims, it does not promise (a branch may
    need a conclusion some other part rules out), so a property should still check the
    condition; a condition no case satisfies gives no cases.
    """
    tested = thresholds([*(rule.when for rule in kb.rules), condition])
    aimed = _Aim(kb, tested).at(condition, frozenset())
    return st.tuples(cases(kb, conditions=[condition]), aimed).map(_overlay)


@dataclass(frozen=True)
class _Items:
    """In a partial case: items a list fact must hold and must lack."""

    domain: tuple[str, ...]
    has: frozenset[str] = frozenset()
    lacks: frozenset[str] = frozenset()

    def __or__(self, other: _Items) -> _Items:
        return _Items(self.domain, self.has | other.has, self.lacks | other.lacks)

    def over(self, base: Any) -> list[str]:
        """The list drawn for the case, with these items put in or taken out."""
        drawn = base if isinstance(base, list) else []
        return [v for v in self.domain if (v in drawn or v in self.has) and v not in self.lacks]


def _overlay(drawn: tuple[dict[str, Any], Partial]) -> dict[str, Any]:
    base, partial = drawn
    merged = {**base, **{k: v.over(base.get(k)) if isinstance(v, _Items) else v for k, v in partial.items()}}
    return {k: v for k, v in merged.items() if v is not _UNKNOWN}


def _merge(parts: tuple[Partial, ...]) -> Partial:
    merged: Partial = {}
    for part in parts:
        for name, value in part.items():
            before = merged.get(name)
            both_lists = isinstance(before, _Items) and isinstance(value, _Items)
            merged[name] = before | value if both_lists else value
    return merged


class _Aim:
    """Partial cases for a normal form: a fold of its atoms into strategies."""

    def __init__(self, kb: KnowledgeBase, tested: dict[str, set[int]]) -> None:
        self.kb, self.tested = kb, tested
        self.producers = producers(kb)

    def at(self, condition: Condition, expanding: frozenset[str]) -> st.SearchStrategy[Partial]:
        """Partial cases on which `condition` is true (when the parts agree)."""
        return nf.fold(nf.when_true(self.kb.facts, condition), lambda atom: self.atom(atom, expanding),
                       _junction)

    def atom(self, atom: nf.Atom, expanding: frozenset[str]) -> st.SearchStrategy[Partial]:
        if isinstance(atom, nf.Concluded):
            return self.derive(atom.name, expanding)
        if isinstance(atom, nf.NotConcluded):
            return st.just({})  # a conclusion not drawn: aimed at by leaving its rules alone
        name = atom.fact
        spec = self.kb.case_facts[name]
        if isinstance(atom, nf.FactUnknown):
            return st.just({name: _UNKNOWN})
        if isinstance(atom, nf.ListHas):
            item = frozenset({atom.item})
            domain = tuple(spec.values or ())
            wanted = _Items(domain, has=item) if atom.present else _Items(domain, lacks=item)
            return st.just({name: wanted})
        if isinstance(atom, nf.FactKnown):
            chosen: st.SearchStrategy[Any] = values(spec, self.tested.get(name, ()))
        elif isinstance(atom, nf.FactIn):
            chosen = st.sampled_from(atom.values)
        else:
            ranges = atom.intervals
            edges = boundary_points(spec, self.tested.get(name, ()))
            inside = [p for p in edges if intervals.contains(ranges, p)]
            chosen = st.sampled_from(inside) if inside else st.nothing()
        return chosen.map(lambda v: {name: v})

    def derive(self, name: str, expanding: frozenset[str]) -> st.SearchStrategy[Partial]:
        """Partial cases that make some rule derive `name` (derived facts are only ever true)."""
        if name in expanding:
            return st.nothing()  # the loader forbids cycles; this only guards the recursion
        ways = [self.at(self.kb.rule(r).when, expanding | {name}) for r in self.producers.get(name, [])]
        return st.one_of(ways) if ways else st.nothing()


def _junction(conjunctive: bool, parts: list[st.SearchStrategy[Partial]]) -> st.SearchStrategy[Partial]:
    """Every part of an `all` (merged), one part of an `any`."""
    if conjunctive:
        return st.tuples(*parts).map(_merge)
    return st.one_of(parts) if parts else st.nothing()


# --- cases for an invariant ---------------------------------------------------------------------


def invariant_cases(kb: KnowledgeBase, inv: Invariant) -> st.SearchStrategy[dict[str, Any]]:
    """Cases for testing one invariant: plain cases with the facts it names made known more
    often, mixed with cases aimed at the situations it is about (see `aims`)."""
    conditions = [inv.condition] if inv.condition is not None else []
    plain = cases(kb, focus=facts_mentioned(inv), conditions=conditions)
    aimed = [cases_where(kb, goal) for goal in aims(kb, inv)]
    return st.one_of(plain, *aimed)


def aims(kb: KnowledgeBase, inv: Invariant) -> list[Condition]:
    """Conditions under which the invariant has something to check: its own `when`; for the
    others, that a rule producing the codes it talks about fires (each kind says which:
    `guidekb.engine.qa.invariant_kinds`)."""
    return inv.definition.aims(inv.spec, kb)
