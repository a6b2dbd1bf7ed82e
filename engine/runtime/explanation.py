"""Why a code was (or was not) recommended or forbidden for a case.

For every rule that could produce the code, the explanation shows whether it fired and, if
not, the value of each part of its condition: true, false, or unknown because a fact was not
given. A conclusion the condition needed is explained in turn by the rules that derive it,
so an author can see exactly which missing fact or which false test blocked a path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from guidekb.engine.errors import UnknownName
from guidekb.engine.format.conditions import kind, leaf_fact, parts
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.models import Compare, Condition, Known, Provenance, Unknown
from guidekb.engine.format.suggest import did_you_mean
from guidekb.engine.runtime.answer import Answer
from guidekb.engine.runtime.evaluation import Engine
from guidekb.engine.semantics.derivation import producers
from guidekb.engine.semantics.normal_form import Truth, truth
from guidekb.engine.semantics.operators import describe
from guidekb.engine.semantics.verdict import verdict


@dataclass
class ConditionNode:
    """One node of a condition tree with its three-valued value for the case."""

    text: str
    value: Truth
    children: list[ConditionNode] = field(default_factory=list)
    derived_by: list[RuleTrace] = field(default_factory=list)  # for a conclusion not drawn


@dataclass
class RuleTrace:
    rule: str
    title: str
    fired: bool
    effect: str  # "recommends", "forbids" or "derives <fact>"
    condition: ConditionNode
    provenance: list[Provenance]


@dataclass
class Explanation:
    code: str
    status: str  # "recommended", "forbidden", "recommended but forbidden" or "not recommended"
    answer: Answer
    rules: list[RuleTrace]


def explain(kb: KnowledgeBase, case: dict[str, Any], code: str) -> Explanation:
    """Explain `code` for a validated case; raises UnknownName (a KeyError) for a code the KB
    does not know."""
    if code not in kb.outcomes:
        raise UnknownName("code", code, did_you_mean(code, kb.outcomes, "codes"))
    engine = Engine.for_kb(kb)
    answer = engine.evaluate(case)
    facts: dict[str, Any] = dict(case) | {d.fact: True for d in answer.derived}
    fired = set(answer.fired)
    tracer = _Tracer(kb, facts, fired, {d.fact: d.rule for d in answer.derived})
    traces = []
    for rule in kb.rules:
        if code in rule.then.recommend:
            traces.append(tracer.trace(rule.id, "recommends"))
        if any(p.code == code for p in rule.then.forbid):
            traces.append(tracer.trace(rule.id, "forbids"))
    status = verdict(r for r in kb.rules if r.id in fired).status(code)
    return Explanation(code, status, answer, traces)


class _Tracer:
    def __init__(self, kb: KnowledgeBase, facts: dict[str, Any], fired: set[str],
                 derived_by: dict[str, str]) -> None:
        self.kb, self.facts, self.fired, self.derived_by = kb, facts, fired, derived_by

    def trace(self, rule_id: str, effect: str, depth: int = 0) -> RuleTrace:
        rule = self.kb.rule(rule_id)
        node = self.node(rule.when, depth)
        return RuleTrace(rule.id, rule.title, rule.id in self.fired, effect, node, list(rule.provenance))

    def node(self, cond: Condition, depth: int) -> ConditionNode:
        """The tree as written, each node valued by its normal forms
        (guidekb.engine.semantics.normal_form)."""
        value = truth(self.kb.facts, cond, self.facts)
        written = kind(cond)
        if written in _JUNCTIONS:
            return ConditionNode(_JUNCTIONS[written], value, [self.node(c, depth) for c in parts(cond)])
        if isinstance(cond, Known | Unknown):
            name = leaf_fact(cond)
            return self._with_derivations(ConditionNode(f"{name} is {written}", value), name, depth)
        assert isinstance(cond, Compare)
        return self._with_derivations(ConditionNode(describe(cond), value), cond.fact, depth)

    def _with_derivations(self, node: ConditionNode, fact: str, depth: int) -> ConditionNode:
        """A conclusion is explained by the rule that drew it or, when none did, by every
        rule that could have, each with the part of its condition that held it back."""
        if fact in self.kb.derived_facts and depth < 6:
            producer = self.derived_by.get(fact)
            candidates = [producer] if producer else producers(self.kb).get(fact, [])
            node.derived_by = [self.trace(rule_id, f"derives {fact}", depth + 1) for rule_id in candidates]
        elif fact in self.kb.case_facts and fact not in self.facts:
            node.text += f"  ({fact} not given)"
        return node


_JUNCTIONS = {"all": "all of", "any": "any of", "not": "not", "always": "always"}
