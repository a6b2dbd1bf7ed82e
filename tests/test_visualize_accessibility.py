"""Accessibility: action and prohibition boxes stay distinguishable without colour vision
(simulated deuteranopia and protanopia keep their fills apart in luminance, and the shapes
differ anyway), and every chart has a text version built from the same structure."""

from __future__ import annotations

import re
import shutil

import pytest

from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.visualize import style
from guidekb.visualize.chartbook import chart_book
from guidekb.visualize.decisions import Outcome
from guidekb.visualize.dot import outcome_label
from guidekb.visualize.export import chart
from guidekb.visualize.text_version import Item, chart_items, markdown_book

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz `dot` not installed")

# Machado, Oliveira & Fernandes (2009), severity 1.0, applied to linear RGB.
MACHADO = {
    "deuteranopia": ((0.367322, 0.860646, -0.227968), (0.280085, 0.672501, 0.047413),
                     (-0.011820, 0.042940, 0.968881)),
    "protanopia": ((0.152286, 1.052583, -0.204868), (0.114503, 0.786281, 0.099216),
                   (-0.003882, -0.048116, 1.051998)),
}


def _linear(hex_colour: str) -> tuple[float, float, float]:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
    return channel(r), channel(g), channel(b)


def _luminance_seen(hex_colour: str, matrix: tuple[tuple[float, float, float], ...]) -> float:
    rgb = _linear(hex_colour)
    seen = [min(1.0, max(0.0, sum(m * c for m, c in zip(row, rgb, strict=True)))) for row in matrix]
    return 0.2126 * seen[0] + 0.7152 * seen[1] + 0.0722 * seen[2]


@pytest.mark.parametrize("deficiency", sorted(MACHADO))
def test_action_and_prohibition_fills_differ_in_luminance(deficiency: str) -> None:
    matrix = MACHADO[deficiency]
    action = _luminance_seen(style.ACTION_FILL, matrix)
    prohibition = _luminance_seen(style.PROHIBITION_FILL, matrix)
    assert abs(action - prohibition) >= 0.1, (deficiency, action, prohibition)


def test_the_old_palette_fails_the_same_check() -> None:
    """The check can fail: the green and red tints used before were one beige to a
    deuteranope."""
    matrix = MACHADO["deuteranopia"]
    assert abs(_luminance_seen("#E4F2E2", matrix) - _luminance_seen("#FDE3E1", matrix)) < 0.1


def test_a_prohibition_is_marked_by_shape_as_well(hsv_kb: KnowledgeBase) -> None:
    action = outcome_label(hsv_kb, Outcome(("iv_foscarnet",), ()), {})
    forbidden = outcome_label(hsv_kb, Outcome((), ("famciclovir",)), {})
    assert 'STYLE="rounded"' in action and 'BORDER="1"' in action
    assert 'STYLE="rounded"' not in forbidden
    assert re.search(rf'BORDER="{style.PROHIBITION_BORDER}"', forbidden) and style.PROHIBITION_BORDER >= 2
    assert f"{style.DO_NOT}: " in forbidden


def test_the_text_version_has_every_question_and_outcome_of_each_chart(hsv_kb: KnowledgeBase) -> None:
    book = chart_book(hsv_kb)
    text = markdown_book(book)
    for k, one in enumerate(book.charts):
        section = text.split(f"## Chart {k + 1}. ")[1].split("\n## ")[0]
        for node in one.diagram.decisions().values():
            assert one.diagram.question(node).text in section
        for outcome in one.diagram.outcomes().values():
            for code in (*outcome.recommended, *outcome.forbidden):
                assert style.outcome_text(hsv_kb, code) in section
        assert "No action" not in section


def _texts(items: list[Item]) -> list[str]:
    return [text for item in items for text in (item.text, *_texts(item.children))]


def test_a_shared_question_is_referred_to_not_repeated(hsv_kb: KnowledgeBase) -> None:
    book = chart_book(hsv_kb)
    for one in book.charts:
        lines = _texts(chart_items(one.diagram, "chart 2"))
        numbered = [line for line in lines if re.match(r"Q\d+\. ", line)]
        assert len(numbered) == len(one.diagram.decisions())


@needs_dot
def test_the_html_page_holds_the_text_version_of_each_chart(hsv_kb: KnowledgeBase) -> None:
    page = chart(hsv_kb, "decisions", "html").decode()
    assert page.count('<details class="text-version">') == len(chart_book(hsv_kb).charts)


def test_mermaid_is_one_top_down_block_per_chart_without_dead_links(hsv_kb: KnowledgeBase) -> None:
    book = chart_book(hsv_kb)
    text = markdown_book(book)
    blocks = re.findall(r"^```mermaid\n(.*?)^```", text, re.M | re.S)
    assert len(blocks) == len(book.charts)
    assert all(block.startswith("flowchart TD\n") for block in blocks)
    assert "No action" not in text
    for view in ("decisions", "overview", "rules"):
        assert "click " not in chart(hsv_kb, view, "mermaid").decode(), "no link to an anchor a wiki lacks"
    stacked = chart(hsv_kb, "decisions", "mermaid").decode()
    assert all(f"chart{k} ~~~ chart{k + 1}" in stacked for k in range(len(book.charts) - 1))


@needs_dot
def test_svg_titles_are_the_questions_and_answers_not_internal_names(hsv_kb: KnowledgeBase) -> None:
    for svg in (chart(hsv_kb, "decisions", "svg", focus="verify_dosing_adherence").decode(),
                chart(hsv_kb, "decisions", "svg").decode()):
        titles = re.findall(r"<title>([^<]*)</title>", svg)
        internal = [t for t in titles if re.fullmatch(r"(n|c\d+_)\d+(_open\d+)?(&#45;&gt;.*)?", t)]
        assert not internal, internal[:5]
        assert "<title>Is the dose adequate?</title>" in svg
        assert "<desc>Question. Answers: " in svg and "<desc>Leads to " in svg
        assert svg.count("<desc>") >= len(titles) - 1  # all but the graph's own title
