"""Running one invariant under Hypothesis, shared by the invariant and mutation tests.

`property_test` builds the Hypothesis test for an invariant: cases from
`guidekb.engine.qa.strategies.invariant_cases`, and a failure message that carries the shrunk
counterexample as scenario YAML.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import given

from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.qa.counterexamples import counterexample
from guidekb.engine.qa.invariants import Invariant, check_case
from guidekb.engine.qa.strategies import invariant_cases
from guidekb.engine.runtime.evaluation import Engine


def failure_report(kb: KnowledgeBase, inv: Invariant, case: dict[str, Any], engine: Engine) -> str:
    """What a failed property test prints: the violation, then the scenario to paste."""
    found = counterexample(kb, inv, case, engine)
    return (f"invariant '{inv.id}' ({inv.kind}) is violated: {found.problem}\n"
            f"{PASTE}\n\n" + found.scenario_yaml())


PASTE = "Paste this into a scenario file (it fails until the knowledge base is fixed):"


def scenario_text(report: str) -> str:
    """The scenario YAML part of a failure report."""
    return report.split(PASTE, 1)[1].lstrip("\n")


class InvariantViolated(AssertionError):
    """A property-test failure whose message is the report with the scenario to paste."""


def property_test(kb: KnowledgeBase, inv: Invariant, engine: Engine | None = None) -> Callable[[], None]:
    """The Hypothesis test of `inv` on `kb` (settings from the active profile)."""
    engine = engine or Engine.for_kb(kb)

    @given(invariant_cases(kb, inv))
    def holds(case: dict[str, Any]) -> None:
        problem = check_case(inv, case, engine.evaluate)
        if problem is not None:
            # The exception message is what pytest shows for the shrunk case: the scenario.
            raise InvariantViolated(failure_report(kb, inv, case, engine))

    return holds
