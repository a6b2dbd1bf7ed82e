"""Assemble the explained answer from what fired: the verdict (`guidekb.engine.semantics.verdict`:
a prohibition beats a recommendation, conflicts listed), chains back to the case facts, and the
source passages of every rule on the way. Deterministic whatever order rules fired in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from guidekb.engine.format.conditions import facts_read
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.models import Rule
from guidekb.engine.runtime.answer import (
    Answer,
    Conflict,
    Derivation,
    KbRef,
    Prohibition,
    Recommendation,
    SourcePassage,
    Step,
    show_value,
)
from guidekb.engine.semantics.verdict import verdict


def build_answer(index: RuleIndex, case: dict[str, Any], fired: list[str],
                 derived_by: dict[str, str]) -> Answer:
    """Assemble the answer from what fired; deterministic whatever order rules fired in."""
    kb = index.kb
    fired_rules = sorted(set(fired), key=index.order.__getitem__)
    chains = _Chains(index, case, derived_by)

    decided = verdict(kb.rule(rule_id) for rule_id in fired_rules)

    recommendations = [
        Recommendation(code=code, text=kb.outcomes[code].text, rule=rules[0],
                       because=chains.because(rules[0]), provenance=index.passages[rules[0]],
                       also_by=list(rules[1:]), chain=chains.steps(rules[0]), details=index.details[code])
        for code, rules in decided.recommended.items()
    ]
    prohibitions = [
        Prohibition(code=code, text=kb.outcomes[code].text, reason=bans[0][1], rule=bans[0][0],
                    because=chains.because(bans[0][0]), provenance=index.passages[bans[0][0]],
                    also_by=[r for r, _ in bans[1:]], chain=chains.steps(bans[0][0]))
        for code, bans in decided.forbidden.items()
    ]
    conflicts = [Conflict(code=code, recommended_by=by, forbidden_by=against)
                 for code, (by, against) in decided.conflicts.items()]
    derived = [Derivation(fact=name, value=True, rule=rule_id, because=chains.because(rule_id),
                          provenance=index.passages[rule_id])
               for name, rule_id in sorted(derived_by.items(), key=lambda kv: index.order[kv[1]])]
    return Answer(kb=KbRef(id=kb.id, version=kb.version), case=dict(case),
                  recommendations=recommendations, prohibitions=prohibitions, derived=derived,
                  conflicts=conflicts, fired=fired_rules)


@dataclass
class RuleIndex:
    """What answer assembly needs about each rule, computed once per knowledge base."""

    kb: KnowledgeBase
    order: dict[str, int]
    reads: dict[str, list[str]]  # facts each rule's condition reads, sorted
    passages: dict[str, list[SourcePassage]]
    details: dict[str, dict[str, str]]

    @classmethod
    def of(cls, kb: KnowledgeBase) -> RuleIndex:
        return cls(
            kb=kb,
            order={rule.id: i for i, rule in enumerate(kb.rules)},
            reads={rule.id: sorted(facts_read(rule.when)) for rule in kb.rules},
            passages={rule.id: _passages(rule) for rule in kb.rules},
            details={code: _details(kb, code) for code in kb.outcomes},
        )


class _Chains:
    """The chain of rules and facts behind a fired rule, back to the case facts."""

    def __init__(self, index: RuleIndex, case: dict[str, Any], derived_by: dict[str, str]) -> None:
        self.index, self.case, self.derived_by = index, case, derived_by
        self._behind: dict[str, list[str]] = {}
        self._step: dict[str, Step] = {}
        self._because: dict[str, list[str]] = {}

    def _uses(self, rule_id: str) -> list[str]:
        return [f for f in self.index.reads[rule_id] if f in self.derived_by]

    def _rules_behind(self, rule_id: str) -> list[str]:
        """The rule and every rule it depends on, deepest first, each once."""
        if rule_id in self._behind:
            return self._behind[rule_id]
        seen: list[str] = []

        def visit(current: str) -> None:
            for name in self._uses(current):
                producer = self.derived_by[name]
                if producer not in seen:
                    visit(producer)
            if current not in seen:
                seen.append(current)

        visit(rule_id)
        self._behind[rule_id] = seen
        return seen

    def _known_facts(self, rule_id: str) -> dict[str, Any]:
        return {f: self.case[f] for f in self.index.reads[rule_id] if f in self.case}

    def because(self, rule_id: str) -> list[str]:
        if rule_id not in self._because:
            items: list[str] = []
            for current in self._rules_behind(rule_id):
                for name, value in self._known_facts(current).items():
                    text = f"{name}={show_value(value)}"
                    if text not in items:
                        items.append(text)
                items.append(current)
            self._because[rule_id] = items
        return list(self._because[rule_id])

    def steps(self, rule_id: str) -> list[Step]:
        return [self._one_step(r) for r in self._rules_behind(rule_id)]

    def _one_step(self, rule_id: str) -> Step:
        if rule_id not in self._step:
            rule = self.index.kb.rule(rule_id)
            self._step[rule_id] = Step(rule=rule_id, title=rule.title, facts=self._known_facts(rule_id),
                                       uses=self._uses(rule_id), concludes=list(rule.then.derive),
                                       provenance=self.index.passages[rule_id])
        return self._step[rule_id]


def _passages(rule: Rule) -> list[SourcePassage]:
    return [SourcePassage(source=p.source, section=p.section, quote=p.quote, refs=list(p.refs))
            for p in rule.provenance]


def _details(kb: KnowledgeBase, code: str) -> dict[str, str]:
    outcome = kb.outcomes[code]
    fields = {"dose": outcome.dose, "route": outcome.route, "frequency": outcome.frequency,
              "duration": outcome.duration}
    return {k: v for k, v in fields.items() if v}

