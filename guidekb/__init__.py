"""guidekb: clinical-guideline knowledge bases with verified provenance, run on durable_rules.

The public Python API (docs/api.md)::

    import guidekb

    kb = guidekb.load("knowledge/hsv-resistance")
    answer = guidekb.evaluate(kb, {"current_antiviral": "valacyclovir", "days_on_therapy": 10})

Every name below is imported on first use, not by `import guidekb`: the command line and
the pytest plugin import this package, and must not pay for the rule engine, pydantic or
Hypothesis until something is evaluated. Hypothesis strategies are in `guidekb.strategies`.
"""

from __future__ import annotations

import importlib

from guidekb import _python_guard  # noqa: F401  first: on Python 3.13+ one sentence, not a linker error

# typing.TYPE_CHECKING without importing typing (mypy treats the name the same way).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from guidekb.api import evaluate, explain, load, violated_invariants
    from guidekb.engine.errors import (
        CaseError,
        EvaluationError,
        GuidekbError,
        KnowledgeBaseError,
        Problem,
        ProblemsError,
        UnknownName,
    )
    from guidekb.engine.format.cases import load_case, validate_case
    from guidekb.engine.format.knowledge import KnowledgeBase
    from guidekb.engine.format.loading import load_knowledge_base
    from guidekb.engine.qa.counterexamples import Counterexample, counterexample
    from guidekb.engine.qa.invariants import Invariant, load_invariants
    from guidekb.engine.qa.propcheck import InvariantViolated, property_test
    from guidekb.engine.qa.scenarios import ScenarioError, ScenarioResult, run_scenarios
    from guidekb.engine.runtime.answer import Answer
    from guidekb.engine.runtime.evaluation import Engine
    from guidekb.engine.runtime.explanation import Explanation

# Public name -> the module defining it. `__all__` lists the same names (a test checks).
_EXPORTS = {
    # knowledge bases and cases
    "load": "guidekb.api",
    "load_knowledge_base": "guidekb.engine.format.loading",
    "KnowledgeBase": "guidekb.engine.format.knowledge",
    "load_case": "guidekb.engine.format.cases",
    "validate_case": "guidekb.engine.format.cases",
    # answers
    "evaluate": "guidekb.api",
    "Engine": "guidekb.engine.runtime.evaluation",
    "Answer": "guidekb.engine.runtime.answer",
    "explain": "guidekb.api",
    "Explanation": "guidekb.engine.runtime.explanation",
    # invariants
    "load_invariants": "guidekb.engine.qa.invariants",
    "Invariant": "guidekb.engine.qa.invariants",
    "violated_invariants": "guidekb.api",
    "property_test": "guidekb.engine.qa.propcheck",
    "InvariantViolated": "guidekb.engine.qa.propcheck",
    "counterexample": "guidekb.engine.qa.counterexamples",
    "Counterexample": "guidekb.engine.qa.counterexamples",
    # scenarios
    "run_scenarios": "guidekb.engine.qa.scenarios",
    "ScenarioResult": "guidekb.engine.qa.scenarios",
    # errors
    "GuidekbError": "guidekb.engine.errors",
    "ProblemsError": "guidekb.engine.errors",
    "KnowledgeBaseError": "guidekb.engine.errors",
    "CaseError": "guidekb.engine.errors",
    "ScenarioError": "guidekb.engine.qa.scenarios",
    "UnknownName": "guidekb.engine.errors",
    "EvaluationError": "guidekb.engine.errors",
    "Problem": "guidekb.engine.errors",
}

__all__ = [
    "Answer",
    "CaseError",
    "Counterexample",
    "Engine",
    "EvaluationError",
    "Explanation",
    "GuidekbError",
    "Invariant",
    "InvariantViolated",
    "KnowledgeBase",
    "KnowledgeBaseError",
    "Problem",
    "ProblemsError",
    "ScenarioError",
    "ScenarioResult",
    "UnknownName",
    "counterexample",
    "evaluate",
    "explain",
    "load",
    "load_case",
    "load_invariants",
    "load_knowledge_base",
    "property_test",
    "run_scenarios",
    "validate_case",
    "violated_invariants",
]


def _import_on_first_use(name: str) -> Any:
    """Import a public name on first use (PEP 562) and keep it, so the next use is plain."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'guidekb' has no attribute '{name}'")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


# Hidden from type checkers, which would otherwise take every attribute of guidekb to exist:
# they see the imports above and report a misspelt name.
if not TYPE_CHECKING:
    __getattr__ = _import_on_first_use
