"""`guidekb flowchart --case`: the path a case takes through every chart ends where
`guidekb run` says, for every bundled case and every scenario; the drawing shows it bold and
numbered, in every format graphviz writes."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from guidekb.cli import app
from guidekb.engine.format.cases import load_case
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.qa.scenarios import load_scenarios
from guidekb.engine.runtime.evaluation import Engine
from guidekb.visualize.chartbook import chart_book
from guidekb.visualize.decisions import Decision
from guidekb.visualize.dot import book_graph
from guidekb.visualize.export import chart
from guidekb.visualize.patient import follow, outcome_for

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz `dot` not installed")
KB = Path("knowledge/hsv-resistance")
CASE_FILES = sorted((KB / "cases").glob("*.yaml"))


def _every_case(kb: KnowledgeBase) -> list[tuple[str, dict[str, Any]]]:
    cases = [(path.name, load_case(path, kb)) for path in CASE_FILES]
    cases += [(loaded.path.name, loaded.case) for loaded in load_scenarios(kb)]
    return cases


def test_the_bundled_cases_and_scenarios_are_all_here(hsv_kb: KnowledgeBase) -> None:
    cases = _every_case(hsv_kb)
    assert len(CASE_FILES) >= 5 and len(cases) >= len(CASE_FILES) + 40


def test_every_case_ends_where_the_engine_says_in_every_chart(hsv_kb: KnowledgeBase) -> None:
    engine = Engine.for_kb(hsv_kb)
    book = chart_book(hsv_kb)
    for name, case in _every_case(hsv_kb):
        answer = engine.evaluate(case)
        recommended, forbidden = set(answer.recommended_codes()), set(answer.forbidden_codes())
        reached_r: set[str] = set()
        reached_f: set[str] = set()
        for k, one in enumerate(book.charts):
            leaf = outcome_for(one.diagram, case)
            if one.conclusion is not None:  # a conclusion chart: drawn exactly when the engine draws it
                assert set(leaf.recommended) == {one.conclusion} & set(answer.derived_facts()), f"{name}, {k + 1}"
                assert not leaf.forbidden
                continue
            codes = set(one.codes)
            assert set(leaf.recommended) == recommended & codes, f"{name}, chart {k + 1}"
            assert set(leaf.forbidden) == forbidden & codes, f"{name}, chart {k + 1}"
            reached_r |= set(leaf.recommended)
            reached_f |= set(leaf.forbidden)
        assert reached_r | set(book.in_every_case.recommended) == recommended, name
        assert reached_f | set(book.in_every_case.forbidden) == forbidden, name


def test_a_patients_milestones_are_the_conclusions_the_engine_draws(hsv_kb: KnowledgeBase) -> None:
    """A chart of a later stage answers its milestones ("Resistance suspected?") from the case
    by the chart's own formulas: for every bundled case and scenario, exactly the conclusions
    `guidekb run` draws, on every milestone step of every chart."""
    engine = Engine.for_kb(hsv_kb)
    book = chart_book(hsv_kb)
    milestone_steps = 0
    for name, case in _every_case(hsv_kb):
        drawn = set(engine.evaluate(case).derived_facts())
        for k, one in enumerate(book.charts):
            diagram = one.diagram
            for node_id, taken in follow(diagram, case).steps:
                node = diagram.nodes[node_id]
                assert isinstance(node, Decision)
                question = diagram.question(node)
                if question.milestone:
                    said = {question.answers[a].label for a in node.branches[taken].answers}
                    assert said == ({"yes"} if question.fact in drawn else {"not established"}), \
                        f"{name}, chart {k + 1}: {question.fact}"
                    milestone_steps += 1
    assert milestone_steps >= 50


@needs_dot
def test_the_drawing_numbers_the_steps_and_greys_the_rest(hsv_kb: KnowledgeBase) -> None:
    case = load_case(KB / "cases" / "confirmed-resistance.yaml", hsv_kb)
    book = chart_book(hsv_kb)
    source = book_graph(book, case).source
    steps = sum(len(follow(one.diagram, case).steps) for one in book.charts)
    bold_arrows = re.findall(r"-> \S+ \[label=\"\d+\. [^\]]*penwidth=3", source)
    assert len(bold_arrows) == steps > 0
    assert "#C8C8C8" in source  # the rest is grey
    plain = book_graph(book).source
    assert "penwidth=3" not in plain and "#C8C8C8" not in plain


@needs_dot
@pytest.mark.parametrize("fmt", ["svg", "png", "pdf", "html", "dot"])
def test_cli_case_writes_every_format(tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"path.{fmt}"
    result = CliRunner().invoke(app, ["flowchart", "--case", str(KB / "cases" / "frequent-recurrences.yaml"),
                                      "--format", fmt, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 1000
    if fmt in ("svg", "html", "dot"):
        assert "1. " in out.read_text()


def test_a_bad_case_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("days_on_therapy: -5\n")
    result = CliRunner().invoke(app, ["flowchart", "--case", str(bad), "--format", "dot"])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output


@needs_dot
def test_the_focused_chart_highlights_the_same_leaf_the_engine_reaches(hsv_kb: KnowledgeBase) -> None:
    case = load_case(KB / "cases" / "confirmed-resistance.yaml", hsv_kb)
    svg = chart(hsv_kb, "decisions", "svg", focus="iv_foscarnet", case=case).decode()
    assert "IV foscarnet" in svg and 'stroke-width="3"' in svg


def test_steps_need_a_case_and_a_folder() -> None:
    result = CliRunner().invoke(app, ["flowchart", "--steps", "-o", "x"])
    assert result.exit_code == 2 and "--case CASE --steps" in result.output
