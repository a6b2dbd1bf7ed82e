"""Compile a knowledge base into durable_rules rulesets, as data: no eval, no source text.

Encoding of a case in the engine (one `assert_fact` per case, as durable_rules is fastest
with few calls):

* the whole case is one fact ``{"_k": "case", <fact>: <value>, ...}``; an unknown fact is
  simply absent. A list fact also gets one boolean field per domain value (``<fact>__<i>``)
  so that `contains` and its negation are plain field tests;
* each derived conclusion is its own fact ``{"_k": "d", "_n": <name>}``, asserted by the
  action of the rule that derives it, which lets durable_rules chain forward.

A condition is compiled from its normal form (`guidekb.engine.semantics.normal_form`, the one
definition of what a condition means): a positive and/or formula whose atoms are already
"the fact is known and its value lies in this set". Three-valued negation was handled there,
so this module never sees a `not`; it only writes each atom as a durable_rules expression.
A negated test arrives as "known and in the complement of the tested set", and is never
compiled to a `none(...)` pattern, which durable_rules satisfies when the field is absent
(that would read unknown as false). A bare ``$neq`` did not match an absent field when
measured on 2.0.28, but the notes we started from said it did, so every ``$neq`` is paired
with ``$ex`` and the answer does not depend on that engine detail.

Parts of a condition over case facts stay inside the single case pattern; only
conclusions need joins, so most rules are a one-pattern match.

A knowledge base too large for one durable_rules ruleset (`guidekb.engine.runtime.partition`)
is run in strata instead, and there a conclusion drawn in an earlier stratum is *carried*:
a field ``<conclusion>: true`` of the case fact, present only when it was drawn
(`carried_trigger`). Conclusions are only ever tested positively (the normal form's
`Concluded`; the loader never lets `NotConcluded` into a rule's true form, and `_atom` refuses
it), so an absent field reads exactly as "not drawn" -- as `normal_form.atom_holds` reads a
case. The carried trigger is written from the same alternatives as the joined one: each
alternative's case tests unchanged, its conclusions to join become field tests.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from itertools import product
from typing import Any

from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.models import Condition, FactSpec
from guidekb.engine.semantics import intervals
from guidekb.engine.semantics import normal_form as nf
from guidekb.engine.semantics.operators import UnsupportedCondition

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


# --- atoms of the normal form as durable_rules expressions --------------------------------

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


def _either(exprs: list[Json]) -> Json:
    return exprs[0] if len(exprs) == 1 else {"$or": exprs}


_FEW = 8  # at most this many excluded values are written as `$neq` tests


def _integers(name: str, spec: FactSpec, accepted: intervals.Intervals) -> Json:
    """Integer tests: all of ``min..max`` but a few values is "present and `$neq` each of
    them" (a negated `equals`/`in`); otherwise each interval is a value or the comparisons
    with its ends that are not ends of the domain."""
    low, high = spec.min, spec.max
    assert low is not None and high is not None
    holes = [v for a, b in intervals.complement(accepted, low, high) for v in range(a, min(b, a + _FEW) + 1)]
    if accepted[0][0] == low and accepted[-1][1] == high and len(holes) <= _FEW:
        return {"$and": [{"$ex": {name: 1}}, *({"$neq": {name: v}} for v in holes)]}
    exprs: list[Json] = []
    for a, b in accepted:
        if a == b:
            exprs.append({name: a})
            continue
        bounds = ([{"$gte": {name: a}}] if a > low else []) + ([{"$lte": {name: b}}] if b < high else [])
        exprs.append(bounds[0] if len(bounds) == 1 else {"$and": bounds})
    return _either(exprs)


def _atom(kb: KnowledgeBase, atom: nf.Atom) -> _Node:
    if isinstance(atom, nf.Concluded):
        return _Derived(atom.name)
    if isinstance(atom, nf.NotConcluded):
        raise UnsupportedCondition(f"a rule needs conclusion '{atom.name}' not drawn; the loader "
                                   "admits conclusions only positively")
    if isinstance(atom, nf.FactKnown | nf.FactUnknown):
        return _Case({"$ex" if isinstance(atom, nf.FactKnown) else "$nex": {atom.fact: 1}})
    spec = kb.facts[atom.fact]
    if isinstance(atom, nf.FactIn):
        return _Case(_either([{atom.fact: v} for v in atom.values]))
    if isinstance(atom, nf.IntIn):
        return _Case(_integers(atom.fact, spec, atom.intervals))
    return _Case({list_field(atom.fact, spec, atom.item): atom.present})


def _node(kb: KnowledgeBase, cond: Condition) -> _Node:
    """The condition's normal form (guidekb.engine.semantics.normal_form) as durable_rules
    expressions and conclusions to join."""
    return nf.fold(nf.when_true(kb.facts, cond), lambda atom: _atom(kb, atom),
                   lambda conjunctive, parts: _And(tuple(parts)) if conjunctive else _Or(tuple(parts)))


# --- from the normal form to durable_rules patterns ---------------------------------------------------

@dataclass(frozen=True)
class Alternative:
    """One way to satisfy a condition: tests on the case fact and conclusions to join."""

    case: tuple[Json, ...]
    derived: frozenset[str]


def _alternatives(node: _Node) -> list[Alternative]:
    if isinstance(node, _Case):
        return [Alternative((node.expr,), frozenset())]
    if isinstance(node, _Derived):
        return [Alternative((), frozenset({node.name}))]
    if isinstance(node, _And):
        combined = [Alternative((), frozenset())]
        for part in node.parts:
            combined = [Alternative(a.case + b.case, a.derived | b.derived)
                        for a, b in product(combined, _alternatives(part))]
        return combined
    # _Or: parts over the case fact alone fold into one `$or`; the rest become alternatives.
    case_only: list[Json] = []
    result: list[Alternative] = []
    for part in node.parts:
        alts = _alternatives(part)
        if alts and all(not a.derived for a in alts):
            case_only += [_conjoin(a.case) for a in alts]
        else:
            result += alts
    if case_only:
        result.insert(0, Alternative((case_only[0] if len(case_only) == 1 else {"$or": case_only},),
                                      frozenset()))
    return result


def _conjoin(exprs: tuple[Json, ...]) -> Json:
    if not exprs:
        return {}
    return exprs[0] if len(exprs) == 1 else {"$and": list(exprs)}


def _patterns(alt: Alternative) -> list[Json]:
    case = {"$and": [{"_k": CASE}, *alt.case]} if alt.case else {"_k": CASE}
    patterns: list[Json] = [{"c": case}]
    for i, name in enumerate(sorted(alt.derived)):
        patterns.append({f"d{i}": {"$and": [{"_k": DERIVED}, {"_n": name}]}})
    return patterns


def rule_alternatives(kb: KnowledgeBase, cond: Condition) -> list[Alternative]:
    """The ways a condition can be true, each as case tests and conclusions it needs (none:
    it can never be true)."""
    return _alternatives(_node(kb, cond))


def carried_trigger(alternatives: list[Alternative]) -> Json | None:
    """The trigger for a condition's alternatives when conclusions drawn before are fields of
    the case fact (see the module docstring): one pattern on the case fact per alternative,
    its conclusion tests first (rules testing one conclusion then share its alpha node), or
    None if the condition can never be true."""
    patterns = [{"c": _conjoin(({"_k": CASE}, *({name: True} for name in sorted(alt.derived)), *alt.case))}
                for alt in alternatives]
    if not patterns:
        return None
    if len(patterns) == 1:
        return {"all": patterns}
    return {"any": [{f"m_{i}$all": [pattern]} for i, pattern in enumerate(patterns)]}


def joined_trigger(alternatives: list[Alternative]) -> Json | None:
    """The trigger for a condition's alternatives with conclusions joined as their own facts,
    or None if the condition can never be true."""
    if not alternatives:
        return None
    if len(alternatives) == 1:
        return {"all": _patterns(alternatives[0])}
    return {"any": [{f"m_{i}$all": _patterns(alt)} for i, alt in enumerate(alternatives)]}


def compile_condition(kb: KnowledgeBase, cond: Condition) -> Json | None:
    """The durable_rules trigger for a condition, or None if it can never be true."""
    return joined_trigger(rule_alternatives(kb, cond))


def joined_triggers(kb: KnowledgeBase, alternatives: Mapping[str, list[Alternative]] | None = None) -> Json:
    """Rule id -> trigger, for every rule that can fire, conclusions joined (one ruleset);
    `alternatives` (rule id -> `rule_alternatives`) saves computing them again."""
    triggers: Json = {}
    for rule in kb.rules:
        alts = alternatives[rule.id] if alternatives is not None else rule_alternatives(kb, rule.when)
        trigger = joined_trigger(alts)
        if trigger is not None:
            triggers[rule.id] = trigger
    return triggers


def compile_ruleset(kb: KnowledgeBase, action: Callable[[str], Callable[[Any], None]]) -> Json:
    """The ruleset definition: one durable_rules rule per knowledge-base rule that can fire.

    `action(rule_id)` returns the callable durable_rules runs when that rule matches.
    """
    return {rule_id: {**trigger, "run": action(rule_id)} for rule_id, trigger in joined_triggers(kb).items()}

EVERY_CASE: Json = {"all": [{"c": {"_k": CASE}}]}
"""The trigger of `always: true`, which matches every case. durable_rules keeps a session for
a case no rule matches, and deleting it then corrupts its memory (measured on 2.0.28), so every
registered ruleset has a rule with this trigger (`guidekb.engine.runtime.evaluation`)."""
