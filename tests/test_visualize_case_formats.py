"""`guidekb flowchart --case` in every format: for every bundled case and every scenario, the
path marked in the DOT drawing (hence SVG, PNG, PDF), the Mermaid, the Markdown text version
and (for the bundled cases) the HTML page ends, in each chart, in a box that says what
`guidekb run` answers for that case (the chart's codes recommended and forbidden, or, when it
has none of them, where to look next). Each format is read back as text, not rebuilt from
the diagram: a renderer that marked the wrong arrow or the wrong box fails here."""

from __future__ import annotations

import html
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
from guidekb.visualize.chartbook import ChartBook, chart_book
from guidekb.visualize.dot import book_graph
from guidekb.visualize.export import chart
from guidekb.visualize.leaves import FIND_OUT, NOT_HERE
from guidekb.visualize.mermaid import book_mermaid
from guidekb.visualize.patient import follow
from guidekb.visualize.style import outcome_text
from guidekb.visualize.text_version import THIS_PATIENT, markdown_book

KB = Path("knowledge/hsv-resistance")
CASE_FILES = sorted((KB / "cases").glob("*.yaml"))
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz `dot` not installed")


def _every_case(kb: KnowledgeBase) -> list[tuple[str, dict[str, Any]]]:
    cases = [(path.name, load_case(path, kb)) for path in CASE_FILES]
    return cases + [(loaded.path.name, loaded.case) for loaded in load_scenarios(kb)]


def _squeeze(text: str) -> str:
    """Text without its line breaks and spaces: wrapping differs between formats."""
    return re.sub(r"\s+", "", text)


def _expected(kb: KnowledgeBase, book: ChartBook, case: dict[str, Any]) -> list[list[str]]:
    """Per chart, the words its reached box must hold: the texts of the chart's codes that
    the engine recommends, and "DO NOT: ..." for those it forbids; none: an open leaf."""
    answer = Engine.for_kb(kb).evaluate(case)
    recommended, forbidden = set(answer.recommended_codes()), set(answer.forbidden_codes())
    expected = []
    for one in book.charts:
        if one.conclusion is not None:  # a conclusion chart ends in the conclusion where it is drawn
            drawn = one.conclusion in answer.derived_facts()
            expected.append([outcome_text(kb, one.conclusion)] if drawn else [])
            continue
        words = [kb.outcomes[c].text for c in kb.outcomes if c in one.codes and c in recommended]
        words += [f"DO NOT: {kb.outcomes[c].text}" for c in kb.outcomes if c in one.codes and c in forbidden]
        expected.append(words)
    return expected


MILESTONE_OPEN = "not established → see chart"  # a milestone the chart starts from is not drawn


def _check_box(box: str, words: list[str], where: str) -> None:
    flat = _squeeze(box)
    if words:
        for word in words:
            assert _squeeze(word) in flat, f"{where}: {word!r} not in the reached box {box!r}"
        assert NOT_HERE.replace(" ", "") not in flat and FIND_OUT.replace(" ", "") not in flat, where
        assert _squeeze(MILESTONE_OPEN) not in flat, where
    else:
        assert _squeeze(NOT_HERE) in flat or _squeeze(FIND_OUT) in flat or _squeeze(MILESTONE_OPEN) in flat, \
            f"{where}: {box!r}"


def _mermaid_text(label: str) -> str:
    """A Mermaid label back to text: <br/> and the #code; entities of mermaid_text."""
    label = label.replace("<br/>", " ")
    return re.sub(r"#(\d+);", lambda m: chr(int(m.group(1))), label)


def test_mermaid_marks_the_path_the_engine_takes(hsv_kb: KnowledgeBase) -> None:
    book = chart_book(hsv_kb)
    for name, case in _every_case(hsv_kb):
        text = book_mermaid(book, case)
        expected = _expected(hsv_kb, book, case)
        arrows = re.findall(r"^\s*(\S+) -->\|\"([^\"]*)\"\| (\S+)$", text, re.M)
        styled = re.search(r"^\s*linkStyle ([\d,]+) ", text, re.M)
        for k, one in enumerate(book.charts):
            steps = len(follow(one.diagram, case).steps)
            mine = [(i, label, target) for i, (source, label, target) in enumerate(arrows)
                    if source.startswith(f"c{k}_")]
            numbered = [(i, label, target) for i, label, target in mine if re.match(r"\d+\. ", label)]
            assert [int(label.split(".")[0]) for _, label, _ in numbered] == list(range(1, steps + 1)), \
                f"{name}, chart {k + 1}"
            assert styled is not None
            assert {i for i, _, _ in numbered} <= {int(n) for n in styled.group(1).split(",")}
            reached = re.findall(rf"^\s*class (c{k}_\S+) reached$", text, re.M)
            assert len(reached) == 1, f"{name}, chart {k + 1}: {reached}"
            assert numbered[-1][2] == reached[0], f"{name}, chart {k + 1}: the path ends elsewhere"
            label = re.search(rf"^\s*{re.escape(reached[0])}[(\[{{]+\"(.*?)\"[)\]}}]+:::", text, re.M)
            assert label is not None, reached[0]
            _check_box(_mermaid_text(label.group(1)), expected[k], f"{name}, chart {k + 1} (mermaid)")


def test_the_markdown_text_version_numbers_the_steps_the_engine_takes(hsv_kb: KnowledgeBase) -> None:
    book = chart_book(hsv_kb)
    for name, case in _every_case(hsv_kb):
        text = markdown_book(book, case, name)
        expected = _expected(hsv_kb, book, case)
        sections = re.split(r"^## Chart \d+\. ", text, flags=re.M)[1:]
        assert len(sections) == len(book.charts)
        for k, (one, section) in enumerate(zip(book.charts, sections, strict=True)):
            steps = len(follow(one.diagram, case).steps)
            listed = section.split("```mermaid")[0]
            numbered = re.findall(r"^(\d+)\. (.*)$", listed, re.M)
            assert [int(n) for n, _ in numbered] == list(range(1, steps + 2)), f"{name}, chart {k + 1}"
            assert numbered[-1][1].endswith(f"**{THIS_PATIENT}**")
            end = numbered[-1][1].removesuffix(f"**{THIS_PATIENT}**").replace("\\", "")
            _check_box(end, expected[k], f"{name}, chart {k + 1} (markdown steps)")
            nested = section.split("```", 2)[2]
            marks = [int(n) for n in re.findall(r"\*\*Step (\d+):\*\*", nested)]
            assert sorted(marks) == list(range(1, steps + 1)), f"{name}, chart {k + 1}: {marks}"
            ends = [line for line in nested.splitlines() if THIS_PATIENT in line]
            assert len(ends) == 1, f"{name}, chart {k + 1}"
            _check_box(ends[0].replace("\\", "").split(" → ", 1)[-1], expected[k],
                       f"{name}, chart {k + 1} (markdown list)")


def _dot_label(source: str, node: str) -> str:
    found = re.search(rf"^\t+{re.escape(node)} \[label=(<.*>|\"(?:[^\"\\]|\\.)*\")", source, re.M)
    assert found is not None, node
    label = re.sub(r"<[^>]*>", " ", found.group(1)).replace("\\n", " ")
    return html.unescape(label)


def test_the_dot_drawing_ends_each_path_where_the_engine_does(hsv_kb: KnowledgeBase) -> None:
    """DOT is what SVG, PNG and PDF are rendered from."""
    book = chart_book(hsv_kb)
    for name, case in _every_case(hsv_kb):
        source = book_graph(book, case).source
        expected = _expected(hsv_kb, book, case)
        for k, one in enumerate(book.charts):
            steps = len(follow(one.diagram, case).steps)
            numbered = re.findall(rf"^\t+c{k}_\S+ -> (c{k}_\S+) \[label=\"(\d+)\. [^\]]*penwidth=3", source, re.M)
            assert [int(n) for _, n in numbered] == list(range(1, steps + 1)), f"{name}, chart {k + 1}"
            end = numbered[-1][0]
            _check_box(_dot_label(source, end), expected[k], f"{name}, chart {k + 1} (dot)")


@needs_dot
@pytest.mark.parametrize("case_file", CASE_FILES, ids=lambda p: p.stem)
def test_the_html_page_lists_and_marks_the_path_the_engine_takes(hsv_kb: KnowledgeBase, case_file: Path) -> None:
    book = chart_book(hsv_kb)
    case = load_case(case_file, hsv_kb)
    page = chart(hsv_kb, "decisions", "html", case=case).decode()
    expected = _expected(hsv_kb, book, case)
    sections = re.split(r'<section class="page" id="chart-\d+">', page)[1:]
    assert len(sections) == len(book.charts)
    for k, (one, section) in enumerate(zip(book.charts, sections, strict=True)):
        steps = len(follow(one.diagram, case).steps)
        listed = re.search(r'<ol class="patient-path">(.*?)</ol>', section)
        assert listed is not None
        items = re.findall(r"<li>(.*?)</li>", listed.group(1))
        assert len(items) == steps + 1 and THIS_PATIENT in items[-1]
        end = html.unescape(re.sub(r"<[^>]*>", "", items[-1])).removesuffix(THIS_PATIENT)
        _check_box(end, expected[k], f"{case_file.name}, chart {k + 1} (html)")
        marks = [int(n) for n in re.findall(r'<strong class="step">Step (\d+):</strong>', section)]
        assert sorted(marks) == list(range(1, steps + 1))
        svg_steps = re.findall(r'font-weight="bold"[^>]*>(\d+)\. ', section)
        assert sorted(int(n) for n in svg_steps) == list(range(1, steps + 1)), f"chart {k + 1}: {svg_steps}"


@pytest.mark.parametrize("fmt", ["mermaid", "markdown"])
def test_cli_case_in_the_text_formats(fmt: str) -> None:
    result = CliRunner().invoke(app, ["flowchart", "--case", str(KB / "cases" / "confirmed-resistance.yaml"),
                                      "--format", fmt])
    assert result.exit_code == 0, result.output
    assert "reached" in result.stdout if fmt == "mermaid" else THIS_PATIENT in result.stdout
    if fmt == "markdown":
        assert "confirmed-resistance.yaml" in result.stdout


def test_a_focused_mermaid_chart_marks_the_path(hsv_kb: KnowledgeBase) -> None:
    case = load_case(KB / "cases" / "confirmed-resistance.yaml", hsv_kb)
    text = chart(hsv_kb, "decisions", "mermaid", focus="iv_foscarnet", case=case).decode()
    reached = re.findall(r"^\s*class (\S+) reached$", text, re.M)
    assert len(reached) == 1
    label = re.search(rf"^\s*{re.escape(reached[0])}[(\[]+\"(.*?)\"", text, re.M)
    assert label is not None and "foscarnet" in _mermaid_text(label.group(1))
