"""Assemble the explained answer from what fired: the verdict (`guidekb.engine.semantics.verdict`:
a prohibition beats a recommendation, conflicts listed), chains back to the case facts, and the
source passages of every rule on the way. Deterministic whatever order rules fired in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel

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
    """Assemble the answer from what fired; deterministic whatever order rules fired in.

    Every model is made without validation (`_trusted`): nothing here comes from outside (the
    case was validated by `validate_case` before it was fired, everything else is the
    verified knowledge base's or built here), so validating it again only cost time -- as
    much as firing the rules, measured. What validation did is done here instead: every sequence a
    tuple, every mapping the answer's own copy.
    """
    fired_rules = tuple(sorted(set(fired), key=index.order.__getitem__))
    chains = _Chains(index, case, derived_by)

    decided = verdict(index.rules[rule_id] for rule_id in fired_rules)

    recommendations = tuple(
        _trusted(Recommendation,
            code=code, text=index.texts[code], rule=rules[0], because=chains.because(rules[0]),
            provenance=index.passages[rules[0]], also_by=tuple(rules[1:]), chain=chains.steps(rules[0]),
            details=dict(index.details[code]))
        for code, rules in decided.recommended.items()
    )
    prohibitions = tuple(
        _trusted(Prohibition,
            code=code, text=index.texts[code], rule=bans[0][0], because=chains.because(bans[0][0]),
            provenance=index.passages[bans[0][0]], also_by=tuple(r for r, _ in bans[1:]),
            chain=chains.steps(bans[0][0]), reason=bans[0][1])
        for code, bans in decided.forbidden.items()
    )
    conflicts = tuple(_trusted(Conflict, code=code, recommended_by=by, forbidden_by=against,
                               resolution=_RESOLUTION)
                      for code, (by, against) in decided.conflicts.items())
    derived = tuple(_trusted(Derivation, fact=name, value=True, rule=rule_id,
                             because=chains.because(rule_id), provenance=index.passages[rule_id])
                    for name, rule_id in sorted(derived_by.items(), key=lambda kv: index.order[kv[1]]))
    return _trusted(Answer, kb=index.kb_ref, case=Answer.own_copy(case),
                    recommendations=recommendations, prohibitions=prohibitions,
                    derived=derived, conflicts=conflicts, fired=fired_rules)


_RESOLUTION = Conflict.model_fields["resolution"].default
_M = TypeVar("_M", bound=BaseModel)
_set = object.__setattr__
_FIELD_ORDER: dict[type[BaseModel], tuple[str, ...]] = {}


def _trusted(cls: type[_M], **values: Any) -> _M:
    """`cls.model_construct(**values)` for values already of their fields' types, every field
    given: the same instance state (`__dict__`, fields set, no extra, no private), without
    model_construct's per-field alias and default lookups, which made it the largest single
    cost of an answer. tests/test_answer_assembly.py checks the result equals, dumps and
    hashes as the validated model does, so a pydantic change that breaks this is caught."""
    order = _FIELD_ORDER.get(cls)
    if order is None:
        order = _FIELD_ORDER[cls] = tuple(cls.__pydantic_fields__)
    if tuple(values) != order:  # the serialiser writes keys in __dict__ order: declaration order,
        values = {name: values[name] for name in order}  # as validation stores them; one left out: KeyError
    model = cls.__new__(cls)
    _set(model, "__dict__", values)
    _set(model, "__pydantic_fields_set__", set(values))
    _set(model, "__pydantic_extra__", None)
    _set(model, "__pydantic_private__", None)
    return model


@dataclass
class RuleIndex:
    """What answer assembly needs about each rule, computed once per knowledge base: nothing
    in it depends on the case."""

    kb: KnowledgeBase
    order: dict[str, int]
    reads: dict[str, list[str]]  # facts each rule's condition reads, sorted
    passages: dict[str, tuple[SourcePassage, ...]]
    details: dict[str, dict[str, str]]
    rules: dict[str, Rule]
    texts: dict[str, str]  # outcome code -> its text
    concludes: dict[str, tuple[str, ...]]
    kb_ref: KbRef

    @classmethod
    def of(cls, kb: KnowledgeBase) -> RuleIndex:
        return cls(
            kb=kb,
            order={rule.id: i for i, rule in enumerate(kb.rules)},
            reads={rule.id: sorted(facts_read(rule.when)) for rule in kb.rules},
            passages={rule.id: _passages(rule) for rule in kb.rules},
            details={code: _details(kb, code) for code in kb.outcomes},
            rules={rule.id: rule for rule in kb.rules},
            texts={code: outcome.text for code, outcome in kb.outcomes.items()},
            concludes={rule.id: tuple(rule.then.derive) for rule in kb.rules},
            kb_ref=KbRef(id=kb.id, version=kb.version),
        )


class _Chains:
    """The chain of rules and facts behind a fired rule, back to the case facts."""

    def __init__(self, index: RuleIndex, case: dict[str, Any], derived_by: dict[str, str]) -> None:
        self.index, self.case, self.derived_by = index, case, derived_by
        self._behind: dict[str, list[str]] = {}
        self._step: dict[str, Step] = {}
        self._because: dict[str, tuple[str, ...]] = {}
        self._known: dict[str, dict[str, Any]] = {}
        self._uses_of: dict[str, list[str]] = {}

    def _uses(self, rule_id: str) -> list[str]:
        uses = self._uses_of.get(rule_id)
        if uses is None:
            uses = self._uses_of[rule_id] = [f for f in self.index.reads[rule_id] if f in self.derived_by]
        return uses

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
        known = self._known.get(rule_id)
        if known is None:
            case = self.case
            known = self._known[rule_id] = {f: case[f] for f in self.index.reads[rule_id] if f in case}
        return known

    def because(self, rule_id: str) -> tuple[str, ...]:
        if rule_id not in self._because:
            items: list[str] = []
            for current in self._rules_behind(rule_id):
                for name, value in self._known_facts(current).items():
                    text = f"{name}={show_value(value)}"
                    if text not in items:
                        items.append(text)
                items.append(current)
            self._because[rule_id] = tuple(items)
        return self._because[rule_id]

    def steps(self, rule_id: str) -> tuple[Step, ...]:
        return tuple(self._one_step(r) for r in self._rules_behind(rule_id))

    def _one_step(self, rule_id: str) -> Step:
        if rule_id not in self._step:
            facts = {name: list(value) if isinstance(value, list) else value
                     for name, value in self._known_facts(rule_id).items()}
            self._step[rule_id] = _trusted(Step,
                rule=rule_id, title=self.index.rules[rule_id].title, facts=facts,
                uses=tuple(self._uses(rule_id)), concludes=self.index.concludes[rule_id],
                provenance=self.index.passages[rule_id])
        return self._step[rule_id]


def _passages(rule: Rule) -> tuple[SourcePassage, ...]:
    return tuple(SourcePassage(source=p.source, section=p.section, quote=p.quote, refs=tuple(p.refs))
                 for p in rule.provenance)


def _details(kb: KnowledgeBase, code: str) -> dict[str, str]:
    outcome = kb.outcomes[code]
    fields = {"dose": outcome.dose, "route": outcome.route, "frequency": outcome.frequency,
              "duration": outcome.duration}
    return {k: v for k, v in fields.items() if v}

