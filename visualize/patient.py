"""A patient's path through a decision chart: the answers a case gives, followed from the
root to the leaf, so a chart can show the way one patient takes (`guidekb flowchart --case`).

The answers come from the same vocabulary the chart was built from
(`decisions.answers_for`: an absent fact is the "unknown" answer, never a default), so the
leaf reached is the chart's verdict for that case; tests check it against `guidekb run`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from guidekb.visualize.decisions import Decision, Diagram, Outcome, answers_for


@dataclass(frozen=True)
class PatientPath:
    """The steps a case takes: (decision node id, index of the branch taken), in order,
    then the leaf it ends in."""

    steps: tuple[tuple[int, int], ...]
    leaf: int

    def step_number(self, node_id: int, branch: int) -> int | None:
        """1, 2, ... for an arrow on the path; None for any other arrow."""
        for number, step in enumerate(self.steps, 1):
            if step == (node_id, branch):
                return number
        return None

    def upto(self, diagram: Diagram, count: int) -> PatientPath:
        """The first `count` steps only, ending at the node they reach (a slide per step)."""
        steps = self.steps[:count]
        if not steps:
            return PatientPath((), diagram.root)
        node_id, taken = steps[-1]
        node = diagram.nodes[node_id]
        assert isinstance(node, Decision)
        return PatientPath(steps, node.branches[taken].child)

    @property
    def nodes(self) -> frozenset[int]:
        return frozenset({*(node for node, _ in self.steps), self.leaf})


def follow(diagram: Diagram, case: Mapping[str, Any]) -> PatientPath:
    """The path a validated case takes through `diagram`."""
    answers = answers_for(diagram, case)
    steps: list[tuple[int, int]] = []
    node_id = diagram.root
    node = diagram.nodes[node_id]
    while isinstance(node, Decision):
        answer = answers[node.question]
        taken = next(k for k, branch in enumerate(node.branches) if answer in branch.answers)
        steps.append((node_id, taken))
        node_id = node.branches[taken].child
        node = diagram.nodes[node_id]
    return PatientPath(tuple(steps), node_id)


def outcome_for(diagram: Diagram, case: Mapping[str, Any]) -> Outcome:
    """The leaf the case reaches: what this chart recommends and forbids for it."""
    leaf = diagram.nodes[follow(diagram, case).leaf]
    assert isinstance(leaf, Outcome)
    return leaf
