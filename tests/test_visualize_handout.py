"""`--preset handout`: one chart per page, numbered action and prohibition boxes, the quotes
behind each number, the reason under each "DO NOT", and the documents' reference lists, read
back from the PDF with poppler's pdftotext."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from guidekb.cli import app
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.visualize.chartbook import chart_book
from guidekb.visualize.handout import A4_INCHES, footnotes, handout_pages, note_lines, reference_lines
from guidekb.visualize.style import outcome_text

needs_tools = pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("dot", "pdfunite", "pdftotext", "pdfinfo")),
    reason="needs graphviz `dot` and poppler-utils (pdfunite, pdftotext, pdfinfo): "
           "sudo apt-get install graphviz poppler-utils")


def test_every_box_of_every_chart_has_a_numbered_note(hsv_kb: KnowledgeBase) -> None:
    book = chart_book(hsv_kb)
    for k in range(len(book.charts)):
        numbers = footnotes(book, k)
        assert sorted(numbers.values()) == list(range(1, len(numbers) + 1))
        lines = note_lines(book, k)
        for code, n in numbers.items():
            assert f"[{n}] {outcome_text(hsv_kb, code)}" in lines
        assert any("“" in line and "source " in line for line in lines)


def test_the_reference_lists_are_the_documents_own(hsv_kb: KnowledgeBase) -> None:
    lines = reference_lines(hsv_kb)
    assert sum(line.startswith("Source ") for line in lines) == len(hsv_kb.documents)
    assert any("Foscarnet Treatment for Acyclovir-Resistant HSV Infections" in line for line in lines)
    assert any("not in the published reference list" in line for line in lines)


def test_prohibitions_carry_their_reason_on_the_page(hsv_kb: KnowledgeBase) -> None:
    pages = handout_pages(chart_book(hsv_kb))
    assert {page.chart for page in pages} == {None, *range(len(chart_book(hsv_kb).charts))}
    assert any("Why not:" in page.graph.source for page in pages)


@needs_tools
def test_the_handout_pdf_shows_numbered_citations_and_the_reference_list(hsv_kb: KnowledgeBase,
                                                                          tmp_path: Path) -> None:
    out = tmp_path / "handout.pdf"
    result = CliRunner().invoke(app, ["flowchart", "--preset", "handout", "-o", str(out)])
    assert result.exit_code == 0, result.output
    info = subprocess.run(["pdfinfo", "-f", "1", "-l", "999", str(out)], capture_output=True, text=True,
                          check=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))  # type: ignore[union-attr]
    assert pages == len(handout_pages(chart_book(hsv_kb)))
    for width, height in re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", info):
        assert float(width) <= A4_INCHES[0] * 72 + 1 and float(height) <= A4_INCHES[1] * 72 + 1
    text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True,
                          check=True).stdout
    flat = " ".join(text.split())
    assert "Sources and their reference lists" in flat
    assert "Guideline Directed Topic Overview" in flat
    assert "[1] " in flat and "[2] " in flat
    assert "Notes: the source behind each numbered box" in flat
    assert "Why not:" in flat
    assert "references 1" in flat  # a quote cites the article's own reference numbers


def test_an_unknown_preset_is_a_clear_error() -> None:
    result = CliRunner().invoke(app, ["flowchart", "--preset", "poster", "-o", "x.pdf"])
    assert result.exit_code == 2 and "choose handout or slide" in result.output


@pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz `dot` not installed")
def test_a_small_chart_has_its_notes_on_its_own_page(hsv_kb: KnowledgeBase) -> None:
    """The notes go under the chart's last part when they fit, centred under it; a notes block
    placed beside the chart (dot did so with a node below every node: 724 pt on a 538 pt page)
    sent the notes of every small chart to a page of their own."""
    book = chart_book(hsv_kb)
    pages = handout_pages(book)
    together = {p.chart for p in pages if p.what.endswith(", notes") and ", part " in p.what}
    alone = {p.chart for p in pages if p.what.endswith(", notes") and ", part " not in p.what}
    short = {k for k in range(len(book.charts)) if len(note_lines(book, k)) <= 4}
    assert short and short <= together, sorted(short - together)
    assert len(together) > len(alone)
