"""An independent reference evaluator, for differential testing of the durable_rules engine.

The engine compiles conditions to durable_rules patterns (negation normal form, list facts
split into boolean fields, conclusions joined as separate facts) and assembles its answer in
`guidekb.engine.runtime.assembly`. This module shares none of that: it reads the condition
trees directly with the Kleene logic of `guidekb.engine.semantics.logic` and runs the rules
to a fixpoint in the plainest way, re-evaluating every rule until nothing changes. If the two
ever disagree on a case, one of them has a bug, and the compiler is by far the likelier
culprit. What it shares with the engine is the *definition* of the verdict over the rules
that fired (`guidekb.engine.semantics.verdict`), not the way the rules are made to fire.

The fixpoint is unique because conclusions are only ever added and only ever tested
positively (the loader rejects negated or `unknown` tests of derived facts): firing order
cannot change the result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.semantics.logic import evaluate
from guidekb.engine.semantics.verdict import verdict


@dataclass(frozen=True)
class ReferenceAnswer:
    fired: list[str]  # in knowledge-base order
    derived: list[str]  # sorted
    recommended: list[str]  # in order of first recommendation, prohibitions removed
    forbidden: list[str]  # in order of first prohibition
    proposed: list[str]  # every code some fired rule recommends, forbidden or not


def reference_evaluate(kb: KnowledgeBase, case: dict[str, Any]) -> ReferenceAnswer:
    """Fire the rules of `kb` on a validated case by direct interpretation."""
    derived: set[str] = set()
    fired: set[str] = set()
    changed = True
    while changed:
        changed = False
        facts = {**case, **dict.fromkeys(derived, True)}
        for rule in kb.rules:
            if rule.id not in fired and evaluate(rule.when, facts) is True:
                fired.add(rule.id)
                derived.update(rule.then.derive)
                changed = True
    in_order = [rule for rule in kb.rules if rule.id in fired]
    decided = verdict(in_order)
    return ReferenceAnswer(
        fired=[rule.id for rule in in_order],
        derived=sorted(derived),
        recommended=list(decided.recommended),
        forbidden=list(decided.forbidden),
        proposed=list(decided.proposed),
    )
