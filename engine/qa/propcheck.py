"""An invariant as a Hypothesis property, and the report its failure prints.

The test suite, the pytest plugin (`guidekb.pytest_plugin`) and QA teams' own tests all run
invariants this way: `property_test(kb, inv)` is the Hypothesis test of one invariant, run
with whatever Hypothesis settings are active (the caller's profile). When it fails, the
shrunk counterexample is raised as `InvariantViolated`, whose message ends with a scenario
file ready to paste into the knowledge base's `scenarios/` folder, so a finding becomes a
regression test without retyping it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import given

from guidekb.engine.errors import GuidekbError
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.qa.counterexamples import Counterexample, counterexample
from guidekb.engine.qa.invariants import Invariant, check_case
from guidekb.engine.qa.strategies import invariant_cases
from guidekb.engine.runtime.evaluation import Engine

PASTE = "Paste this into a scenario file (it fails until the knowledge base is fixed):"


class InvariantViolated(GuidekbError, AssertionError):
    """An invariant failed on a (shrunk) case. The message is the full report: the violation,
    then the scenario YAML to paste. An AssertionError, so test runners show it as a failed
    test rather than an error in the test itself."""

    def __init__(self, invariant: Invariant, found: Counterexample) -> None:
        self.invariant = invariant
        self.counterexample = found
        super().__init__(report(invariant, found))

    @property
    def scenario_yaml(self) -> str:
        """The scenario to paste, alone."""
        return self.counterexample.scenario_yaml()


def report(inv: Invariant, found: Counterexample) -> str:
    """What a failed property test prints: the violation, then the scenario to paste."""
    return (f"invariant '{inv.id}' ({inv.kind}) is violated: {found.problem}\n"
            f"{PASTE}\n\n" + found.scenario_yaml())


def failure_report(kb: KnowledgeBase, inv: Invariant, case: dict[str, Any], engine: Engine) -> str:
    """The report for a case already known to violate `inv`."""
    return report(inv, counterexample(kb, inv, case, engine))


def scenario_text(text: str) -> str:
    """The scenario YAML part of a failure report (for tools that captured the message)."""
    return text.split(PASTE, 1)[1].lstrip("\n")


def property_test(kb: KnowledgeBase, inv: Invariant, engine: Engine | None = None) -> Callable[[], None]:
    """The Hypothesis test of `inv` on `kb`: call it to run it. Cases come from
    `invariant_cases(kb, inv)`; settings are the active profile's unless the caller wraps the
    test, e.g. `settings(max_examples=500)(property_test(kb, inv))()`."""
    engine = engine or Engine.for_kb(kb)

    def holds(case: dict[str, Any]) -> None:
        if check_case(inv, case, engine.evaluate) is not None:
            # Raised again on the shrunk case: what the runner shows is its scenario.
            raise InvariantViolated(inv, counterexample(kb, inv, case, engine))

    # Hypothesis keys its example database (and a derandomized run's seed) by a digest of the
    # test's source, the same for every invariant; the ids tell the invariants apart.
    holds._hypothesis_internal_add_digest = f"{kb.id}:{inv.id}".encode()  # type: ignore[attr-defined]
    test: Callable[[], None] = given(invariant_cases(kb, inv))(holds)
    return test
