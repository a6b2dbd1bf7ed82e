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
from typing import Any

from hypothesis import strategies as st

from guidekb.engine.format.conditions import leaves
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.models import (
    AllOf,
    Always,
    AnyOf,
    Compare,
    Condition,
    FactSpec,
    Known,
    Not,
    Unknown,
)
from guidekb.engine.qa.invariants import Invariant, facts_mentioned
from guidekb.engine.semantics.logic import compare

# Whether a fact is known: its first entry (unknown) is where shrinking goes. A plain fact
# is drawn known one time in two, a fact in focus four in five (Hypothesis's own preference
# for simple examples makes both somewhat lower in practice).
_PLAIN = st.sampled_from([False, True])
_FOCUSED = st.sampled_from([False, True, True, True, True])


def thresholds(conditions: Iterable[Condition]) -> dict[str, set[int]]:
    """The integer operands each fact is compared with, over the given conditions."""
    found: dict[str, set[int]] = {}
    for cond in conditions:
        for site in leaves(cond):
            leaf = site.leaf
            if isinstance(leaf, Compare) and leaf.operator in ("equals", "in", "lt", "le", "gt", "ge"):
                operands = leaf.operand if leaf.operator == "in" else [leaf.operand]
                for value in operands:
                    if isinstance(value, int) and not isinstance(value, bool):
                        found.setdefault(leaf.fact, set()).add(value)
    return found


def boundary_points(spec: FactSpec, tested: Iterable[int]) -> list[int]:
    """min, max, and each tested threshold with its neighbours, clipped to the range."""
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
    strategy builds the case from the condition tree instead: one branch of each `any`,
    every part of each `all`, values on the right side of each test, and, for a derived
    fact, the condition of a rule that derives it. It aims, it does not promise: two tests
    of one fact may contradict each other, and a property should still check the condition.
    """
    tested = thresholds([*(rule.when for rule in kb.rules), condition])
    aimed = _aim(kb, condition, True, tested, frozenset())
    return st.tuples(cases(kb, conditions=[condition]), aimed).map(_overlay)


def _overlay(drawn: tuple[dict[str, Any], Partial]) -> dict[str, Any]:
    base, partial = drawn
    merged = {**base, **partial}
    return {k: v for k, v in merged.items() if v is not _UNKNOWN}


def _merge(parts: tuple[Partial, ...]) -> Partial:
    merged: Partial = {}
    for part in parts:
        merged.update(part)
    return merged


def _aim(kb: KnowledgeBase, cond: Condition, want: bool, tested: dict[str, set[int]],
         expanding: frozenset[str]) -> st.SearchStrategy[Partial]:
    """Partial cases on which `cond` evaluates to `want` (when the parts agree)."""
    if isinstance(cond, Not):
        return _aim(kb, cond.not_, not want, tested, expanding)
    if isinstance(cond, AllOf | AnyOf):
        children = cond.all if isinstance(cond, AllOf) else cond.any
        parts = [_aim(kb, c, want, tested, expanding) for c in children]
        every = isinstance(cond, AllOf) == want  # all true, or (any) all false
        return st.tuples(*parts).map(_merge) if every else st.one_of(parts)
    if isinstance(cond, Always):
        return st.just({}) if want else st.nothing()
    if isinstance(cond, Known | Unknown):
        name = cond.known if isinstance(cond, Known) else cond.unknown
        present = isinstance(cond, Known) == want
        if name in kb.derived_facts:
            return _derive(kb, name, tested, expanding) if present else st.just({})
        if not present:
            return st.just({name: _UNKNOWN})
        return values(kb.case_facts[name], tested.get(name, ())).map(lambda v: {name: v})
    if cond.fact in kb.derived_facts:
        return _derive(kb, cond.fact, tested, expanding) if want else st.just({})
    return _aim_compare(kb.case_facts[cond.fact], cond, want, tested)


def _aim_compare(spec: FactSpec, test: Compare, want: bool,
                 tested: dict[str, set[int]]) -> st.SearchStrategy[Partial]:
    name = test.fact
    if spec.type == "integer":
        candidates: list[Any] = boundary_points(spec, tested.get(name, ()))
    elif spec.type == "boolean":
        candidates = [False, True]
    elif spec.type == "enum":
        candidates = list(spec.values or [])
    else:
        domain = spec.values or []
        candidates = [[v for v in domain if v != test.operand], [test.operand]]
    good = [v for v in candidates if compare(test, v) is want]
    return st.sampled_from(good).map(lambda v: {name: v}) if good else st.nothing()


def _derive(kb: KnowledgeBase, name: str, tested: dict[str, set[int]],
            expanding: frozenset[str]) -> st.SearchStrategy[Partial]:
    """Partial cases that make some rule derive `name` (derived facts are only ever true)."""
    if name in expanding:
        return st.nothing()  # the loader forbids cycles; this only guards the recursion
    inner = expanding | {name}
    ways = [_aim(kb, rule.when, True, tested, inner) for rule in kb.rules if name in rule.then.derive]
    return st.one_of(ways) if ways else st.nothing()


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
