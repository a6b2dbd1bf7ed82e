"""Evaluate cases on the compiled durable_rules ruleset(s) and assemble the answer.

Two ways to run, chosen by size (`guidekb.engine.runtime.partition.plan`): a knowledge base
whose alpha network provably fits durable_rules' fixed arrays within the budget (the shipped
one does) runs as one ruleset with native forward chaining, each conclusion asserted as its
own fact; a larger one runs in strata of chunks, each chunk its own ruleset, with the
conclusions of earlier strata carried on the case fact. A chunk none of whose rules can fire
with the conclusions drawn so far is skipped. Both reach the same fixpoint; `derived_by` names,
for each conclusion, the earliest rule in knowledge-base order among the fired rules that
derive it, so the explanation does not depend on firing order or on the way of running.

Compiled once per content: durable_rules never frees a registered ruleset, so the ruleset(s) of
a knowledge base are registered once per process under its content hash and shared by every
`Engine` made for that content (`Engine(kb)` may be called any number of times; a knowledge
base changed in memory has another hash and gets its own rulesets). Each case runs in its own
session per ruleset run, always deleted afterwards, so nothing of one case reaches another (and
durable_rules' limit of 1,024 live sessions is never approached).

Dispatched by guidekb, not by durable_rules' Python layer. The rulesets are registered through
durable_rules' `Host` (which compiles them into its C engine), but a case is run by calling the
C engine's own entry points in the order durable_rules' Python layer calls them --
`assert_fact`, then `start_action_for_state` and `complete_and_start_action` until no action
is left, then `delete_state` (`_Ruleset.run`). Two reasons, both measured on 2.0.28:

- durable_rules' Python dispatch catches every exception raised inside an action,
  KeyboardInterrupt included, carries on with fewer rules fired and returns normally; and it
  silently abandons the rest of a run when an action outlives a 10-second lease read from the
  wall clock. Here nothing is caught on the way: an action's exception ends the run.
- It costs more than half of firing (default knowledge base: 337 µs a case through it, 146
  µs without): per action it parses the session state and the matched
  facts from JSON, wraps them in objects, and writes the state back (re-asserting it through
  the alpha network). guidekb's actions read neither (a rule id is all they need, and it is
  the key the C engine writes first in every action message) and never change the state.

Fail closed. Anything that goes wrong while a case runs -- an exception in an action (our
bookkeeping or the assertion of a conclusion), an error code from the C engine, an action
message naming no registered rule -- ends the case with `EvaluationError` (a KeyboardInterrupt
or SystemExit is re-raised as itself), never an answer with conclusions missing; the session
is deleted whatever happens.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import durable_rules_engine
from durable import engine as durable_engine

from guidekb.engine.errors import ACTION_FAILED, NO_FIXPOINT, EvaluationError
from guidekb.engine.format.cases import validate_case
from guidekb.engine.format.conditions import facts_read
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.runtime.answer import Answer
from guidekb.engine.runtime.assembly import RuleIndex, build_answer
from guidekb.engine.runtime.compiling import CASE, DERIVED, EVERY_CASE, encode_case, joined_triggers
from guidekb.engine.runtime.partition import DEFAULT_BUDGET, Chunk, Plan, alternatives_of, plan, project


class _QuietHost(durable_engine.Host):  # type: ignore[misc]
    """A durable_rules host without its background dispatch timers: we never use timers or
    queued events, and a second thread touching sessions would only add risk."""

    def _run(self) -> None:
        return None


@dataclass
class _Session:
    """What one case's run did: the rules fired and the conclusions drawn (and by which rule).
    One per case, across every ruleset it runs."""

    fired: list[str] = field(default_factory=list)
    derived_by: dict[str, str] = field(default_factory=dict)
    _fired: set[str] = field(default_factory=set, repr=False)  # `fired`, for membership


_SEEN_RULE = "guidekb:every-case"  # not a rule id: ids never contain ':'


@dataclass(frozen=True)
class _RuleFacts:
    """What an action needs about each rule, computed once per knowledge base and shared by
    all its rulesets (2,000 rules in 21 chunks made computing it per chunk a tenth of compiling)."""

    order: dict[str, int]  # knowledge-base order, for `derived_by`
    derives: dict[str, tuple[str, ...]]
    asserted: dict[str, tuple[str, ...]]  # the conclusions some rule reads: asserted when chaining
    asserts_nothing: dict[str, tuple[str, ...]]

    @classmethod
    def of(cls, kb: KnowledgeBase) -> _RuleFacts:
        # A conclusion no rule reads is recorded but not asserted: durable_rules would refuse
        # it (MessageNotHandledException) and nothing could fire on it anyway.
        read = {name for rule in kb.rules for name in facts_read(rule.when) if name in kb.derived_facts}
        return cls(order={rule.id: i for i, rule in enumerate(kb.rules)},
                   derives={rule.id: tuple(rule.then.derive) for rule in kb.rules},
                   asserted={rule.id: tuple(n for n in rule.then.derive if n in read) for rule in kb.rules},
                   asserts_nothing=dict.fromkeys((rule.id for rule in kb.rules), ()))


_C = durable_rules_engine  # the C engine; a module attribute, so that tests can inject faults
_NOT_HANDLED = 1  # assert_fact's result code when no rule looks at the fact (rules.h)


class _Conclusions:
    """What an action gets to assert conclusions with: the `c.assert_fact` of durable_rules'
    actions, on the C engine, for the session being run."""

    __slots__ = ("handle", "sid")

    def __init__(self, handle: int, sid: str) -> None:
        self.handle, self.sid = handle, sid

    def assert_fact(self, fact: dict[str, Any]) -> None:
        code, _ = _C.assert_fact(self.handle, json.dumps({**fact, "sid": self.sid}, ensure_ascii=False))
        if code:  # 1: no rule reads it (only conclusions some rule reads are asserted); 2, 3: never
            raise RuntimeError(f"durable_rules refused a conclusion (result code {code})")


class _Ruleset:
    """Triggers registered with durable_rules under one name: the whole knowledge base (native
    forward chaining) or one chunk of it. One per distinct content per process, shared by every
    Engine of that content."""

    def __init__(self, name: str, rules: _RuleFacts, triggers: Mapping[str, dict[str, Any]],
                 host: _QuietHost, *, chaining: bool) -> None:
        self.name = name
        self.sessions: dict[str, _Session] = {}
        self._ids = itertools.count()
        self._order, self._derives = rules.order, rules.derives
        # A chunk asserts nothing: no rule of a stratum reads a conclusion of its own stratum.
        self._asserted = rules.asserted if chaining else rules.asserts_nothing
        # durable_rules' Host wants an action per rule; guidekb runs the actions itself (`run`).
        self.definition = {rule_id: {**trigger, "run": _not_dispatched}
                           for rule_id, trigger in triggers.items()}
        if EVERY_CASE not in triggers.values():
            # durable_rules keeps a session for a case no rule matches, and deleting it then
            # corrupts its memory (measured on 2.0.28): make sure something matches every case.
            self.definition[_SEEN_RULE] = {**EVERY_CASE, "run": _not_dispatched}
        self._action_names = frozenset(self.definition)  # an action's name is its rule's id
        host.register_rulesets({self.name: self.definition})
        self._handle: int = host.get_ruleset(self.name)._handle

    def record(self, session: _Session, rule_id: str, c: _Conclusions) -> None:
        """A rule fired: note it and assert what it concludes, which chains forward. A
        conclusion is explained by the earliest fired rule (knowledge-base order) deriving it."""
        if rule_id == _SEEN_RULE or rule_id in session._fired:
            return  # an `any` rule may match more than one way; once is enough
        session._fired.add(rule_id)
        session.fired.append(rule_id)
        derived_by, order = session.derived_by, self._order
        for name in self._derives[rule_id]:
            before = derived_by.get(name)
            if before is None:
                derived_by[name] = rule_id
                if name in self._asserted[rule_id]:
                    c.assert_fact({"_k": DERIVED, "_n": name})
            elif order[rule_id] < order[before]:
                derived_by[name] = rule_id

    def run(self, fact: dict[str, Any], session: _Session) -> None:
        """Run one encoded case to its fixpoint in a fresh session, always deleted afterwards,
        adding to `session`; raises EvaluationError (or re-raises an interrupt) rather than
        leave a partial run."""
        sid = f"s{next(self._ids)}"
        self.sessions[sid] = session
        fact["sid"] = sid
        handle = self._handle
        try:
            try:
                self._fire(handle, sid, json.dumps(fact, ensure_ascii=False), session)
            except BaseException:
                with contextlib.suppress(Exception):  # the case has failed already; say why
                    _C.delete_state(handle, sid)
                raise
            try:
                _C.delete_state(handle, sid)
            except Exception as exc:
                raise EvaluationError(f"the rule engine could not release the case's session "
                                      f"({type(exc).__name__}: {exc})", NO_FIXPOINT) from exc
        finally:
            del self.sessions[sid]

    def _fire(self, handle: int, sid: str, fact: str, session: _Session) -> None:
        """Assert the case and run every action the C engine hands out, in its order, until it
        has none left: the fixpoint."""
        rule_id = ""
        try:
            code, state = _C.assert_fact(handle, fact)
            if code == _NOT_HANDLED:
                return  # no rule even looks at this case: nothing fires
            if code:
                raise RuntimeError(f"durable_rules did not take the case (result code {code})")
            started = _C.start_action_for_state(handle, state)
            message: str | None = None if started is None else started[1]
            conclusions = _Conclusions(handle, sid)
            while message is not None:
                # Every action message is {"<action name>":...}; names are rule ids ([a-z0-9_.-]).
                rule_id = message[2:message.find('"', 2)]
                if rule_id not in self._action_names:
                    rule_id = ""
                    raise RuntimeError(f"durable_rules started an unknown action: {message[:80]!r}")
                try:
                    self.record(session, rule_id, conclusions)
                except BaseException:
                    _C.abandon_action(handle, state)
                    raise
                rule_id = ""
                message = _C.complete_and_start_action(handle, state)
        except Exception as exc:  # KeyboardInterrupt, SystemExit: the user's, they propagate
            if rule_id:
                raise EvaluationError(
                    f"rule '{rule_id}' failed while the case was evaluated ({type(exc).__name__}: "
                    f"{exc}); no answer is given, since conclusions may be missing",
                    ACTION_FAILED, rule_id) from exc
            raise EvaluationError(
                f"the rule engine failed while the case was evaluated ({type(exc).__name__}: {exc}); "
                "no answer is given", NO_FIXPOINT) from exc


def _not_dispatched(c: Any) -> None:
    """The action durable_rules' Host is given for every rule; guidekb dispatches the actions
    itself (`_Ruleset.run`), so durable_rules never calls it."""
    raise RuntimeError("guidekb rules are dispatched by guidekb.engine.runtime.evaluation only")


class _Strata:
    """A knowledge base too large for one ruleset: its chunks in run order, each registered
    as its own ruleset (`guidekb.engine.runtime.partition`)."""

    def __init__(self, rules: _RuleFacts, chunks: tuple[Chunk, ...], host: _QuietHost, prefix: str) -> None:
        self.chunks = tuple(
            (chunk, _Ruleset(f"{prefix}:c{chunk.index}", rules, chunk.definition, host, chaining=False))
            for chunk in chunks)
        self.name = prefix

    @property
    def sessions(self) -> dict[str, _Session]:
        return {sid: s for _, ruleset in self.chunks for sid, s in ruleset.sessions.items()}

    def run(self, fact: dict[str, Any], session: _Session) -> None:
        """Run the chunks in order, each on the case fact with the conclusions drawn so far,
        skipping a chunk that cannot fire; the first that fails ends the case (raises)."""
        drawn = session.derived_by
        for chunk, ruleset in self.chunks:
            if chunk.may_fire(drawn):
                ruleset.run(project(chunk, fact, drawn), session)


class Engine:
    """A knowledge base compiled to durable_rules, ready to evaluate any number of cases."""

    _host: ClassVar[_QuietHost | None] = None
    _compiled: ClassVar[dict[tuple[str, int], tuple[Plan, _Ruleset | _Strata]]] = {}
    _engines: ClassVar[dict[str, Engine]] = {}  # by content hash, for `for_kb`
    _lock: ClassVar[threading.RLock] = threading.RLock()

    def __init__(self, kb: KnowledgeBase, *, alpha_budget: int = DEFAULT_BUDGET) -> None:
        """An engine for `kb`; the compiled ruleset(s) are reused if this content was compiled
        before in this process, so any number of engines may be made.

        `alpha_budget` bounds the worst-case alpha-walk stack of each ruleset (see
        `guidekb.engine.runtime.alpha_network`); a knowledge base over it runs partitioned. A
        small budget forces the partitioned way on a small knowledge base (the tests do).
        """
        self.kb = kb
        with Engine._lock:
            compiled = Engine._compiled.get((kb.content_hash, alpha_budget))
            if compiled is None:
                compiled = Engine._compile(kb, alpha_budget)
        self.plan, self._rules = compiled
        self.index = RuleIndex.of(kb)

    @classmethod
    def _compile(cls, kb: KnowledgeBase, budget: int) -> tuple[Plan, _Ruleset | _Strata]:
        alternatives = alternatives_of(kb)
        planned = plan(kb, budget, alternatives)
        name = f"guidekb:{kb.id}:{kb.version}:{kb.content_hash[:32]}"
        rules: _Ruleset | _Strata
        if planned.native:  # one ruleset whatever the budget it was planned with: share it
            shared = [r for (h, _), (p, r) in cls._compiled.items() if h == kb.content_hash and p.native]
            rules = shared[0] if shared else _Ruleset(
                name, _RuleFacts.of(kb), joined_triggers(kb, alternatives), cls._shared_host(), chaining=True)
        else:
            rules = _Strata(_RuleFacts.of(kb), planned.chunks, cls._shared_host(), f"{name}:b{budget}")
        cls._compiled[(kb.content_hash, budget)] = (planned, rules)
        return planned, rules

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
    def partitioned(self) -> bool:
        """Whether this engine runs the knowledge base in chunks rather than one ruleset."""
        return isinstance(self._rules, _Strata)

    @property
    def ruleset(self) -> str:
        """The name of the durable_rules ruleset this engine runs (partitioned: the prefix of
        its chunks' names)."""
        return self._rules.name

    @property
    def rulesets(self) -> tuple[tuple[str, dict[str, Any]], ...]:
        """Every registered ruleset, in run order: name and definition (actions included)."""
        if isinstance(self._rules, _Strata):
            return tuple((r.name, r.definition) for _, r in self._rules.chunks)
        return ((self._rules.name, self._rules.definition),)

    @property
    def definition(self) -> dict[str, Any]:
        """The compiled durable_rules ruleset definition (for tests and inspection); a
        partitioned engine has several, in `rulesets`."""
        if isinstance(self._rules, _Strata):
            raise ValueError(f"{self.kb.id} runs as {len(self._rules.chunks)} rulesets, not one: "
                             "see Engine.rulesets")
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
        session = _Session()
        self._rules.run(encode_case(self.kb, checked), session)
        return session

    def evaluate(self, case: Mapping[str, Any], *, validated: bool = False) -> Answer:
        """The answer for one case (fact name -> value; absent or None means unknown).

        Validated by default with the same `validate_case` the command line uses: an unknown
        or misspelt fact, a conclusion given as a fact, or a value outside a fact's domain
        raises CaseError (fact, value, what is allowed). Pass `validated=True` only for a case
        that `validate_case` returned. Raises EvaluationError, never a partial answer, if the
        rule engine fails.
        """
        checked = dict(case) if validated else validate_case(case, self.kb)
        session = _Session()
        self._rules.run(encode_case(self.kb, checked), session)
        return build_answer(self.index, checked, session.fired, session.derived_by)


__all__ = ["CASE", "Engine", "build_answer"]
