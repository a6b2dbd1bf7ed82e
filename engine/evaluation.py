"""Evaluate cases on the compiled durable_rules ruleset and assemble the answer.

A knowledge base is compiled once per process (durable_rules never frees a registered
ruleset) and each case runs in its own session, deleted afterwards, so nothing of one case
reaches another. durable_rules chains synchronously: when `assert_fact` returns, every rule
that can fire has fired.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from durable import engine as durable_engine

from engine.answer import (
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
from engine.compiling import CASE, DERIVED, compile_ruleset, encode_case
from engine.conditions import facts_read
from engine.knowledge import KnowledgeBase
from engine.models import Rule


class _QuietHost(durable_engine.Host):  # type: ignore[misc]
    """A durable_rules host without its background dispatch timers: we never use timers or
    queued events, and a second thread touching sessions would only add risk."""

    def _run(self) -> None:
        return None


@dataclass
class _Session:
    fired: list[str] = field(default_factory=list)
    derived_by: dict[str, str] = field(default_factory=dict)


class Engine:
    """A knowledge base compiled to durable_rules, ready to evaluate any number of cases."""

    _host: ClassVar[_QuietHost | None] = None
    _compiled: ClassVar[dict[str, Engine]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.ruleset = f"guidekb:{kb.id}:{kb.version}:{kb.fingerprint}:{len(Engine._compiled)}"
        self._sessions: dict[str, _Session] = {}
        self._ids = itertools.count()
        self.definition = compile_ruleset(kb, self._action)
        self.index = _RuleIndex.of(kb)
        Engine._shared_host().register_rulesets({self.ruleset: self.definition})

    @classmethod
    def for_kb(cls, kb: KnowledgeBase) -> Engine:
        """The engine for a knowledge base, compiled on first use and then reused.

        durable_rules never frees a registered ruleset, so a knowledge base loaded again with
        the same content (same folder, same fingerprint) reuses the engine compiled before.
        """
        key = f"{kb.root.resolve()}:{kb.fingerprint or id(kb)}"
        with cls._lock:
            if key not in cls._compiled:
                cls._compiled[key] = Engine(kb)
            return cls._compiled[key]

    @classmethod
    def _shared_host(cls) -> _QuietHost:
        if cls._host is None:
            cls._host = _QuietHost()
        return cls._host

    def _action(self, rule_id: str) -> Callable[[Any], None]:
        derives = self.kb.rule(rule_id).then.derive

        def run(c: Any) -> None:
            session = self._sessions[c.s.sid]
            if rule_id in session.fired:
                return  # an `any` rule may match more than one way; once is enough
            session.fired.append(rule_id)
            for name in derives:
                if name not in session.derived_by:
                    session.derived_by[name] = rule_id
                    c.assert_fact({"_k": DERIVED, "_n": name})

        return run

    def fire(self, case: dict[str, Any]) -> _Session:
        """Run one validated case to fixpoint; returns the rules fired and conclusions drawn."""
        sid = f"s{next(self._ids)}"
        session = _Session()
        self._sessions[sid] = session
        host = Engine._shared_host()
        fact = encode_case(self.kb, case)
        fact["sid"] = sid
        try:
            host.assert_fact(self.ruleset, fact)
        except durable_engine.MessageNotHandledException:
            pass  # no rule even looks at this case
        finally:
            host.delete_state(self.ruleset, sid)
            del self._sessions[sid]
        return session

    def evaluate(self, case: dict[str, Any]) -> Answer:
        """The answer for one validated case (see engine.cases.validate_case)."""
        session = self.fire(case)
        return build_answer(self.index, case, session.fired, session.derived_by)


def build_answer(index: _RuleIndex, case: dict[str, Any], fired: list[str],
                 derived_by: dict[str, str]) -> Answer:
    """Assemble the answer from what fired; deterministic whatever order rules fired in."""
    kb = index.kb
    fired_rules = sorted(set(fired), key=index.order.__getitem__)
    chains = _Chains(index, case, derived_by)

    recommended: dict[str, list[str]] = {}
    forbidden: dict[str, list[tuple[str, str]]] = {}
    for rule_id in fired_rules:
        rule = kb.rule(rule_id)
        for code in rule.then.recommend:
            recommended.setdefault(code, []).append(rule_id)
        for prohibition in rule.then.forbid:
            forbidden.setdefault(prohibition.code, []).append((rule_id, prohibition.reason))

    recommendations = [
        Recommendation(code=code, text=kb.outcomes[code].text, rule=rules[0],
                       because=chains.because(rules[0]), provenance=index.passages[rules[0]],
                       also_by=rules[1:], chain=chains.steps(rules[0]), details=index.details[code])
        for code, rules in recommended.items() if code not in forbidden
    ]
    prohibitions = [
        Prohibition(code=code, text=kb.outcomes[code].text, reason=entries[0][1], rule=entries[0][0],
                    because=chains.because(entries[0][0]), provenance=index.passages[entries[0][0]],
                    also_by=[r for r, _ in entries[1:]], chain=chains.steps(entries[0][0]))
        for code, entries in forbidden.items()
    ]
    conflicts = [Conflict(code=code, recommended_by=recommended[code][0], forbidden_by=entries[0][0])
                 for code, entries in forbidden.items() if code in recommended]
    derived = [Derivation(fact=name, value=True, rule=rule_id, because=chains.because(rule_id),
                          provenance=index.passages[rule_id])
               for name, rule_id in sorted(derived_by.items(), key=lambda kv: index.order[kv[1]])]
    return Answer(kb=KbRef(id=kb.id, version=kb.version), case=dict(case),
                  recommendations=recommendations, prohibitions=prohibitions, derived=derived,
                  conflicts=conflicts, fired=fired_rules)


@dataclass
class _RuleIndex:
    """What answer assembly needs about each rule, computed once per knowledge base."""

    kb: KnowledgeBase
    order: dict[str, int]
    reads: dict[str, list[str]]  # facts each rule's condition reads, sorted
    passages: dict[str, list[SourcePassage]]
    details: dict[str, dict[str, str]]

    @classmethod
    def of(cls, kb: KnowledgeBase) -> _RuleIndex:
        return cls(
            kb=kb,
            order={rule.id: i for i, rule in enumerate(kb.rules)},
            reads={rule.id: sorted(facts_read(rule.when)) for rule in kb.rules},
            passages={rule.id: _passages(rule) for rule in kb.rules},
            details={code: _details(kb, code) for code in kb.outcomes},
        )


class _Chains:
    """The chain of rules and facts behind a fired rule, back to the case facts."""

    def __init__(self, index: _RuleIndex, case: dict[str, Any], derived_by: dict[str, str]) -> None:
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


__all__ = ["CASE", "Engine", "build_answer"]
