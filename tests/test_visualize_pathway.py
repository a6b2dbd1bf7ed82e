"""The clinical pathway view: stages in the order a clinician reasons, one question order
for every chart, no question twice on a path, no "No action" leaf, titles in words, and an
overview that fits a printed page. (That every chart agrees with the engine on every path is
tests/test_visualize_decisions.py, over these same charts.)"""

from __future__ import annotations

import re
import shutil
import struct
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from guidekb.cli import app
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.visualize.chartbook import chart_book
from guidekb.visualize.decisions import Decision
from guidekb.visualize.dot import diagram_graph, render
from guidekb.visualize.export import chart
from guidekb.visualize.leaves import FIND_OUT, NOT_HERE, leaf_text
from guidekb.visualize.overview import SLIDE_DPI, SLIDE_INCHES, overview_graph, shown_stages, slide_graph
from guidekb.visualize.pathway import question_order, stage_order, stages

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz `dot` not installed")
A4_PT, LETTER_PT = (595, 842), (612, 792)


def test_stages_follow_the_derivation_graph_in_clinical_order(hsv_kb: KnowledgeBase) -> None:
    order = stage_order(hsv_kb)
    assert sorted(order) == sorted(hsv_kb.derived_facts)
    names = [s.name for s in stages(hsv_kb)]
    for k, stage in enumerate(stages(hsv_kb)[1:], 1):
        for before in stage.after:
            assert names.index(before) < k, (before, stage.name)
    # failure -> suspected -> confirmed -> treat -> monitor (foscarnet)
    wanted = ["treatment_failure", "resistance_suspected", "resistance_confirmed",
              "resistant_hsv_treatment_indicated", "foscarnet_indicated"]
    assert [s for s in order if s in wanted] == wanted


def test_the_lab_result_is_not_the_first_question(hsv_kb: KnowledgeBase) -> None:
    order = question_order(hsv_kb)
    failure_facts = {"lesion_course", "days_on_therapy", "current_antiviral"}
    assert max(order.index(f) for f in failure_facts) < order.index("susceptibility_result")


def test_every_chart_asks_in_one_order_and_never_twice_on_a_path(hsv_kb: KnowledgeBase) -> None:
    order = [*stage_order(hsv_kb), *question_order(hsv_kb)]  # milestones first, then case facts
    for k, one in enumerate(chart_book(hsv_kb).charts):
        for steps, _ in one.diagram.paths():
            keys = [s.question.key for s in steps]
            assert len(keys) == len(set(keys)), f"chart {k + 1} asks twice: {keys}"
            positions = [order.index(s.question.fact) for s in steps]
            assert positions == sorted(positions), f"chart {k + 1} leaves the common order: {keys}"


def test_charts_are_grouped_by_stage_in_pathway_order(hsv_kb: KnowledgeBase) -> None:
    book = chart_book(hsv_kb)
    names = [s.name for s in stages(hsv_kb)]
    positions = [names.index(c.stage) for c in book.charts]
    assert positions == sorted(positions)


def test_titles_are_words_never_codes(hsv_kb: KnowledgeBase) -> None:
    codes = [c for c in hsv_kb.outcomes if "_" in c]
    for one in chart_book(hsv_kb).charts:
        assert not any(code in one.title for code in codes), one.title
        assert "_" not in one.title


@needs_dot
def test_no_leaf_says_no_action_and_open_leaves_say_what_to_do(hsv_kb: KnowledgeBase) -> None:
    book = chart_book(hsv_kb)
    for view in ("decisions", "overview"):
        for fmt in ("dot", "mermaid", "html"):
            assert b"No action" not in chart(hsv_kb, view, fmt)
    find_outs = 0
    for k, one in enumerate(book.charts):
        source = diagram_graph(one.diagram, f"chart {k + 1}", book.next_chart(k)).source.replace("\\n", " ")
        assert "No action" not in source
        diagram = one.diagram
        for leaf in diagram.outcomes():
            if not diagram.is_open(leaf):
                continue
            text = leaf_text(diagram, leaf, book.next_chart(k))
            find_outs += text.startswith(FIND_OUT)
            assert text.startswith((f"{FIND_OUT}: ", f"{NOT_HERE} → see {book.next_chart(k)}")) \
                or re.fullmatch(r"[A-Z][A-Za-z ]+: not established → see chart \d+", text), text
    assert find_outs >= 1, "the default knowledge base has answers worth finding out"


def test_a_find_out_leaf_names_questions_answered_unknown_on_its_path(hsv_kb: KnowledgeBase) -> None:
    """A leaf asks to find out only questions some path into it answered "unknown" (which of
    them, exactly, is proven against the engine in tests/test_visualize_leaves.py)."""
    book = chart_book(hsv_kb)
    seen = 0
    for one in book.charts:
        diagram = one.diagram
        for steps, leaf in diagram.paths():
            unknown = {s.question.fact for s in steps if set(s.answers) <= s.question.answered_unknown}
            named = {diagram.vocabulary.questions[i].fact for i in leaf.find_out}
            assert named <= unknown, (named, unknown)
            seen += bool(named)
    assert seen


@needs_dot
def test_the_overview_fits_a_printed_page_at_10_pt_or_more(hsv_kb: KnowledgeBase) -> None:
    book = chart_book(hsv_kb)
    svg = render(overview_graph(book), "svg")
    root = ET.fromstring(svg)
    width, height = (float(root.attrib[a].removesuffix("pt")) for a in ("width", "height"))
    for page in (A4_PT, LETTER_PT):
        assert width <= page[0] and height <= page[1], (width, height, page)
    sizes = [float(s) for s in re.findall(rb'font-size="([\d.]+)"', svg)]
    assert sizes and min(sizes) >= 10
    text = " ".join("".join(e.itertext()) for e in root.iter("{http://www.w3.org/2000/svg}text"))
    for stage in shown_stages(book):
        assert stage.title.split()[0] in text
    for k in range(len(book.charts)):
        assert f"Chart {k + 1}:" in text
        assert f'href="#chart-{k + 1}"'.encode() in svg


@needs_dot
def test_the_html_page_starts_with_the_overview_and_prints_a_chart_a_page(hsv_kb: KnowledgeBase) -> None:
    page = chart(hsv_kb, "decisions", "html").decode()
    assert page.index('id="overview"') < page.index('id="chart-1"')
    assert "break-before: page" in page and "break-inside: avoid" in page


def test_every_path_ends_in_an_outcome_or_says_where_to_go(hsv_kb: KnowledgeBase) -> None:
    """Leaves with nothing in them are only ever reached through an arrow (never the root):
    every one of them gets its own open-leaf box in the drawing."""
    for one in chart_book(hsv_kb).charts:
        assert isinstance(one.diagram.nodes[one.diagram.root], Decision)


@needs_dot
def test_the_slide_fits_16_9_at_18_pt_and_is_written_at_twice_1080p(hsv_kb: KnowledgeBase,
                                                                      tmp_path: Path) -> None:
    graph = slide_graph(chart_book(hsv_kb))
    natural = graph.copy()
    natural.attr("graph", size="")  # its size unscaled
    svg = render(natural, "svg")
    root = ET.fromstring(svg)
    width, height = (float(root.attrib[a].removesuffix("pt")) for a in ("width", "height"))
    assert width <= SLIDE_INCHES[0] * 72 and height <= SLIDE_INCHES[1] * 72, (width, height)
    sizes = [float(s) for s in re.findall(rb'font-size="([\d.]+)"', svg)]
    assert min(sizes) >= 18
    out = tmp_path / "slide.png"
    result = CliRunner().invoke(app, ["flowchart", "--preset", "slide", "-o", str(out)])
    assert result.exit_code == 0, result.output
    png = out.read_bytes()
    png_width, png_height = struct.unpack(">II", png[16:24])
    # the drawing at its own size, centred on a 16:9 page: twice 1920x1080
    assert abs(png_width - SLIDE_INCHES[0] * SLIDE_DPI) <= 2 and abs(png_height - SLIDE_INCHES[1] * SLIDE_DPI) <= 2
