"""Evaluate cases on the compiled durable_rules ruleset and assemble the answer.

Compiled once per content: durable_rules never frees a registered ruleset, so the ruleset of
a knowledge base is registered once per process under its content hash and shared by every
`Engine` made for that content (`Engine(kb)` may be called any number of times; a knowledge
base changed in memory has another hash and gets its own ruleset). Each case runs in its own
session, always deleted afterwards, so nothing of one case reaches another (and durable_rules'
limit of 1,024 live sessions is never approached).

Fail closed. durable_rules catches every exception raised inside a rule action, KeyboardInterrupt
included, and carries on with fewer rules fired; it also silently abandons the rest of a run if
an action outlives its lease. Neither may ever become an answer with conclusions missing, so
every action runs inside a guard that records what went wrong, and after the run the engine
checks that every action that started also finished, that durable_rules reports no swallowed
exception and that the run completed. Otherwise the case raises `EvaluationError` (a
KeyboardInterrupt or SystemExit recorded inside an action is re-raised as itself) and no
answer is given.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from durable import engine as durable_engine

from guidekb.engine.errors import ACTION_FAILED, NO_FIXPOINT, EvaluationError
from guidekb.engine.format.cases import validate_case
from guidekb.engine.format.conditions import facts_read
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.runtime.answer import Answer
from guidekb.engine.runtime.assembly import RuleIndex, build_answer
from guidekb.engine.runtime.compiling import CASE, DERIVED, compile_ruleset, encode_case


class _QuietHost(durable_engine.Host):  # type: ignore[misc]
    """A durable_rules host without its background dispatch timers: we never use timers or
    queued events, and a second thread touching sessions would only add risk."""

    def _run(self) -> None:
        return None


@dataclass
class _Session:
    """What one case's run did: the rules fired, the conclusions drawn (and by which rule), and
    the bookkeeping that proves the run complete."""

    fired: list[str] = field(default_factory=list)
    derived_by: dict[str, str] = field(default_factory=dict)
    started: int = 0  # actions entered
    finished: int = 0  # actions that ran to their end
    failure: BaseException | None = None  # the first exception raised inside an action
    failed_rule: str = ""


_SEEN_RULE = "guidekb:every-case"  # not a rule id: ids never contain ':'
_EVERY_CASE: dict[str, Any] = {"all": [{"c": {"_k": CASE}}]}  # the trigger of `always: true`


def _seen(c: Any) -> None:
    """The action of the rule that matches every case: nothing to do."""


class _Ruleset:
    """A knowledge base's rules registered with durable_rules under a name derived from its
    content hash: one per distinct content per process, shared by every Engine of that content."""

    def __init__(self, kb: KnowledgeBase, host: _QuietHost) -> None:
        self.host = host
        self.name = f"guidekb:{kb.id}:{kb.version}:{kb.content_hash[:32]}"
        self.sessions: dict[str, _Session] = {}
        self._ids = itertools.count()
        read = {name for rule in kb.rules for name in facts_read(rule.when) if name in kb.derived_facts}
        # A conclusion no rule reads is recorded but not asserted: durable_rules would refuse
        # it (MessageNotHandledException) and nothing could fire on it anyway.
        self._derives = {rule.id: tuple(rule.then.derive) for rule in kb.rules}
        self._asserted = {rule.id: tuple(n for n in rule.then.derive if n in read) for rule in kb.rules}
        self.definition = compile_ruleset(kb, self._action)
        triggers = [{k: v for k, v in rule.items() if k != "run"} for rule in self.definition.values()]
        if _EVERY_CASE not in triggers:
            # durable_rules keeps a session for a case no rule matches, and deleting it then
            # corrupts its memory (measured on 2.0.28): make sure something matches every case.
            self.definition[_SEEN_RULE] = {**_EVERY_CASE, "run": self._action(_SEEN_RULE)}
        host.register_rulesets({self.name: self.definition})

    def _action(self, rule_id: str) -> Callable[[Any], None]:
        """The callable durable_rules runs when `rule_id` matches: the rule's work inside a
        guard, since durable_rules would swallow anything it raises."""
        sessions = self.sessions
        if rule_id == _SEEN_RULE:
            return _seen

        def guarded(c: Any) -> None:
            session = sessions.get(c.s.sid)
            if session is None or session.failure is not None:
                return  # after a failure nothing more is done: the case is lost anyway
            session.started += 1
            try:
                self.record(session, rule_id, c)
            except BaseException as exc:  # durable_rules would swallow it
                session.failure, session.failed_rule = exc, rule_id
                return
            session.finished += 1

        return guarded

    def record(self, session: _Session, rule_id: str, c: Any) -> None:
        """A rule fired: note it and assert what it concludes, which chains forward."""
        if rule_id in session.fired:
            return  # an `any` rule may match more than one way; once is enough
        session.fired.append(rule_id)
        for name in self._derives[rule_id]:
            if name not in session.derived_by:
                session.derived_by[name] = rule_id
                if name in self._asserted[rule_id]:
                    c.assert_fact({"_k": DERIVED, "_n": name})

    def run(self, fact: dict[str, Any]) -> _Session:
        """Run one encoded case to its fixpoint in a fresh session, always deleted afterwards;
        raises EvaluationError (or re-raises an interrupt) rather than return a partial run."""
        sid = f"s{next(self._ids)}"
        session = _Session()
        self.sessions[sid] = session
        fact["sid"] = sid
        outcome: object = None
        engine_error: BaseException | None = None
        try:
            try:
                outcome = self.host.assert_fact(self.name, fact)
            except durable_engine.MessageNotHandledException:
                outcome = None  # no rule even looks at this case: nothing fires
            except BaseException as exc:  # judged below, after the cleanup
                engine_error = exc
        finally:
            try:
                self.host.delete_state(self.name, sid)
            finally:
                del self.sessions[sid]
        _check_complete(session, outcome, engine_error)
        return session


def _check_complete(session: _Session, outcome: object, engine_error: BaseException | None) -> None:
    """Raise unless the run reached its fixpoint with every action complete."""
    if session.failure is not None:
        failure = session.failure
        if not isinstance(failure, Exception):
            raise failure  # KeyboardInterrupt, SystemExit: the user's, not ours to convert
        raise EvaluationError(
            f"rule '{session.failed_rule}' failed while the case was evaluated "
            f"({type(failure).__name__}: {failure}); no answer is given, since conclusions "
            "may be missing", ACTION_FAILED, session.failed_rule) from failure
    if engine_error is not None:
        if not isinstance(engine_error, Exception):
            raise engine_error
        raise EvaluationError(
            f"the rule engine failed while the case was evaluated ({type(engine_error).__name__}: "
            f"{engine_error}); no answer is given", NO_FIXPOINT) from engine_error
    swallowed = isinstance(outcome, dict) and "exception" in outcome
    if session.started != session.finished or swallowed:
        raise EvaluationError(
            "an action of the rule engine did not complete"
            + (f" ({outcome['exception']})" if isinstance(outcome, dict) and swallowed else "")
            + "; no answer is given, since conclusions may be missing", ACTION_FAILED)
    if session.fired and not isinstance(outcome, dict):
        # durable_rules returns the session state when its last action completed; anything
        # else means it abandoned the run (e.g. an action outlived its lease) before the end.
        raise EvaluationError("the rule engine stopped before every rule that could fire had "
                              "fired; no answer is given", NO_FIXPOINT)


class Engine:
    """A knowledge base compiled to durable_rules, ready to evaluate any number of cases."""

    _host: ClassVar[_QuietHost | None] = None
    _rulesets: ClassVar[dict[str, _Ruleset]] = {}  # by content hash
    _engines: ClassVar[dict[str, Engine]] = {}  # by content hash, for `for_kb`
    _lock: ClassVar[threading.RLock] = threading.RLock()

    def __init__(self, kb: KnowledgeBase) -> None:
        """An engine for `kb`; the compiled ruleset is reused if this content was compiled
        before in this process, so any number of engines may be made."""
        self.kb = kb
        with Engine._lock:
            rules = Engine._rulesets.get(kb.content_hash)
            if rules is None:
                rules = Engine._rulesets[kb.content_hash] = _Ruleset(kb, Engine._shared_host())
        self._rules = rules
        self.index = RuleIndex.of(kb)

    @classmethod
    def for_kb(cls, kb: KnowledgeBase) -> Engine:
        """The engine for a knowledge base's content, made on first use and then reused.

        Keyed by the content hash, so a knowledge base loaded again unchanged gets the engine
        made before, and one changed in any way (on disk or in memory) gets a new one.
        """
        with cls._lock:
            engine = cls._engines.get(kb.content_hash)
            if engine is None:
                engine = cls._engines[kb.content_hash] = Engine(kb)
            return engine

    @classmethod
    def _shared_host(cls) -> _QuietHost:
        if cls._host is None:
            cls._host = _QuietHost()
        return cls._host

    @property
    def ruleset(self) -> str:
        """The name of the durable_rules ruleset this engine runs."""
        return self._rules.name

    @property
    def definition(self) -> dict[str, Any]:
        """The compiled durable_rules ruleset definition (for tests and inspection)."""
        return self._rules.definition

    @property
    def _sessions(self) -> Mapping[str, _Session]:
        """Sessions alive right now (empty between evaluations: every case deletes its own)."""
        return self._rules.sessions

    def fire(self, case: Mapping[str, Any], *, validated: bool = False) -> _Session:
        """Run one case to its fixpoint: the rules fired and the conclusions drawn.

        The case is validated first (CaseError on any invalid fact) unless `validated` says it
        came from `validate_case` or was built from the knowledge base's own domains.
        """
        checked = dict(case) if validated else validate_case(case, self.kb)
        return self._rules.run(encode_case(self.kb, checked))

    def evaluate(self, case: Mapping[str, Any], *, validated: bool = False) -> Answer:
        """The answer for one case (fact name -> value; absent or None means unknown).

        Validated by default with the same `validate_case` the command line uses: an unknown
        or misspelt fact, a conclusion given as a fact, or a value outside a fact's domain
        raises CaseError (fact, value, what is allowed). Pass `validated=True` only for a case
        that `validate_case` returned. Raises EvaluationError, never a partial answer, if the
        rule engine fails.
        """
        checked = dict(case) if validated else validate_case(case, self.kb)
        session = self._rules.run(encode_case(self.kb, checked))
        return build_answer(self.index, checked, session.fired, session.derived_by)


__all__ = ["CASE", "Engine", "build_answer"]
