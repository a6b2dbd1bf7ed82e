"""Answer assembly builds its models without validating them (engine/runtime/assembly.py,
`_trusted`): the answers must be exactly what validation would have made -- equal, dumped
to the same JSON with keys in the same order, tuples where the model says tuples, and the
answer's own copies of the case."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.loading import load_knowledge_base
from guidekb.engine.qa.casespace import sample_cases
from guidekb.engine.runtime.answer import Answer
from guidekb.engine.runtime.batch import answer_json
from guidekb.engine.runtime.evaluation import Engine
from tests.minikb import write_mini_kb
from tests.test_engine import EXTRA_RULES


@pytest.fixture(scope="module")
def answers(hsv_kb: KnowledgeBase, tmp_path_factory: pytest.TempPathFactory) -> list[Answer]:
    root = write_mini_kb(tmp_path_factory.mktemp("mini") / "kb")
    (root / "rules" / "extra.yaml").write_text(EXTRA_RULES, encoding="utf-8")  # with a conflict
    mini = load_knowledge_base(root)
    found = []
    for kb in (hsv_kb, mini):
        engine = Engine.for_kb(kb)
        found += [engine.evaluate(case) for case in sample_cases(kb, 300, seed=23)]
    return [*found, Engine.for_kb(mini).evaluate({"days_on_therapy": 3})]


def _models(value: Any) -> list[BaseModel]:
    """Every model inside `value`, itself included."""
    found: list[BaseModel] = []
    if isinstance(value, BaseModel):
        found.append(value)
        for name in type(value).model_fields:
            found += _models(getattr(value, name))
    elif isinstance(value, tuple | list):
        for item in value:
            found += _models(item)
    return found


def test_an_assembled_answer_is_what_validation_makes(answers: list[Answer]) -> None:
    assert any(a.recommendations for a in answers) and any(a.prohibitions for a in answers)
    assert any(a.conflicts for a in answers) and any(a.derived for a in answers)
    for answer in answers:
        validated = Answer.model_validate(answer.model_dump())
        assert answer == validated and validated == answer
        assert answer.model_dump() == validated.model_dump()
        assert answer.model_dump_json() == validated.model_dump_json()
        assert list(answer.model_dump(mode="json")) == list(validated.model_dump(mode="json"))
        assert answer_json(answer) == json.dumps(validated.model_dump(mode="json"), ensure_ascii=False,
                                                 separators=(",", ":")).encode("utf-8")


def test_every_model_holds_tuples_and_its_own_mappings(answers: list[Answer]) -> None:
    for answer in answers:
        for model in _models(answer):
            for name, field in type(model).model_fields.items():
                value = getattr(model, name)
                if str(field.annotation).startswith("tuple"):
                    assert isinstance(value, tuple), (type(model).__name__, name)
            assert list(model.__dict__) == list(type(model).model_fields), type(model).__name__


def test_the_case_is_the_answers_own_copy(hsv_kb: KnowledgeBase) -> None:
    case: dict[str, Any] = {"current_antiviral": "acyclovir", "days_on_therapy": 10,
                            "immune_status": "immunocompromised"}
    answer = Engine.for_kb(hsv_kb).evaluate(case)
    assert answer.case == case and answer.case is not case
    with pytest.raises(ValidationError):  # frozen
        answer.fired = ()  # type: ignore[misc]


def test_a_chain_thousands_of_rules_deep_explains_without_recursion() -> None:
    """Each rule reads the conclusion of the one before: 5,000 deep (Python's recursion limit
    is 1,000). The chain is every rule, deepest first, and `because` each fact once."""
    from types import SimpleNamespace

    from guidekb.engine.runtime.assembly import Chains

    depth = 5000
    reads_derived = {f"r{i}": ((f"d{i - 1}",) if i else ()) for i in range(depth)}
    index = SimpleNamespace(reads_derived=reads_derived, reads={f"r{i}": ("x",) for i in range(depth)})
    chains = Chains(index, {"x": 1}, {f"d{i}": f"r{i}" for i in range(depth)})  # type: ignore[arg-type]
    assert chains.rules_behind(f"r{depth - 1}") == [f"r{i}" for i in range(depth)]
    assert chains.because(f"r{depth - 1}") == ("x=1", *(f"r{i}" for i in range(depth)))
