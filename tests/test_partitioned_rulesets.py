"""Knowledge bases too large for one durable_rules ruleset run in strata of chunks
(guidekb.engine.runtime.partition), each chunk within a budget proved from durable_rules' C
source (guidekb.engine.runtime.alpha_network).

Shown here: the bound is real (one ruleset just over durable_rules' alpha-walk limit fails with
error 303, just under it runs, and the engine partitions the one over it and answers); the
partitioned way gives the native answer on the shipped knowledge base forced into small chunks,
and the reference evaluator's answer on the 2,000-rule synthetic one; it fails closed and
releases every session like the native way.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from guidekb.engine.errors import ACTION_FAILED, EvaluationError
from guidekb.engine.format.cases import load_case
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.loading import load_knowledge_base
from guidekb.engine.qa.reference import reference_evaluate
from guidekb.engine.qa.scenarios import load_scenarios
from guidekb.engine.qa.strategies import cases, cases_where
from guidekb.engine.runtime import evaluation
from guidekb.engine.runtime.alpha_network import MAX_STACK_SIZE, network_of
from guidekb.engine.runtime.answer_json import evaluate_json
from guidekb.engine.runtime.batch import answer_json
from guidekb.engine.runtime.compiling import EVERY_CASE, joined_triggers
from guidekb.engine.runtime.evaluation import Engine
from guidekb.engine.runtime.partition import DEFAULT_BUDGET, strata
from tests.conftest import HSV_KB, ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
from synthetic import synthetic_cases, write_flat_kb, write_synthetic_kb

SMALL_BUDGET = 8  # the HSV knowledge base needs 41 in one ruleset: 11 chunks at 8


@pytest.fixture(scope="module")
def hsv(hsv_kb: KnowledgeBase) -> tuple[KnowledgeBase, Engine, Engine]:
    native, chunked = Engine(hsv_kb), Engine(hsv_kb, alpha_budget=SMALL_BUDGET)
    assert not native.partitioned and chunked.partitioned
    return hsv_kb, native, chunked


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> tuple[KnowledgeBase, Engine]:
    kb = load_knowledge_base(write_synthetic_kb(tmp_path_factory.mktemp("synthetic") / "kb"))
    return kb, Engine(kb)


def _assert_released(engine: Engine) -> None:
    """No session is left: not in guidekb's books, not in any of durable_rules' rulesets."""
    assert dict(engine._sessions) == {}
    host = Engine._shared_host()
    rulesets = engine._rules.chunks if isinstance(engine._rules, evaluation._Strata) else [(None, engine._rules)]
    for _, ruleset in rulesets:
        last = next(ruleset._ids) - 1
        if last >= 0:
            with pytest.raises(Exception, match="error code: 309"):  # durable_rules: no such session
                host.get_facts(ruleset.name, f"s{last}")


# --- the bound is real --------------------------------------------------------------------------

_CHILD = """
import json, sys
from durable import engine as durable_engine
from guidekb.engine.format.loading import load_knowledge_base
from guidekb.engine.runtime.compiling import EVERY_CASE, encode_case, joined_triggers

class QuietHost(durable_engine.Host):
    def _run(self):
        return None

kb = load_knowledge_base(sys.argv[1])
definition = {rule_id: {**trigger, "run": lambda c: None} for rule_id, trigger in joined_triggers(kb).items()}
definition["every-case"] = {**EVERY_CASE, "run": lambda c: None}
host = QuietHost()
host.register_rulesets({"one": definition})
case = {name: True for name in kb.case_facts}
try:
    host.assert_fact("one", {**encode_case(kb, case), "sid": "1"})
    print("answered")
except Exception as exc:
    print(f"failed: {exc}")
"""


@pytest.mark.parametrize("size", [MAX_STACK_SIZE, MAX_STACK_SIZE + 1])
def test_one_ruleset_over_the_alpha_limit_fails_and_the_partitioned_one_answers(tmp_path: Path,
                                                                                  size: int) -> None:
    """`size` rules each matching the case on its own fact: the alpha walk holds `size` nodes.
    As one ruleset (in a child process: durable_rules' failures can be worse than an
    exception), 64 answers and 65 fails with error 303, as the model says; the engine runs
    both, the second in chunks, and answers as the reference evaluator does."""
    kb = load_knowledge_base(write_flat_kb(tmp_path / "kb", size))
    assert network_of({**joined_triggers(kb), "every-case": EVERY_CASE}).worst_stack() == size
    done = subprocess.run([sys.executable, "-c", _CHILD, str(kb.root)], capture_output=True, text=True,
                          timeout=60, cwd=ROOT)
    if size <= MAX_STACK_SIZE:
        assert done.stdout.strip() == "answered", done.stderr
    else:
        assert "error code: 303" in done.stdout, (done.stdout, done.stderr)
    engine = Engine(kb)
    assert engine.partitioned == (size > DEFAULT_BUDGET)
    assert all(chunk.worst_stack <= DEFAULT_BUDGET for chunk in engine.plan.chunks)
    case = {name: True for name in kb.case_facts}
    answer = engine.evaluate(case)
    assert len(answer.recommended_codes()) == size
    assert list(answer.fired) == reference_evaluate(kb, case).fired
    _assert_released(engine)


# --- the shipped knowledge base both ways ---------------------------------------------------------

def test_the_shipped_knowledge_base_runs_as_one_ruleset(hsv_kb: KnowledgeBase) -> None:
    engine = Engine.for_kb(hsv_kb)
    assert not engine.partitioned and engine.plan.native_worst_stack <= DEFAULT_BUDGET
    assert len(engine.rulesets) == 1 and engine.definition is engine.rulesets[0][1]


def test_forced_chunks_respect_strata_and_budget(hsv: tuple[KnowledgeBase, Engine, Engine]) -> None:
    kb, _, chunked = hsv
    chunks = chunked.plan.chunks
    assert len(chunks) > 3
    assert [c.stratum for c in chunks] == sorted(c.stratum for c in chunks)
    level = strata(kb)
    producers = {name: rule.id for rule in kb.rules for name in rule.then.derive}
    for chunk in chunks:
        # a single rule may exceed the small budget, never durable_rules' own limit
        assert chunk.worst_stack <= SMALL_BUDGET or (len(chunk.definition) == 1
                                                     and chunk.worst_stack <= MAX_STACK_SIZE)
        for rule_id in chunk.definition:
            assert level[rule_id] == chunk.stratum
        for name in chunk.conclusions:  # what a chunk tests was drawn in an earlier stratum
            assert level[producers[name]] < chunk.stratum
    with pytest.raises(ValueError, match="rulesets"):
        _ = chunked.definition


def test_forced_chunks_answer_as_native_on_bundled_cases_and_scenarios(
        hsv: tuple[KnowledgeBase, Engine, Engine]) -> None:
    kb, native, chunked = hsv
    bundled = [load_case(path, kb) for path in sorted((HSV_KB / "cases").glob("*.yaml"))]
    scenarios = [loaded.case for loaded in load_scenarios(kb)]
    assert len(bundled) >= 3 and len(scenarios) >= 10
    for case in bundled + scenarios:
        assert chunked.evaluate(case) == native.evaluate(case), case
        # the fast JSON writer (population runs) over chunks: the same bytes as native models
        assert evaluate_json(chunked, case).json == answer_json(native.evaluate(case)), case
        _assert_released(chunked)


def test_forced_chunks_answer_as_native_on_generated_cases(hsv: tuple[KnowledgeBase, Engine, Engine]) -> None:
    kb, native, chunked = hsv
    aimed = [cases_where(kb, rule.when) for rule in kb.rules]  # reaches the deep chains

    @given(st.one_of(cases(kb), cases(kb, focus=kb.case_facts), *aimed))
    def agree(case: dict[str, Any]) -> None:
        got, want = chunked.evaluate(case), native.evaluate(case)
        assert got == want
        assert json.dumps(got.model_dump(mode="json")) == json.dumps(want.model_dump(mode="json"))

    agree()
    _assert_released(chunked)


def test_a_conclusion_is_explained_by_the_earliest_fired_rule(hsv: tuple[KnowledgeBase, Engine, Engine]) -> None:
    """Several rules derive `high_risk_for_resistance` for this case; both ways name the first
    in the knowledge base, whatever order they fired in."""
    kb, native, chunked = hsv
    case = {"immune_status": "immunocompromised", "prolonged_antiviral_exposure": True,
            "immunocompromise_causes": ["hiv", "solid_organ_transplant", "chemotherapy"]}
    order = {rule.id: i for i, rule in enumerate(kb.rules)}
    for engine in (native, chunked):
        session = engine.fire(case)
        for name, rule_id in session.derived_by.items():
            deriving = [r for r in session.fired if name in kb.rules_by_id[r].then.derive]
            assert len(deriving) >= 1 and rule_id == min(deriving, key=order.__getitem__)
        assert any(len([r for r in session.fired if name in kb.rules_by_id[r].then.derive]) > 1
                   for name in session.derived_by), "the case should have a conclusion derived twice"
    assert native.fire(case).derived_by == chunked.fire(case).derived_by


# --- the 2,000-rule synthetic knowledge base ----------------------------------------------------

def test_synthetic_knowledge_base_answers_as_the_reference(synthetic: tuple[KnowledgeBase, Engine]) -> None:
    kb, engine = synthetic
    assert len(kb.rules) == 2000 and engine.partitioned
    assert all(chunk.worst_stack <= DEFAULT_BUDGET for chunk in engine.plan.chunks)
    for case in [*synthetic_cases(12, seed=5), {}]:
        session = engine.fire(case)
        ref = reference_evaluate(kb, case)
        assert sorted(session.fired) == sorted(ref.fired)
        assert sorted(session.derived_by) == ref.derived
        answer = engine.evaluate(case)
        assert list(answer.fired) == ref.fired
        assert answer.recommended_codes() == ref.recommended and answer.forbidden_codes() == ref.forbidden
        _assert_released(engine)


def test_a_chunk_that_cannot_fire_is_skipped(synthetic: tuple[KnowledgeBase, Engine],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The empty case draws nothing: only the chunks of rules that need no conclusion run."""
    _, engine = synthetic
    ran: list[str] = []
    real = evaluation._Ruleset.run

    def counting(self: Any, fact: dict[str, Any], session: Any) -> None:
        ran.append(self.name)
        real(self, fact, session)

    monkeypatch.setattr(evaluation._Ruleset, "run", counting)
    assert engine.fire({}).fired == []
    first_stratum = [c for c in engine.plan.chunks if c.stratum == 0]
    assert len(ran) == len(first_stratum) < len(engine.plan.chunks)


def test_a_fault_in_a_chunk_gives_an_error_never_a_partial_answer(synthetic: tuple[KnowledgeBase, Engine],
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    _, engine = synthetic
    case = synthetic_cases(1, seed=5)[0]
    complete = engine.evaluate(case)
    late = [c for c in engine.plan.chunks if c.stratum == max(c.stratum for c in engine.plan.chunks)]
    victim = next(r for r in complete.fired if any(r in c.definition for c in late))
    original = evaluation._Ruleset.record

    def record(self: Any, session: Any, rule_id: str, c: Any) -> None:
        if rule_id == victim:
            raise RuntimeError("boom")
        original(self, session, rule_id, c)

    monkeypatch.setattr(evaluation._Ruleset, "record", record)
    with pytest.raises(EvaluationError) as caught:
        engine.evaluate(case)
    assert caught.value.code is ACTION_FAILED and caught.value.rule == victim
    _assert_released(engine)
    monkeypatch.undo()
    assert engine.evaluate(case) == complete
