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

from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.runtime.answer import (
    Answer,
)
from guidekb.engine.runtime.assembly import RuleIndex, build_answer
from guidekb.engine.runtime.compiling import CASE, DERIVED, compile_ruleset, encode_case


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
        self.index = RuleIndex.of(kb)
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
        """The answer for one validated case (see guidekb.engine.format.cases.validate_case)."""
        session = self.fire(case)
        return build_answer(self.index, case, session.fired, session.derived_by)


__all__ = ["CASE", "Engine", "build_answer"]
