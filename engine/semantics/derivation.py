"""Which rules produce what, and what a conclusion rests on: defined once for every backend.

A derived conclusion is drawn exactly when some rule deriving it fires (the loader rejects
cycles among conclusions and any negated or `unknown` test of one, so forward chaining reaches
the least fixpoint). Every module that follows a conclusion back to the rules behind it (the
z3 encoding, the decision diagrams, the aimed case generator, explanations, the cone of
influence of an invariant) asks here.
"""

from __future__ import annotations

from collections.abc import Iterable

from guidekb.engine.format.conditions import facts_read
from guidekb.engine.format.knowledge import KnowledgeBase


def producers(kb: KnowledgeBase) -> dict[str, list[str]]:
    """Every derived fact -> the ids of the rules deriving it, in knowledge-base order, each
    rule once ([] for a conclusion no rule derives)."""
    found: dict[str, list[str]] = {name: [] for name in kb.derived_facts}
    for rule in kb.rules:
        for name in dict.fromkeys(rule.then.derive):
            found.setdefault(name, []).append(rule.id)
    return found


def recommenders(kb: KnowledgeBase) -> dict[str, list[str]]:
    """Every code some rule recommends -> those rules, in knowledge-base order, each once."""
    found: dict[str, list[str]] = {}
    for rule in kb.rules:
        for code in dict.fromkeys(rule.then.recommend):
            found.setdefault(code, []).append(rule.id)
    return found


def forbidders(kb: KnowledgeBase) -> dict[str, list[str]]:
    """Every code some rule forbids -> those rules, in knowledge-base order, each once."""
    found: dict[str, list[str]] = {}
    for rule in kb.rules:
        for code in dict.fromkeys(p.code for p in rule.then.forbid):
            found.setdefault(code, []).append(rule.id)
    return found


def closure(kb: KnowledgeBase, rules: Iterable[str] = (), conclusions: Iterable[str] = ()) -> list[str]:
    """The given rules plus every rule that derives, directly or through a chain of
    conclusions, something they read or one of `conclusions`; in knowledge-base order.

    These are all the rules whose firing can matter to the given ones: the case facts they
    read (`facts_behind`) are the only facts that can change them.
    """
    derivers = producers(kb)
    wanted = set(rules)
    frontier = [*conclusions,
                *(f for r in wanted for f in facts_read(kb.rule(r).when) if f in kb.derived_facts)]
    seen: set[str] = set()
    while frontier:
        name = frontier.pop()
        if name in seen:
            continue
        seen.add(name)
        for rule_id in derivers.get(name, []):
            if rule_id not in wanted:
                wanted.add(rule_id)
                frontier += [f for f in facts_read(kb.rule(rule_id).when) if f in kb.derived_facts]
    return [rule.id for rule in kb.rules if rule.id in wanted]


def facts_behind(kb: KnowledgeBase, rules: Iterable[str]) -> set[str]:
    """The case facts read by the given rules and by every rule in their closure."""
    return {f for rule_id in closure(kb, rules) for f in facts_read(kb.rule(rule_id).when)
            if f in kb.case_facts}
