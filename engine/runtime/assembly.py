"""Assemble the explained answer from what fired: the verdict (`guidekb.engine.semantics.verdict`:
a prohibition beats a recommendation, conflicts listed), chains back to the case facts, and the
source passages of every rule on the way. Deterministic whatever order rules fired in.
"""

from __future__ import annotations

from collections.abc import Iterator
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
from guidekb.engine.semantics.verdict import Verdict, verdict


def build_answer(index: RuleIndex, case: dict[str, Any], fired: list[str],
                 derived_by: dict[str, str]) -> Answer:
    """Assemble the answer from what fired; deterministic whatever order rules fired in.

    This is the reference for what an answer holds: the fast writer of its JSON
    (`guidekb.engine.runtime.answer_json`) reuses `decide`, `derivations_in_order` and
    `Chains` from here and is tested byte for byte against this function's answer.

    Every model is made without validation (`_trusted`): nothing here comes from outside (the
    case was validated by `validate_case` before it was fired, everything else is the
    verified knowledge base's or built here), so validating it again only cost time -- as
    much as firing the rules, measured. What validation did is done here instead: every sequence a
    tuple, every mapping the answer's own copy.
    """
    fired_rules, decided = decide(index, fired)
    chains = Chains(index, case, derived_by)
    steps = _Steps(index, chains)

    recommendations = tuple(
        _trusted(Recommendation,
            code=code, text=index.texts[code], rule=rules[0], because=chains.because(rules[0]),
            provenance=index.passages[rules[0]], also_by=tuple(rules[1:]), chain=steps.chain(rules[0]),
            details=dict(index.details[code]))
        for code, rules in decided.recommended.items()
    )
    prohibitions = tuple(
        _trusted(Prohibition,
            code=code, text=index.texts[code], rule=bans[0][0], because=chains.because(bans[0][0]),
            provenance=index.passages[bans[0][0]], also_by=tuple(r for r, _ in bans[1:]),
            chain=steps.chain(bans[0][0]), reason=bans[0][1])
        for code, bans in decided.forbidden.items()
    )
    conflicts = tuple(_trusted(Conflict, code=code, recommended_by=by, forbidden_by=against,
                               resolution=_RESOLUTION)
                      for code, (by, against) in decided.conflicts.items())
    derived = tuple(_trusted(Derivation, fact=name, value=True, rule=rule_id,
                             because=chains.because(rule_id), provenance=index.passages[rule_id])
                    for name, rule_id in derivations_in_order(index, derived_by))
    return _trusted(Answer, kb=index.kb_ref, case=Answer.own_copy(case),
                    recommendations=recommendations, prohibitions=prohibitions,
                    derived=derived, conflicts=conflicts, fired=fired_rules)


def decide(index: RuleIndex, fired: list[str]) -> tuple[tuple[str, ...], Verdict]:
    """The rules that fired, each once in knowledge-base order, and their verdict."""
    fired_rules = tuple(sorted(set(fired), key=index.order.__getitem__))
    return fired_rules, verdict(index.rules[rule_id] for rule_id in fired_rules)


def derivations_in_order(index: RuleIndex, derived_by: dict[str, str]) -> list[tuple[str, str]]:
    """(derived fact, the rule that derived it first), in knowledge-base order of the rules."""
    return sorted(derived_by.items(), key=lambda kv: index.order[kv[1]])


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
    reads_derived: dict[str, list[str]]  # those of them that are conclusions of rules, sorted
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
            reads_derived={rule.id: sorted(n for n in facts_read(rule.when) if n in kb.derived_facts)
                           for rule in kb.rules},
            passages={rule.id: _passages(rule) for rule in kb.rules},
            details={code: _details(kb, code) for code in kb.outcomes},
            rules={rule.id: rule for rule in kb.rules},
            texts={code: outcome.text for code, outcome in kb.outcomes.items()},
            concludes={rule.id: tuple(rule.then.derive) for rule in kb.rules},
            kb_ref=KbRef(id=kb.id, version=kb.version),
        )


class Chains:
    """The chain of rules and facts behind a fired rule, back to the case facts: the one
    definition of `because` and of the rules (deepest first) a chain shows, shared by the
    models here and the JSON writer. Cached per rule, for one answer."""

    def __init__(self, index: RuleIndex, case: dict[str, Any], derived_by: dict[str, str]) -> None:
        self.index, self.case, self.derived_by = index, case, derived_by
        self._behind: dict[str, list[str]] = {}
        self._because: dict[str, tuple[str, ...]] = {}
        self._known: dict[str, dict[str, Any]] = {}
        self._uses_of: dict[str, list[str]] = {}
        self._shown: dict[str, list[str]] = {}

    def uses(self, rule_id: str) -> list[str]:
        """The conclusions the rule's condition read, in the order it reads them."""
        uses = self._uses_of.get(rule_id)
        if uses is None:
            derived_by = self.derived_by
            uses = self._uses_of[rule_id] = [f for f in self.index.reads_derived[rule_id] if f in derived_by]
        return uses

    def rules_behind(self, rule_id: str) -> list[str]:
        """The rule and every rule it depends on, deepest first, each once."""
        behind = self._behind.get(rule_id)
        if behind is not None:
            return behind
        if not self.uses(rule_id):  # most rules read only case facts
            behind = self._behind[rule_id] = [rule_id]
            return behind
        # Depth-first, each rule after the rules it uses: an explicit stack rather than
        # recursion, so a chain of conclusions thousands of rules deep explains as a short one
        # does (derivation cycles are refused at load, so no rule is ever its own ancestor).
        seen: list[str] = []
        done: set[str] = set()
        stack: list[tuple[str, Iterator[str]]] = [(rule_id, iter(self.uses(rule_id)))]
        while stack:
            current, names = stack[-1]
            for name in names:
                producer = self.derived_by[name]
                if producer not in done:
                    stack.append((producer, iter(self.uses(producer))))
                    break
            else:
                stack.pop()
                if current not in done:
                    done.add(current)
                    seen.append(current)
        self._behind[rule_id] = seen
        return seen

    def known_facts(self, rule_id: str) -> dict[str, Any]:
        """The case facts the rule's condition read that the case gives (shared: copy before
        handing it out)."""
        known = self._known.get(rule_id)
        if known is None:
            case = self.case
            known = self._known[rule_id] = {f: case[f] for f in self.index.reads[rule_id] if f in case}
        return known

    def _facts_shown(self, rule_id: str) -> list[str]:
        """`name=value` of each known fact the rule read, in the order it reads them."""
        shown = self._shown.get(rule_id)
        if shown is None:
            shown = self._shown[rule_id] = [f"{name}={show_value(value)}"
                                            for name, value in self.known_facts(rule_id).items()]
        return shown

    def because(self, rule_id: str) -> tuple[str, ...]:
        """The case facts and rules behind the rule, deepest first, each once."""
        found = self._because.get(rule_id)
        if found is not None:
            return found
        behind = self.rules_behind(rule_id)
        if len(behind) == 1:  # one rule's facts are distinct names: nothing to drop
            found = (*self._facts_shown(rule_id), rule_id)
        else:
            items: dict[str, None] = {}  # ordered, each once
            for current in behind:
                items.update(dict.fromkeys(self._facts_shown(current)))
                items[current] = None
            found = tuple(items)
        self._because[rule_id] = found
        return found


class _Steps:
    """The chain as `Step` models, one model per rule for one answer."""

    def __init__(self, index: RuleIndex, chains: Chains) -> None:
        self.index, self.chains = index, chains
        self._step: dict[str, Step] = {}

    def chain(self, rule_id: str) -> tuple[Step, ...]:
        return tuple(self._one_step(r) for r in self.chains.rules_behind(rule_id))

    def _one_step(self, rule_id: str) -> Step:
        if rule_id not in self._step:
            facts = {name: list(value) if isinstance(value, list) else value
                     for name, value in self.chains.known_facts(rule_id).items()}
            self._step[rule_id] = _trusted(Step,
                rule=rule_id, title=self.index.rules[rule_id].title, facts=facts,
                uses=tuple(self.chains.uses(rule_id)), concludes=self.index.concludes[rule_id],
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

