"""Fail closed in evaluation (issue 9): durable_rules swallows any exception raised inside a rule
action, KeyboardInterrupt included, and carries on with fewer rules fired. Faults are injected
here at the two places an action can fail -- guidekb's own bookkeeping and durable_rules'
assertion of a conclusion -- and the engine must raise, never return an answer with
conclusions missing. Sessions are released whatever happens.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from durable import engine as durable_engine

from guidekb.engine.errors import ACTION_FAILED, NO_FIXPOINT, EvaluationError, GuidekbError
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.loading import load_knowledge_base
from guidekb.engine.runtime import evaluation
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


def test_a_failure_asserting_a_conclusion_gives_an_error(mini: KnowledgeBase,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The fault inside durable_rules' own code called by the action (the 16-of-29 answers
    that silently lost iv_foscarnet when this was injected)."""
    engine = Engine.for_kb(mini)

    def broken(self: Any, *args: Any) -> None:
        raise MemoryError("injected")

    monkeypatch.setattr(durable_engine.Closure, "assert_fact", broken)
    with pytest.raises(EvaluationError, match="MemoryError"):
        engine.evaluate(SUSPECTED)
    _assert_released(engine)
    # A case whose rules conclude nothing is not affected by the broken assertion.
    assert engine.evaluate({"on_foscarnet": True}).recommended_codes() == ["monitor_renal_function"]


@pytest.mark.parametrize("interrupt", [KeyboardInterrupt, SystemExit])
def test_an_interrupt_inside_an_action_propagates(mini: KnowledgeBase, monkeypatch: pytest.MonkeyPatch,
                                                  interrupt: type[BaseException]) -> None:
    engine = Engine.for_kb(mini)
    monkeypatch.setattr(evaluation._Ruleset, "record", _fails_in("failing-after-ten-days", interrupt()))
    with pytest.raises(interrupt):
        engine.evaluate(SUSPECTED)
    _assert_released(engine)


def test_an_interrupt_in_durable_rules_code_propagates(mini: KnowledgeBase,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    engine = Engine.for_kb(mini)

    def interrupted(self: Any, *args: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(durable_engine.Closure, "assert_fact", interrupted)
    with pytest.raises(KeyboardInterrupt):
        engine.evaluate(SUSPECTED)
    _assert_released(engine)


def test_a_swallowed_exception_reported_by_durable_rules_gives_an_error(
        mini: KnowledgeBase, monkeypatch: pytest.MonkeyPatch) -> None:
    """durable_rules records an exception it caught in the session state it returns: an
    exception raised in an action outside guidekb's guard still fails the case."""
    engine = Engine.for_kb(mini)
    real = evaluation._QuietHost.assert_fact

    def reports_exception(self: Any, name: str, fact: Any) -> Any:
        state = real(self, name, fact)
        return {**state, "exception": "exception caught injected"}

    monkeypatch.setattr(evaluation._QuietHost, "assert_fact", reports_exception)
    with pytest.raises(EvaluationError, match="injected"):
        engine.evaluate(SUSPECTED)
    _assert_released(engine)


def test_a_run_durable_rules_abandoned_gives_an_error(mini: KnowledgeBase,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """durable_rules stops a run without a word when an action outlives its 10-second lease
    (measured with the wall clock, so a clock jump does it too): the chain then stops."""
    engine = Engine.for_kb(mini)
    clock = [1_000_000.0]
    monkeypatch.setattr(durable_engine, "_unix_now", lambda: clock[0])
    original = evaluation._Ruleset.record

    def slow(self: Any, session: Any, rule_id: str, c: Any) -> None:
        original(self, session, rule_id, c)
        if rule_id == "failing-after-ten-days":
            clock[0] += 11  # the lease of this action expires

    monkeypatch.setattr(evaluation._Ruleset, "record", slow)
    with pytest.raises(EvaluationError) as caught:
        engine.evaluate(SUSPECTED)
    assert caught.value.code is NO_FIXPOINT
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
