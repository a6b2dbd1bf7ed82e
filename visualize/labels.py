"""Edge labels of the decision diagram: the answers an arrow stands for, as a reader says them.

Adjacent integer ranges that lead to the same place are joined ("< 7" and "7–9" read "< 10"),
and the other answers are listed with " / " between them ("no / unknown").
"""

from __future__ import annotations

from guidekb.visualize.decisions import Branch, Decision, Diagram
from guidekb.visualize.questions import Question, range_label


def branch_label(question: Question, answers: tuple[int, ...], spec_min: int | None = None,
                 spec_max: int | None = None) -> str:
    """The label of an edge: its answers, with adjacent integer ranges joined ("< 20")."""
    parts: list[str] = []
    run: list[int] = []

    def flush() -> None:
        if not run:
            return
        first, last = question.answers[run[0]], question.answers[run[-1]]
        if len(run) == 1 or spec_min is None or spec_max is None:
            parts.extend(question.answers[i].label for i in run)
        else:
            assert isinstance(first.low, int) and isinstance(last.high, int)
            parts.append(range_label(first.low, last.high, spec_min, spec_max))
        run.clear()

    is_range = spec_min is not None
    for i in answers:
        answer = question.answers[i]
        if is_range and not answer.unknown and (not run or run[-1] == i - 1):
            run.append(i)
            continue
        flush()
        if is_range and not answer.unknown:
            run.append(i)
        else:
            parts.append(answer.label)
    flush()
    return " / ".join(parts)


def edge_label(diagram: Diagram, node: Decision, branch: Branch) -> str:
    question = diagram.question(node)
    spec = diagram.kb.facts[question.fact]
    if spec.type == "integer":
        return branch_label(question, branch.answers, spec.min, spec.max)
    return branch_label(question, branch.answers)
