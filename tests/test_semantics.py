"""The normal form of a condition agrees with the executable specification, everywhere.

`guidekb.engine.semantics.normal_form` is the one definition of what a condition means that
every backend folds over; `guidekb.engine.semantics.logic` is the plain Kleene interpreter it
must agree with. Over a tiny vocabulary (a boolean, a three-value enum, an integer 0..3, a
two-item list and one conclusion used positively only) these tests compare the two on every
case: every leaf with and without `not`, every `all`/`any` of two of them, every condition
tree of depth two over a smaller set of leaves, and random deeper trees.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from guidekb.engine.format.conditions import facts_read, leaves, parts
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.loading import load_knowledge_base
from guidekb.engine.format.models import (
    COMPARISON_OPERATORS,
    OPERATOR_FACT_TYPES,
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
from guidekb.engine.runtime.evaluation import Engine
from guidekb.engine.runtime.explanation import ConditionNode, RuleTrace, explain
from guidekb.engine.semantics import intervals
from guidekb.engine.semantics.cut_points import cut_points, regions
from guidekb.engine.semantics.logic import evaluate
from guidekb.engine.semantics.normal_form import (
    And,
    FactIn,
    FactKnown,
    FactUnknown,
    IntIn,
    ListHas,
    NotConcluded,
    Or,
    atom_fact,
    atoms,
    holds,
    truth,
    when_false,
    when_true,
)
from guidekb.engine.semantics.operators import OPERATORS, UnsupportedCondition, describe
from tests.negationkb import grid, write_negation_kb

FACTS: dict[str, FactSpec] = {
    "b": FactSpec(type="boolean", description="a boolean"),
    "e": FactSpec(type="enum", values=["x", "y", "z"], description="an enum"),
    "i": FactSpec(type="integer", min=0, max=3, description="a small integer"),
    "l": FactSpec(type="enum_list", values=["p", "q"], description="a list"),
    "d": FactSpec(type="boolean", derived=True, description="a conclusion"),
}

# Every value each fact can take in a case; None leaves it out (unknown, or not concluded).
AXES: dict[str, list[Any]] = {
    "b": [None, True, False],
    "e": [None, "x", "y", "z"],
    "i": [None, 0, 1, 2, 3],
    "l": [None, [], ["p"], ["q"], ["p", "q"]],
    "d": [None, True],
}


def cases_over(names: set[str]) -> list[dict[str, Any]]:
    """Every case over the named facts (the others left out)."""
    axes = [(n, AXES[n]) for n in AXES if n in names]
    return [{n: v for (n, _), v in zip(axes, combo, strict=True) if v is not None}
            for combo in itertools.product(*(values for _, values in axes))]


ALL_CASES = cases_over(set(AXES))


def compare(fact: str, op: str, operand: Any) -> Compare:
    return Compare.model_validate({"fact": fact, op: operand})


def subsets(values: list[Any]) -> Iterator[list[Any]]:
    for size in range(1, len(values) + 1):
        yield from (list(c) for c in itertools.combinations(values, size))


def all_leaves() -> list[Condition]:
    """Every leaf the loader accepts over the vocabulary (integer operands within 0..3)."""
    found: list[Condition] = [Always(always=True), Known(known="d"), compare("d", "equals", True)]
    for name in ("b", "e", "i", "l"):
        found += [Known(known=name), Unknown(unknown=name)]
    found += [compare("b", "equals", v) for v in (True, False)]
    found += [compare("b", "in", s) for s in subsets([True, False])]
    found += [compare("e", "equals", v) for v in ("x", "y", "z")]
    found += [compare("e", "in", s) for s in subsets(["x", "y", "z"])]
    found += [compare("i", "equals", k) for k in range(4)]
    found += [compare("i", "in", s) for s in ([3], [0, 2], [1, 2], [0, 3], [0, 1, 2, 3])]
    found += [compare("i", op, k) for op in ("lt", "le", "gt", "ge") for k in range(4)]
    found += [compare("l", "contains", item) for item in ("p", "q")]
    return found


LEAVES = all_leaves()


def negates_conclusion(cond: Condition) -> bool:
    """The loader admits a conclusion only positively: never under `not`, never `unknown`."""
    return any(site.negated and site.fact == "d" for site in leaves(cond))


def negated(cond: Condition) -> Condition:
    return Not.model_validate({"not": cond})


def literals(base: list[Condition]) -> list[Condition]:
    return [*base, *(negated(c) for c in base if not negates_conclusion(c))]


def assert_agrees(cond: Condition, cases: list[dict[str, Any]] | None = None) -> None:
    """The normal forms give exactly the Kleene value of `cond` on every case."""
    true_form, false_form = when_true(FACTS, cond), when_false(FACTS, cond)
    mentioned = facts_read(cond)
    # The normal forms only ever read the facts the condition names, which is why a tree may
    # be checked on every case over those facts alone.
    assert {atom_fact(a) for a in (*atoms(true_form), *atoms(false_form))} <= mentioned, cond
    if not negates_conclusion(cond):
        assert not any(isinstance(a, NotConcluded) for a in atoms(true_form)), cond
    for case in cases if cases is not None else cases_over(mentioned):
        is_true, is_false = holds(true_form, case), holds(false_form, case)
        expected = evaluate(cond, case)
        got = True if is_true else False if is_false else None
        assert not (is_true and is_false), (cond, case)
        assert got is expected, f"{cond!r} on {case}: normal form says {got}, logic.py {expected}"


def test_the_vocabulary_is_covered() -> None:
    """Guard for the tests below: every fact type, operator and negation is exercised."""
    assert len(ALL_CASES) == 3 * 4 * 5 * 5 * 2
    ops = {leaf.operator for leaf in LEAVES if isinstance(leaf, Compare)}
    assert ops == {"equals", "in", "lt", "le", "gt", "ge", "contains"}


@pytest.mark.parametrize("leaf", LEAVES, ids=repr)
def test_every_leaf_with_and_without_not_on_every_case(leaf: Condition) -> None:
    for cond in (leaf, negated(leaf), negated(negated(leaf))):
        if cond is leaf or not negates_conclusion(cond):
            assert_agrees(cond, ALL_CASES)


def thinner(leaf: Condition) -> bool:
    """Leaves whose meaning another leaf already gives in the pair tests (every leaf is
    checked alone above): one-value `in` lists, and order tests at the ends of 0..3."""
    if not isinstance(leaf, Compare):
        return False
    if leaf.operator == "in" and leaf.fact in ("b", "e"):
        return len(leaf.operand) == 1
    return leaf.operator in ("lt", "le", "gt", "ge") and leaf.operand in (0, 3)


PAIR_LITERALS = literals([leaf for leaf in LEAVES if not thinner(leaf)])


@pytest.mark.parametrize("first", range(len(PAIR_LITERALS)), ids=lambda i: repr(PAIR_LITERALS[i]))
def test_every_all_and_any_of_two_literals(first: int) -> None:
    """`all`/`any` of every two leaves or negated leaves, and their negations: the junctions
    where atoms on one fact are combined and contradictions detected."""
    a = PAIR_LITERALS[first]
    for b in PAIR_LITERALS[first:]:  # each pair once: the order of parts is a depth-two matter
        for junction in (AllOf(all=[a, b]), AnyOf(any=[a, b])):
            assert_agrees(junction)
            if not negates_conclusion(negated(junction)):
                assert_agrees(negated(junction))


# Depth two over fewer leaves: same-fact value sets, presence, a list item and a conclusion.
SMALL: list[Condition] = [compare("e", "in", ["x", "y"]), Unknown(unknown="e"), compare("i", "ge", 2),
         compare("l", "contains", "p"), Known(known="d")]


def trees(depth: int) -> list[Condition]:
    """Every tree of at most `depth` levels over SMALL (binary `all`/`any`, `not`),
    excluding those the loader rejects (a negated conclusion)."""
    if depth == 0:
        return list(SMALL)
    lower = trees(depth - 1)
    found = list(lower)
    found += [negated(t) for t in lower if not negates_conclusion(negated(t))]
    # Ordered pairs below the top (every order of two parts is tried here), unordered at
    # the top, which halves the largest level.
    pairs = (itertools.product(lower, repeat=2) if depth < 2
             else itertools.combinations_with_replacement(lower, 2))
    found += [j for a, b in pairs for j in (AllOf(all=[a, b]), AnyOf(any=[a, b]))]
    return list({repr(t): t for t in found}.values())


DEPTH_TWO = trees(2)


@pytest.mark.parametrize("chunk", range(4))
def test_every_tree_of_depth_two(chunk: int) -> None:
    for cond in DEPTH_TWO[chunk::4]:
        assert_agrees(cond)


def condition_trees() -> st.SearchStrategy[Condition]:
    def extend(children: st.SearchStrategy[Condition]) -> st.SearchStrategy[Condition]:
        many = st.lists(children, min_size=1, max_size=3)
        return st.one_of(
            many.map(lambda parts: AllOf(all=parts)),
            many.map(lambda parts: AnyOf(any=parts)),
            children.map(negated),
        )
    return st.recursive(st.sampled_from(LEAVES), extend, max_leaves=8).filter(
        lambda c: not negates_conclusion(c))


@given(condition_trees())
def test_random_deeper_trees_on_every_case(cond: Condition) -> None:
    assert_agrees(cond, ALL_CASES)


# --- the forms themselves ---------------------------------------------------------------------


def test_negation_becomes_the_complement_within_the_domain() -> None:
    assert when_true(FACTS, negated(compare("e", "equals", "x"))) == FactIn("e", ("y", "z"))
    assert when_true(FACTS, negated(compare("i", "in", [1, 2]))) == IntIn("i", ((0, 0), (3, 3)))
    assert when_true(FACTS, negated(compare("i", "ge", 2))) == IntIn("i", ((0, 1),))
    assert when_true(FACTS, negated(compare("b", "equals", True))) == FactIn("b", (False,))
    assert when_true(FACTS, negated(compare("l", "contains", "p"))) == ListHas("l", "p", False)
    assert when_true(FACTS, negated(Known(known="b"))) == FactUnknown("b")
    assert when_true(FACTS, negated(Unknown(unknown="l"))) == FactKnown("l")
    # Unknown is neither: a test and its negation both need the fact known.
    assert when_false(FACTS, compare("e", "equals", "x")) == FactIn("e", ("y", "z"))
    assert when_false(FACTS, compare("d", "equals", True)) is False  # a conclusion is never false
    assert when_false(FACTS, Known(known="d")) == NotConcluded("d")


def test_junctions_combine_atoms_on_one_fact() -> None:
    either = AnyOf(any=[compare("e", "equals", "x"), compare("e", "equals", "y")])
    assert when_true(FACTS, either) == FactIn("e", ("x", "y"))
    band = AllOf(all=[compare("i", "ge", 1), compare("i", "le", 2)])
    assert when_true(FACTS, band) == IntIn("i", ((1, 2),))
    assert when_true(FACTS, AllOf(all=[compare("i", "ge", 3), compare("i", "lt", 3)])) is False
    assert when_true(FACTS, AnyOf(any=[compare("i", "ge", 2), compare("i", "lt", 2)])) == FactKnown("i")
    assert when_true(FACTS, AllOf(all=[Unknown(unknown="e"), compare("e", "equals", "x")])) is False
    assert when_true(FACTS, AnyOf(any=[Unknown(unknown="e"), Known(known="e")])) is True
    item = compare("l", "contains", "p")
    assert when_true(FACTS, AnyOf(any=[item, negated(item)])) == FactKnown("l")
    mixed = AllOf(all=[compare("b", "equals", True), AnyOf(any=[item, Known(known="d")])])
    form = when_true(FACTS, mixed)
    assert isinstance(form, And) and isinstance(form.parts[1], Or)


def test_undeclared_facts_and_misapplied_operators_are_refused() -> None:
    with pytest.raises(UnsupportedCondition, match="unknown fact 'nope'"):
        when_true(FACTS, Known(known="nope"))
    with pytest.raises(UnsupportedCondition, match="'lt' cannot test enum fact 'e'"):
        when_true(FACTS, compare("e", "lt", 2))
    with pytest.raises(UnsupportedCondition, match="'contains' cannot test boolean fact 'b'"):
        when_true(FACTS, compare("b", "contains", "x"))


def test_truth_reads_both_forms() -> None:
    cond = negated(AllOf(all=[compare("e", "equals", "x"), compare("i", "ge", 2)]))
    assert truth(FACTS, cond, {"e": "y"}) is True
    assert truth(FACTS, cond, {"e": "x", "i": 3}) is False
    assert truth(FACTS, cond, {"e": "x"}) is None


def test_every_operator_has_a_meaning_for_every_fact_type_it_may_test() -> None:
    """The format lists the operators and the types they test; the operator table must give
    each one a meaning on each of those types (the normal form relies on nothing else)."""
    assert set(OPERATORS) == set(COMPARISON_OPERATORS) == set(OPERATOR_FACT_TYPES)
    needed = {"boolean": "passes", "enum": "passes", "integer": "integers", "enum_list": "item"}
    for op in OPERATORS.values():
        assert op.fact_types, op.name
        for fact_type in op.fact_types:
            assert getattr(op, needed[fact_type]) is not None, (op.name, fact_type)


def test_describe_reads_as_the_author_wrote() -> None:
    assert describe(compare("i", "ge", 2)) == "i >= 2"
    assert describe(compare("b", "in", [True, False])) == "b in [True, False]"
    assert describe(compare("b", "equals", False)) == "b = false"


# --- cut points ----------------------------------------------------------------------------


def test_cut_points_follow_one_convention() -> None:
    """c is a cut point when some test gives c - 1 and c different values."""
    conditions: list[Condition] = [compare("i", "ge", 2), compare("i", "gt", 0), compare("i", "equals", 3),
                                   compare("e", "equals", "x")]
    assert cut_points(conditions) == {"i": [1, 2, 3, 4]}
    assert cut_points(conditions, FACTS) == {"i": [1, 2, 3]}  # 4 lies past max
    assert regions(FACTS["i"], [1, 2, 3]) == [(0, 0), (1, 1), (2, 2), (3, 3)]
    assert regions(FACTS["i"], [2]) == [(0, 1), (2, 3)]


@pytest.mark.parametrize("leaf", [c for c in LEAVES if isinstance(c, Compare) and c.fact == "i"], ids=repr)
def test_every_integer_test_is_constant_between_cut_points(leaf: Compare) -> None:
    cuts = cut_points([leaf], FACTS).get("i", [])
    for low, high in regions(FACTS["i"], cuts):
        assert len({evaluate(leaf, {"i": v}) for v in range(low, high + 1)}) == 1
    for c in cuts:
        assert evaluate(leaf, {"i": c - 1}) != evaluate(leaf, {"i": c})


def test_intervals_complement_and_combine() -> None:
    assert intervals.complement(((1, 2),), 0, 3) == ((0, 0), (3, 3))
    assert intervals.complement((), 0, 3) == ((0, 3),)
    assert intervals.complement(((0, 3),), 0, 3) == ()
    assert intervals.union(((0, 1),), ((2, 3),)) == ((0, 3),)
    assert intervals.intersection(((0, 1), (3, 5)), ((1, 4),)) == ((1, 1), (3, 4))


# --- backends that value a condition tree node by node ---------------------------------------


def _assert_nodes_follow_logic(kb: KnowledgeBase, trace: RuleTrace, facts: dict[str, Any]) -> int:
    """Every node of an explained condition has the value logic.py gives that node."""
    checked = 0

    def walk(node: ConditionNode, cond: Condition) -> None:
        nonlocal checked
        assert node.value is evaluate(cond, facts), f"{trace.rule}: {node.text} on {facts}"
        checked += 1
        for child_node, child in zip(node.children, parts(cond), strict=True):
            walk(child_node, child)
        for deeper in node.derived_by:
            checked_before = checked
            walk(deeper.condition, kb.rule(deeper.rule).when)
            assert checked > checked_before

    walk(trace.condition, kb.rule(trace.rule).when)
    return checked


def test_explanations_value_every_node_as_logic_does(tmp_path: Path) -> None:
    """Explanations show each node of a condition with its three-valued value: on every
    rule of the negation knowledge base (every kind of `not` and `unknown`) and a spread of
    cases, each value is the interpreter's."""
    kb = load_knowledge_base(write_negation_kb(tmp_path))
    engine = Engine.for_kb(kb)
    checked = 0
    for case in grid()[::29]:
        facts = {**case, **dict.fromkeys(engine.evaluate(case).derived_facts(), True)}
        for code in kb.outcomes:
            for trace in explain(kb, case, code).rules:
                checked += _assert_nodes_follow_logic(kb, trace, facts)
    assert checked > 1000
