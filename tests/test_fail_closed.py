"""Fail closed in evaluation (issue 9): durable_rules' own Python dispatch swallows any
exception raised inside a rule action, KeyboardInterrupt included, and carries on with fewer
rules fired; guidekb therefore dispatches the actions itself on durable_rules' C engine
(guidekb.engine.runtime.evaluation). Faults are injected here wherever a run can fail --
guidekb's own bookkeeping, the C engine's assertion of a conclusion, its hand-out of the next
action, its result codes -- and the engine must raise, never return an answer with
conclusions missing. Sessions are released whatever happens.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import durable_rules_engine
import pytest
from durable import engine as durable_engine

from guidekb.engine.errors import ACTION_FAILED, NO_FIXPOINT, EvaluationError, GuidekbError
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.loading import load_knowledge_base
from guidekb.engine.runtime import evaluation
from guidekb.engine.runtime.compiling import DERIVED
from guidekb.engine.runtime.evaluation import Engine
from tests.minikb import write_mini_kb

SUSPECTED = {"lesion_course": "persistent", "days_on_therapy": 12, "immune_status": "immunocompromised"}


@pytest.fixture(scope="module")
def mini(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    return load_knowledge_base(write_mini_kb(tmp_path_factory.mktemp("mini") / "kb"))


def _fails_in(rule_id: str, exc: BaseException) -> Any:
    """A replacement for the action's bookkeeping that raises in one rule."""
    original = evaluation._Ruleset.record

    def record(self: Any, session: Any, fired: str, c: Any) -> None:
        if fired == rule_id:
            raise exc
        original(self, session, fired, c)

    return record


def _assert_released(engine: Engine) -> None:
    assert dict(engine._sessions) == {}
    with pytest.raises(Exception, match="error code: 309"):  # durable_rules: no such session
        Engine._shared_host().get_facts(engine.ruleset, f"s{next(engine._rules._ids) - 1}")


def test_an_action_that_raises_gives_an_error_not_an_answer(mini: KnowledgeBase,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    engine = Engine.for_kb(mini)
    complete = engine.evaluate(SUSPECTED)
    assert "iv_foscarnet" in complete.recommended_codes()
    monkeypatch.setattr(evaluation._Ruleset, "record", _fails_in("suspect-when-failing", RuntimeError("boom")))
    with pytest.raises(EvaluationError) as caught:
        engine.evaluate(SUSPECTED)
    assert caught.value.code is ACTION_FAILED
    assert caught.value.rule == "suspect-when-failing"
    assert "boom" in str(caught.value) and isinstance(caught.value, GuidekbError)
    _assert_released(engine)
    monkeypatch.undo()
    assert engine.evaluate(SUSPECTED) == complete  # the engine is unharmed


class _FaultyEngine:
    """durable_rules' C engine (the module guidekb dispatches on) with some entry points
    replaced: `replaced[name](real, *args)` is called instead of `name(*args)`."""

    def __init__(self, **replaced: Any) -> None:
        self.replaced = replaced

    def __getattr__(self, name: str) -> Any:
        real = getattr(durable_rules_engine, name)
        if name not in self.replaced:
            return real
        return lambda *args: self.replaced[name](real, *args)


def _on_conclusions(effect: Any) -> Any:
    """An `assert_fact` that does `effect()` for a conclusion and asserts a case normally."""
    def assert_fact(real: Any, handle: int, fact: str) -> Any:
        if f'"_k": "{DERIVED}"' in fact:
            return effect()
        return real(handle, fact)
    return assert_fact


def _raise(exc: BaseException) -> Any:
    def effect() -> Any:
        raise exc
    return effect


def test_a_failure_asserting_a_conclusion_gives_an_error(mini: KnowledgeBase,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The fault inside durable_rules' own code called by the action (when durable_rules
    dispatched the actions, this silently lost iv_foscarnet in 16 of 29 answers)."""
    engine = Engine.for_kb(mini)
    monkeypatch.setattr(evaluation, "_C", _FaultyEngine(assert_fact=_on_conclusions(_raise(MemoryError("injected")))))
    with pytest.raises(EvaluationError, match="MemoryError") as caught:
        engine.evaluate(SUSPECTED)
    # the first rule of the chain that asserts a conclusion another rule reads
    assert caught.value.code is ACTION_FAILED and caught.value.rule == "failing-after-ten-days"
    _assert_released(engine)
    # A case whose rules conclude nothing is not affected by the broken assertion.
    assert engine.evaluate({"on_foscarnet": True}).recommended_codes() == ["monitor_renal_function"]


def test_a_conclusion_durable_rules_refuses_gives_an_error(mini: KnowledgeBase,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """durable_rules answers 'not handled' (1) rather than raising: the chain would stop there."""
    engine = Engine.for_kb(mini)
    monkeypatch.setattr(evaluation, "_C", _FaultyEngine(assert_fact=_on_conclusions(lambda: (1, 0))))
    with pytest.raises(EvaluationError, match="result code 1") as caught:
        engine.evaluate(SUSPECTED)
    assert caught.value.code is ACTION_FAILED
    _assert_released(engine)


def _in_bookkeeping(monkeypatch: pytest.MonkeyPatch, interrupt: BaseException) -> None:
    monkeypatch.setattr(evaluation._Ruleset, "record", _fails_in("failing-after-ten-days", interrupt))


def _in_durable_rules(monkeypatch: pytest.MonkeyPatch, interrupt: BaseException) -> None:
    monkeypatch.setattr(evaluation, "_C", _FaultyEngine(assert_fact=_on_conclusions(_raise(interrupt))))


@pytest.mark.parametrize("inject", [_in_bookkeeping, _in_durable_rules])
@pytest.mark.parametrize("interrupt", [KeyboardInterrupt, SystemExit])
def test_an_interrupt_inside_an_action_propagates(mini: KnowledgeBase, monkeypatch: pytest.MonkeyPatch,
                                                  interrupt: type[BaseException], inject: Any) -> None:
    """Ctrl-C (or an exit) in guidekb's bookkeeping or in durable_rules' assertion of a
    conclusion is the user's: it propagates as itself, and the session is released."""
    engine = Engine.for_kb(mini)
    inject(monkeypatch, interrupt())
    with pytest.raises(interrupt):
        engine.evaluate(SUSPECTED)
    _assert_released(engine)


def test_an_engine_error_in_the_middle_of_a_run_gives_an_error(mini: KnowledgeBase,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The C engine fails handing out the next action, after some rules fired."""
    engine = Engine.for_kb(mini)

    def fails(real: Any, handle: int, state: int) -> Any:
        raise durable_rules_engine.error("Could not complete and start action, error code: 302")

    monkeypatch.setattr(evaluation, "_C", _FaultyEngine(complete_and_start_action=fails))
    with pytest.raises(EvaluationError, match="error code: 302") as caught:
        engine.evaluate(SUSPECTED)
    assert caught.value.code is NO_FIXPOINT
    _assert_released(engine)


@pytest.mark.parametrize("code", [2, 3, 201])
def test_a_case_durable_rules_does_not_take_gives_an_error(mini: KnowledgeBase, monkeypatch: pytest.MonkeyPatch,
                                                           code: int) -> None:
    """Any result code but 0 (taken) and 1 (no rule looks at it) for the case itself."""
    engine = Engine.for_kb(mini)
    monkeypatch.setattr(evaluation, "_C", _FaultyEngine(assert_fact=lambda real, handle, fact: (code, 0)))
    with pytest.raises(EvaluationError, match=f"result code {code}") as caught:
        engine.evaluate(SUSPECTED)
    assert caught.value.code is NO_FIXPOINT


def test_an_action_naming_no_rule_gives_an_error(mini: KnowledgeBase, monkeypatch: pytest.MonkeyPatch) -> None:
    """guidekb reads the rule id from the head of each action message: one it does not know
    (a changed message format, say) ends the case instead of being skipped."""
    engine = Engine.for_kb(mini)
    monkeypatch.setattr(evaluation, "_C", _FaultyEngine(
        complete_and_start_action=lambda real, handle, state: '{"renamed-rule":{"c":{}}}'))
    with pytest.raises(EvaluationError, match="unknown action"):
        engine.evaluate(SUSPECTED)
    _assert_released(engine)


def test_the_wall_clock_does_not_cut_a_run_short(mini: KnowledgeBase, monkeypatch: pytest.MonkeyPatch) -> None:
    """durable_rules' Python dispatch abandoned a run, without a word, when an action outlived
    its 10-second lease read from the wall clock (a clock jump did it too). guidekb dispatches
    the actions itself: a clock that jumps 11 s at every reading changes nothing."""
    engine = Engine.for_kb(mini)
    complete = engine.evaluate(SUSPECTED)
    clock = [1_000_000.0]

    def jumping() -> float:
        clock[0] += 11
        return clock[0]

    monkeypatch.setattr(durable_engine, "_unix_now", jumping)
    assert engine.evaluate(SUSPECTED) == complete
    _assert_released(engine)


def test_sessions_are_released_when_no_rule_matches(tmp_path: Path) -> None:
    """A knowledge base with no rule for every case: a case nothing matches must neither leak
    a durable_rules session (it allows 1,024) nor corrupt its memory when released."""
    full = load_knowledge_base(write_mini_kb(tmp_path / "kb"))
    only = dataclasses.replace(full, rules=[r for r in full.rules if r.id == "failing-after-ten-days"])
    engine = Engine(only)
    for _ in range(1100):
        assert engine.evaluate({"on_foscarnet": True}).fired == ()
    # A conclusion no rule reads is still drawn and shown.
    answer = engine.evaluate({"lesion_course": "persistent", "days_on_therapy": 12})
    assert answer.fired == ("failing-after-ten-days",) and answer.derived_facts() == ["failing"]
    _assert_released(engine)


def test_evaluation_is_complete_after_many_faults(mini: KnowledgeBase, monkeypatch: pytest.MonkeyPatch) -> None:
    """Far more failed cases than durable_rules has session slots: each one was released."""
    engine = Engine.for_kb(mini)
    monkeypatch.setattr(evaluation._Ruleset, "record", _fails_in("no-topical-acyclovir", ValueError("x")))
    for _ in range(1100):
        with pytest.raises(EvaluationError):
            engine.evaluate({})
    monkeypatch.undo()
    assert engine.evaluate({}).forbidden_codes() == ["topical_acyclovir"]
