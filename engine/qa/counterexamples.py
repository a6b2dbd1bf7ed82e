"""Counterexamples to invariants, replayed through the real engine and written as scenarios.

Whatever finds a violating case (the z3 proof, the sampled check, a Hypothesis test), the
reviewer gets the same thing: the engine's own verdict on the case and a scenario, in the
format of the knowledge base's scenario files, that fails while the violation stands.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import yaml

from guidekb.engine.format.cases import validate_case
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.models import Expectations, Scenario
from guidekb.engine.qa.invariants import Invariant, check_case
from guidekb.engine.runtime.answer import Answer
from guidekb.engine.runtime.evaluation import Engine


@dataclass
class Counterexample:
    """A case violating an invariant, and what the real engine says about it."""

    case: dict[str, Any]
    problem: str | None  # check_case's message on the engine's answer; None = not confirmed
    scenario: Scenario

    @property
    def confirmed(self) -> bool:
        return self.problem is not None

    def scenario_yaml(self) -> str:
        return scenario_yaml(self.scenario)



def expectations_for(inv: Invariant, case: dict[str, Any], answer: Answer,
                     evaluate: Callable[[dict[str, Any]], Answer]) -> Expectations:
    """What a scenario pinning this invariant on this case must expect: it fails on the
    knowledge base that violates the invariant and passes once the violation is fixed."""
    return inv.definition.expectations(inv.spec, case, answer, evaluate)


def scenario_yaml(scenario: Scenario) -> str:
    """A scenario as YAML, in the layout of the knowledge base's scenario files."""
    data: dict[str, Any] = {"description": scenario.description, "case": dict(scenario.case)}
    expect = {k: v for k, v in scenario.expect.model_dump().items() if v}
    data["expect"] = expect
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=10_000)


def counterexample(kb: KnowledgeBase, inv: Invariant, case: dict[str, Any],
                   engine: Engine | None = None) -> Counterexample:
    """Replay a case through the real engine and package it as a ready-to-paste scenario."""
    engine = engine or Engine.for_kb(kb)
    case = validate_case(case, kb)
    problem = check_case(inv, case, engine.evaluate)
    answer = engine.evaluate(case)
    expect = expectations_for(inv, case, answer, engine.evaluate)
    what = problem or "the solver found a violation the engine does not confirm"
    description = f"Counterexample to invariant {inv.id}: {what}.{inv.definition.scenario_note(inv.spec)}"
    return Counterexample(case, problem, Scenario(description=description, case=case, expect=expect))


def shrink(case: dict[str, Any], fails: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """Drop known facts one at a time while the case still fails: a sampled counterexample
    then names only facts that matter (a 1-minimal case, like Hypothesis shrinking)."""
    current = dict(case)
    for name in list(current):
        smaller = {k: v for k, v in current.items() if k != name}
        if fails(smaller):
            current = smaller
    return current
