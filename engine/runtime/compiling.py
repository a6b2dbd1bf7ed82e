"""Compile a knowledge base into one durable_rules ruleset, as data: no eval, no source text.

Encoding of a case in the engine (one `assert_fact` per case, as durable_rules is fastest
with few calls):

* the whole case is one fact ``{"_k": "case", <fact>: <value>, ...}``; an unknown fact is
  simply absent. A list fact also gets one boolean field per domain value (``<fact>__<i>``)
  so that `contains` and its negation are plain field tests;
* each derived conclusion is its own fact ``{"_k": "d", "_n": <name>}``, asserted by the
  action of the rule that derives it, which lets durable_rules chain forward.

Conditions are put in negation normal form under three-valued logic: a negated test becomes
"the fact is known and its value lies in the complement of the tested set". It is never a
`none(...)` pattern, which durable_rules satisfies when the field is absent (that would read
unknown as false). A bare ``$neq`` did not match an absent field when measured on 2.0.28, but
the notes we started from said it did, so the compiler pairs every ``$neq`` with ``$ex`` and
the answer does not depend on that engine detail.

Parts of a condition over case facts stay inside the single case pattern; only
conclusions need joins, so most rules are a one-pattern match.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import product
from typing import Any

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

Json = dict[str, Any]
CASE, DERIVED = "case", "d"


def list_field(fact: str, spec: FactSpec, value: str) -> str:
    """The boolean field that says whether a list fact holds `value`."""
    return f"{fact}__{(spec.values or []).index(value)}"


def encode_case(kb: KnowledgeBase, case: dict[str, Any]) -> Json:
    """The single durable_rules fact that carries a (validated) case."""
    fact: Json = {"_k": CASE}
    for name, value in case.items():
        fact[name] = value
        spec = kb.facts[name]
        if spec.type == "enum_list":
            for item in spec.values or []:
                fact[list_field(name, spec, item)] = item in value
    return fact


# --- negation normal form ----------------------------------------------------------------

@dataclass(frozen=True)
class _Case:
    expr: Json  # a durable_rules expression over the case fact


@dataclass(frozen=True)
class _Derived:
    name: str


@dataclass(frozen=True)
class _And:
    parts: tuple[_Node, ...]


@dataclass(frozen=True)
class _Or:
    parts: tuple[_Node, ...]


_Node = _Case | _Derived | _And | _Or
_FALSE = _Or(())
_TRUE = _And(())


def _either(exprs: list[Json]) -> _Node:
    if not exprs:
        return _FALSE
    return _Case(exprs[0] if len(exprs) == 1 else {"$or": exprs})


def _nnf(kb: KnowledgeBase, cond: Condition, negated: bool) -> _Node:
    if isinstance(cond, AllOf | AnyOf):
        children = tuple(_nnf(kb, c, negated) for c in (cond.all if isinstance(cond, AllOf) else cond.any))
        conjunctive = isinstance(cond, AllOf) != negated  # De Morgan
        return _And(children) if conjunctive else _Or(children)
    if isinstance(cond, Not):
        return _nnf(kb, cond.not_, not negated)
    if isinstance(cond, Always):
        return _FALSE if negated else _TRUE
    if isinstance(cond, Known | Unknown):
        name = cond.known if isinstance(cond, Known) else cond.unknown
        present = isinstance(cond, Known) != negated
        if kb.facts[name].derived:
            return _Derived(name)  # the loader admits only positive presence of conclusions
        return _Case({"$ex" if present else "$nex": {name: 1}})
    return _compare(kb, cond, negated)


def _compare(kb: KnowledgeBase, test: Compare, negated: bool) -> _Node:
    spec = kb.facts[test.fact]
    name, op, operand = test.fact, test.operator, test.operand
    if spec.derived:
        return _Derived(name)
    if op in ("lt", "le", "gt", "ge"):
        flipped = {"lt": "ge", "le": "gt", "gt": "le", "ge": "lt"}[op] if negated else op
        durable_op = {"lt": "$lt", "le": "$lte", "gt": "$gt", "ge": "$gte"}[flipped]
        return _Case({durable_op: {name: operand}})
    if op == "contains":
        return _Case({list_field(name, spec, operand): not negated})
    chosen = [operand] if op == "equals" else list(operand)
    if not negated:
        return _either([{name: v} for v in chosen])
    if spec.type == "boolean":
        return _either([{name: v} for v in (True, False) if v not in chosen])
    if spec.type == "enum":
        return _either([{name: v} for v in spec.values or [] if v not in chosen])
    # integer: known and different from every listed value
    return _Case({"$and": [{"$ex": {name: 1}}, *({"$neq": {name: v}} for v in chosen)]})


# --- from NNF to durable_rules patterns ---------------------------------------------------

@dataclass(frozen=True)
class _Alternative:
    """One way to satisfy a condition: tests on the case fact and conclusions to join."""

    case: tuple[Json, ...]
    derived: frozenset[str]


def _alternatives(node: _Node) -> list[_Alternative]:
    if isinstance(node, _Case):
        return [_Alternative((node.expr,), frozenset())]
    if isinstance(node, _Derived):
        return [_Alternative((), frozenset({node.name}))]
    if isinstance(node, _And):
        combined = [_Alternative((), frozenset())]
        for part in node.parts:
            combined = [_Alternative(a.case + b.case, a.derived | b.derived)
                        for a, b in product(combined, _alternatives(part))]
        return combined
    # _Or: parts over the case fact alone fold into one `$or`; the rest become alternatives.
    case_only: list[Json] = []
    result: list[_Alternative] = []
    for part in node.parts:
        alts = _alternatives(part)
        if alts and all(not a.derived for a in alts):
            case_only += [_conjoin(a.case) for a in alts]
        else:
            result += alts
    if case_only:
        result.insert(0, _Alternative((case_only[0] if len(case_only) == 1 else {"$or": case_only},),
                                      frozenset()))
    return result


def _conjoin(exprs: tuple[Json, ...]) -> Json:
    if not exprs:
        return {}
    return exprs[0] if len(exprs) == 1 else {"$and": list(exprs)}


def _patterns(alt: _Alternative) -> list[Json]:
    case = {"$and": [{"_k": CASE}, *alt.case]} if alt.case else {"_k": CASE}
    patterns: list[Json] = [{"c": case}]
    for i, name in enumerate(sorted(alt.derived)):
        patterns.append({f"d{i}": {"$and": [{"_k": DERIVED}, {"_n": name}]}})
    return patterns


def compile_condition(kb: KnowledgeBase, cond: Condition) -> Json | None:
    """The durable_rules trigger for a condition, or None if it can never be true."""
    alts = _alternatives(_nnf(kb, cond, negated=False))
    if not alts:
        return None
    if len(alts) == 1:
        return {"all": _patterns(alts[0])}
    return {"any": [{f"m_{i}$all": _patterns(alt)} for i, alt in enumerate(alts)]}


def compile_ruleset(kb: KnowledgeBase, action: Callable[[str], Callable[[Any], None]]) -> Json:
    """The ruleset definition: one durable_rules rule per knowledge-base rule that can fire.

    `action(rule_id)` returns the callable durable_rules runs when that rule matches.
    """
    definition: Json = {}
    for rule in kb.rules:
        trigger = compile_condition(kb, rule.when)
        if trigger is not None:
            trigger["run"] = action(rule.id)
            definition[rule.id] = trigger
    return definition
