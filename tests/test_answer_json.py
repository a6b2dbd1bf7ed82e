"""The fast answer JSON (engine/runtime/answer_json.py) is the reference answer, byte for byte.

`build_answer` (engine/runtime/assembly.py) is the one definition of what an answer holds;
`evaluate_json` writes the same JSON without making the models. Here its bytes are compared
with `answer_json(build_answer(...))` for every bundled case and scenario, for sampled and
Hypothesis-generated cases (the `ci` profile of tests/conftest.py) of the HSV knowledge base
and of a small one with conflicts, chains and awkward text; and the comparison itself is shown
to catch a writer that differs in one place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import given

from guidekb.engine.errors import ACTION_FAILED, CaseError, EvaluationError
from guidekb.engine.format.cases import load_case, validate_case
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.loading import load_knowledge_base
from guidekb.engine.qa.casespace import sample_cases
from guidekb.engine.qa.scenarios import load_scenarios
from guidekb.engine.qa.strategies import cases
from guidekb.engine.runtime import evaluation
from guidekb.engine.runtime.answer import Answer
from guidekb.engine.runtime.answer_json import AnswerJson, AnswerWriter, evaluate_json, writer_for
from guidekb.engine.runtime.assembly import build_answer
from guidekb.engine.runtime.batch import answer_json
from guidekb.engine.runtime.evaluation import Engine
from tests.conftest import HSV_KB, knowledge_base_dirs
from tests.minikb import write_mini_kb
from tests.test_engine import EXTRA_RULES, PROVENANCE

# Text a serialiser could get wrong: quotes, a backslash, non-ASCII, a line separator, a tab.
AWKWARD_TITLE = 'Consult \\"ID\\" \\\\ für Ärzte ≥ 2 \\u2028 done'
AWKWARD_RULES = EXTRA_RULES + (
    f'  - id: awkward-title\n    title: "{AWKWARD_TITLE}"\n    when:\n'
    "      fact: immune_status\n      equals: immunocompromised\n"
    "    then:\n      forbid:\n        - code: id_consult\n"
    '          reason: "not \\"now\\": é"\n' + PROVENANCE)


@pytest.fixture(scope="module")
def mini(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    """The mini knowledge base with the engine tests' extra rules (conflicts, `any`, unknowns)
    and a prohibition whose title and reason need escaping."""
    root = write_mini_kb(tmp_path_factory.mktemp("mini") / "kb")
    (root / "rules" / "extra.yaml").write_text(AWKWARD_RULES, encoding="utf-8")
    return load_knowledge_base(root)


def reference(engine: Engine, case: dict[str, Any]) -> tuple[bytes, Answer]:
    """The answer's JSON as the models give it (what `guidekb run --json` and the batch printed
    before the fast path), and the answer."""
    answer = engine.evaluate(case)
    return answer_json(answer), answer


def differences(engine: Engine, case: dict[str, Any],
                write: Callable[[Engine, dict[str, Any]], AnswerJson] | None = None) -> list[str]:
    """What differs between the fast answer and the reference for one case (empty: nothing)."""
    fast = (write or evaluate_json)(engine, case)
    expected, answer = reference(engine, case)
    found = []
    if fast.json != expected:
        at = next((i for i, (a, b) in enumerate(zip(fast.json, expected, strict=False)) if a != b),
                  min(len(fast.json), len(expected)))
        found.append(f"bytes differ at {at}: {fast.json[at - 40:at + 40]!r} vs {expected[at - 40:at + 40]!r}")
    summary = (tuple((r.code, (r.rule, *r.also_by)) for r in answer.recommendations),
               tuple((p.code, (p.rule, *p.also_by)) for p in answer.prohibitions),
               tuple(c.code for c in answer.conflicts))
    if (fast.recommended, fast.forbidden, fast.conflicts) != summary:
        found.append(f"verdict differs: {(fast.recommended, fast.forbidden, fast.conflicts)} vs {summary}")
    return found


def bundled_cases() -> Iterator[tuple[str, KnowledgeBase, dict[str, Any]]]:
    for root in knowledge_base_dirs():
        kb = load_knowledge_base(root)
        for scenario in load_scenarios(kb):
            yield f"{kb.id}: scenario {scenario.name}", kb, scenario.case
        for path in sorted((root / "cases").glob("*.yaml")):
            yield f"{kb.id}: {path.name}", kb, load_case(path, kb)


def test_every_bundled_case_and_scenario_answers_byte_for_byte_as_the_models() -> None:
    checked = 0
    for name, kb, case in bundled_cases():
        assert differences(Engine.for_kb(kb), case) == [], name
        checked += 1
    assert checked > 40


@pytest.mark.parametrize("which", ["hsv", "mini"])
def test_sampled_cases_answer_byte_for_byte_as_the_models(which: str, hsv_kb: KnowledgeBase,
                                                          mini: KnowledgeBase) -> None:
    kb = hsv_kb if which == "hsv" else mini
    engine = Engine.for_kb(kb)
    answers = [engine.evaluate(case) for case in sample_cases(kb, 400, seed=31)]
    # the sample reaches what the writer writes: chains, derivations, prohibitions, conflicts
    assert any(a.derived for a in answers) and any(a.prohibitions for a in answers)
    assert any(len(r.chain) > 1 for a in answers for r in a.recommendations)
    if which == "mini":
        assert any(a.conflicts for a in answers) and any(r.also_by for a in answers for r in a.recommendations)
    for case in sample_cases(kb, 400, seed=31):
        assert differences(engine, case) == [], case


def test_generated_hsv_cases_answer_byte_for_byte_as_the_models(hsv_engine: Engine) -> None:
    @given(cases(hsv_engine.kb))
    def same(case: dict[str, Any]) -> None:
        assert differences(hsv_engine, case) == []

    same()


def test_generated_cases_with_conflicts_and_awkward_text_answer_as_the_models(mini: KnowledgeBase) -> None:
    engine = Engine.for_kb(mini)
    awkward = engine.evaluate({"immune_status": "immunocompromised"})
    banned = {p.rule: p for p in awkward.prohibitions}
    assert "awkward-title" in banned and awkward.conflicts
    title = banned["awkward-title"].chain[0].title
    assert "≥" in title and "\u2028" in title and "\\" in title and "\"" in title

    @given(cases(mini))
    def same(case: dict[str, Any]) -> None:
        assert differences(engine, case) == []

    same()


# --- the comparison catches a writer that differs -------------------------------------------

def _mutants(engine: Engine) -> dict[str, AnswerWriter]:
    """Writers each wrong in one place a hand-written serialiser could get wrong."""
    mutants = {}
    for name, change in {
        "resolution text": lambda parts: setattr(parts, "resolution", parts.resolution.replace(b"beats", b"wins over")),
        "details dropped": lambda parts: parts.details.update({code: b"}" for code in parts.details}),
        "quotes escaped as ASCII": lambda parts: parts.step_head.update(
            {rule: head.decode().encode("ascii", "backslashreplace") for rule, head in parts.step_head.items()}),
        "kb key order": lambda parts: setattr(parts, "kb", parts.kb.replace(b'"id"', b'"ID"')),
    }.items():
        writer = AnswerWriter(engine.index)
        change(writer.fragments)
        mutants[name] = writer
    return mutants


def test_the_comparison_catches_a_writer_that_differs_in_one_place(mini: KnowledgeBase) -> None:
    engine = Engine.for_kb(mini)
    sample = [*sample_cases(mini, 200, seed=5), {"immune_status": "immunocompromised"}]
    for name, writer in _mutants(engine).items():
        def write(engine: Engine, case: dict[str, Any], writer: AnswerWriter = writer) -> AnswerJson:
            checked = validate_case(case, engine.kb)
            session = engine.fire(checked, validated=True)
            return writer.write(checked, session.fired, session.derived_by)

        caught = sum(1 for case in sample if differences(engine, case, write))
        assert caught > 0, f"the comparison missed the mutant '{name}'"
    # and the real writer, through the same path, differs nowhere
    assert all(differences(engine, case) == [] for case in sample)


def test_a_wrong_summary_verdict_is_caught_too(hsv_engine: Engine) -> None:
    case = load_case(HSV_KB / "cases" / "confirmed-resistance.yaml", hsv_engine.kb)

    def dropped_rule(engine: Engine, case: dict[str, Any]) -> AnswerJson:
        right = evaluate_json(engine, case)
        return AnswerJson(right.json, right.recommended[1:], right.forbidden, right.conflicts)

    assert evaluate_json(hsv_engine, case).recommended
    assert differences(hsv_engine, case, dropped_rule)


# --- validation and failing closed, as Engine.evaluate ------------------------------------------

def test_an_invalid_case_is_refused_with_the_message_evaluate_gives(hsv_engine: Engine) -> None:
    for bad in ({"immune_statuss": "immunocompromised"}, {"days_on_therapy": True},
                {"resistance_confirmed": True}, {"immune_status": "weak", "hsv_site": 3}):
        with pytest.raises(CaseError) as expected:
            hsv_engine.evaluate(bad)
        with pytest.raises(CaseError) as fast:
            evaluate_json(hsv_engine, bad)
        assert str(fast.value) == str(expected.value) and fast.value.problems == expected.value.problems


def test_a_failing_action_gives_an_error_never_an_answer(mini: KnowledgeBase,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    engine = Engine.for_kb(mini)
    case = {"immune_status": "immunocompromised"}
    fired = engine.evaluate(case).fired
    original = evaluation._Ruleset.record

    def record(self: Any, session: Any, rule_id: str, c: Any) -> None:
        if rule_id == fired[-1]:
            raise RuntimeError("boom")
        original(self, session, rule_id, c)

    monkeypatch.setattr(evaluation._Ruleset, "record", record)
    with pytest.raises(EvaluationError) as failed:
        evaluate_json(engine, case)
    assert failed.value.code == ACTION_FAILED


def test_one_writer_per_content_and_the_case_is_not_changed(hsv_kb: KnowledgeBase) -> None:
    engine = Engine.for_kb(hsv_kb)
    assert writer_for(engine) is writer_for(Engine(hsv_kb))
    case: dict[str, Any] = {"immunocompromise_causes": ["hiv"], "immune_status": "immunocompromised"}
    before = {k: list(v) if isinstance(v, list) else v for k, v in case.items()}
    evaluate_json(engine, case)
    assert case == before
    checked = validate_case(case, hsv_kb)
    session = engine.fire(checked, validated=True)
    assert writer_for(engine).write(checked, session.fired, session.derived_by).json == answer_json(
        build_answer(engine.index, checked, session.fired, session.derived_by))


def test_guidekb_run_json_prints_the_models_answers(hsv_engine: Engine) -> None:
    """`guidekb run --json` prints the fast answers: the document the models' dumps make."""
    import json

    from typer.testing import CliRunner

    from guidekb.cli import app
    from guidekb.engine.format.inert import json_inert

    files = sorted((HSV_KB / "cases").glob("*.yaml"))
    result = CliRunner().invoke(app, ["run", "--kb", str(HSV_KB), "--json", *map(str, files)])
    assert result.exit_code == 0, result.output
    expected = [{"file": str(path), "answer": hsv_engine.evaluate(load_case(path, hsv_engine.kb)).model_dump(
        mode="json")} for path in files]
    assert result.stdout == json_inert(json.dumps(expected, indent=2, ensure_ascii=False)) + "\n"


def test_the_because_kept_across_cases_is_bounded_and_never_stale(mini: KnowledgeBase,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The `because` JSON of rules that read no conclusion is kept across cases: at most
    BECAUSE_KEPT entries, and a case whose facts differ never gets another case's."""
    from guidekb.engine.runtime import answer_json as module

    monkeypatch.setattr(module, "BECAUSE_KEPT", 3)
    engine = Engine.for_kb(mini)
    writer = AnswerWriter(engine.index)

    def write(engine: Engine, case: dict[str, Any]) -> AnswerJson:
        checked = validate_case(case, engine.kb)
        session = engine.fire(checked, validated=True)
        return writer.write(checked, session.fired, session.derived_by)

    for case in sample_cases(mini, 150, seed=9):
        assert differences(engine, case, write) == [], case
        assert len(writer._because_kept) <= 3
