"""Presets measured, not trusted: every handout page (A4 and Letter) and every slide of every
chart is drawn at its own size, fits its page, and keeps its smallest text at 10 pt (paper)
or 18 pt at 1920x1080 (slides); the PDF has one page per planned page, each exactly the
paper's size; a chart too big for a page continues on the next with "continued" boxes; the
HTML page prints each chart on its own page (Chromium's print to PDF, read back per page);
`--list` describes the charts in words and in JSON valid against the published schema.

Nothing is scaled down: an advice box too big to sit beside its question is drawn on a part
of its own (split into "continued" parts when longer than a page), and a question too wide
one way is drawn the other. The sizes come from graphviz's own SVG of each page, laid out in
one batch (guidekb.visualize.measure): its size, the scale it drew at (1: no `size`/`ratio`
shrinking) and its smallest font; one PDF page is read back with `pdftotext -bbox`.
"""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
import tempfile
from pathlib import Path

import graphviz
import jsonschema
import pytest
from typer.testing import CliRunner

from guidekb.cli import app
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.visualize.chartbook import chart_book
from guidekb.visualize.decisions import build_diagram
from guidekb.visualize.export import chart
from guidekb.visualize.handout import Page, handout_pages
from guidekb.visualize.measure import measure_all
from guidekb.visualize.paging import A4, LETTER, SLIDE, Part, Sheet, on_sheet, paged_chart
from guidekb.visualize.pathway import question_order
from guidekb.visualize.slides import all_slides, chart_parts, slide_names
from guidekb.visualize.style import ELSEWHERE

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz `dot` not installed")
needs_poppler = pytest.mark.skipif(
    not all(shutil.which(t) for t in ("dot", "pdfunite", "pdfinfo", "pdftotext")),
    reason="needs graphviz and poppler-utils")
SCHEMA = json.loads(Path("docs/schema/output/flowchart-list.json").read_text(encoding="utf-8"))
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DENSE_SLIDE = 2.0  # questions per slide at least, on average over the default KB's question slides
DENSE_PAGE = 4  # questions per A4 chart page at least, over the whole handout


def _check_unscaled(graphs: list[tuple[str, graphviz.Digraph]], sheet: Sheet, smallest: float) -> None:
    """Each drawing fits the printable part of the sheet at scale 1, and so does the page it
    is placed on (exactly the sheet's size), its smallest text at least `smallest` pt."""
    room_w, room_h = sheet.room
    drawn = measure_all([g.source for _, g in graphs])
    placed = measure_all([on_sheet(g, sheet).source for _, g in graphs])
    for (what, _), one, page in zip(graphs, drawn, placed, strict=True):
        assert one.width <= room_w and one.height <= room_h, (what, one.width, one.height, sheet.name)
        assert page.scale == 1.0 and one.scale == 1.0, what
        assert abs(page.width - sheet.width * 72) <= 1.5 and abs(page.height - sheet.height * 72) <= 1.5, what
        assert page.smallest_font >= smallest, (what, page.smallest_font)


@pytest.fixture(scope="module")
def a4_pages(hsv_kb: KnowledgeBase) -> list[Page]:
    return handout_pages(chart_book(hsv_kb), A4)


@needs_dot
def test_every_handout_page_fits_a4_unscaled_at_10_pt(a4_pages: list[Page], hsv_kb: KnowledgeBase) -> None:
    book = chart_book(hsv_kb)
    assert [page.what for page in a4_pages if page.scaled] == []
    _check_unscaled([(page.what, page.graph) for page in a4_pages], A4, 10)
    # every chart is in the handout, in order, and a split chart says where it continues
    assert [p.chart for p in a4_pages if p.chart is not None] == sorted(
        p.chart for p in a4_pages if p.chart is not None)
    assert {p.chart for p in a4_pages} == {None, *range(len(book.charts))}
    split = [p for p in a4_pages if "part 2 of" in p.what]
    assert split, "the default knowledge base has charts taller than a page"
    for page in split:
        words = " ".join(re.sub(r"<[^>]*>", " ", page.graph.source).split())
        assert "continued from part" in words, page.what
    assert any("▸ Part 2: " in p.graph.source for p in a4_pages)
    # dense: a chart takes a page per DENSE_PAGE questions, and one more at most (a box of
    # much advice and its numbered notes can fill a page of its own; one page per question before)
    chart_pages = [p for p in a4_pages if p.chart is not None and "notes" not in p.what]
    for k, one in enumerate(book.charts):
        questions = len(one.diagram.decisions())
        pages = sum(1 for p in chart_pages if p.chart == k)
        assert pages <= 1 + -(-questions // DENSE_PAGE), (k + 1, pages, questions)


@needs_poppler
@pytest.mark.parametrize("paper", ["a4", "letter"])
def test_the_handout_pdf_pages_are_the_papers_size(tmp_path: Path, paper: str, hsv_kb: KnowledgeBase) -> None:
    out = tmp_path / "handout.pdf"
    result = CliRunner().invoke(app, ["flowchart", "--preset", "handout", "--paper", paper, "-o", str(out)])
    assert result.exit_code == 0, result.output
    info = subprocess.run(["pdfinfo", "-f", "1", "-l", "999", str(out)], capture_output=True, text=True,
                          check=True).stdout
    sheet = {"a4": A4, "letter": LETTER}[paper]
    sizes = re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", info)
    assert sizes
    for width, height in sizes:
        assert abs(float(width) - sheet.width * 72) <= 1.5 and abs(float(height) - sheet.height * 72) <= 1.5
    if paper == "letter":
        pages = handout_pages(chart_book(hsv_kb), LETTER)
        assert len(pages) == len(sizes) and not any(page.scaled for page in pages)
        _check_unscaled([(page.what, page.graph) for page in pages], LETTER, 10)
    # the drawn text, read back from the PDF: pdftotext's word boxes of 10 pt Helvetica are
    # about 11.5 pt high (ascent + descent), so no box lower than 10 pt on any page
    bbox = subprocess.run(["pdftotext", "-bbox", str(out), "-"], capture_output=True, text=True,
                          check=True).stdout
    heights = [float(b) - float(a) for a, b in re.findall(r'yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)"', bbox)]
    assert heights and min(heights) >= 10, min(heights)
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    flat = " ".join(text.split())
    assert "Part 2: " in flat and "continued from part" in flat


def test_an_unknown_paper_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["flowchart", "--preset", "handout", "--paper", "a3",
                                      "-o", str(tmp_path / "h.pdf")])
    assert result.exit_code == 2 and "choose a4 or letter" in result.output


@needs_dot
def test_every_chart_makes_16_9_slides_at_18_pt(hsv_kb: KnowledgeBase) -> None:
    book = chart_book(hsv_kb)
    parts = [(f"chart {k + 1} part {part.number}", part) for k in range(len(book.charts))
             for part in chart_parts(book, k)]
    assert [what for what, part in parts if part.scaled] == []
    _check_unscaled([(what, part.graph) for what, part in parts], SLIDE, 18)
    # a box of many recommendations is drawn on a part of its own, said where it continues
    # (the book's charts start from milestones and are small: the whole pathway to the
    # treatment of resistant HSV, drawn without them, still has such boxes)
    treatment = [c for one in book.charts if {"iv_foscarnet", "id_consult"} & set(one.codes) for c in one.codes]
    whole = build_diagram(hsv_kb, treatment, order=question_order(hsv_kb))
    focused = paged_chart(whole, "Treatment", ELSEWHERE, SLIDE)
    alone = [part for part in [p for _, p in parts] + focused if part.piece.leaf is not None]
    assert alone and all("From part" in part.graph.source or "Continued from part" in part.graph.source
                         for part in alone)
    assert any("the advice:" in part.graph.source for part in [*(p for _, p in parts), *focused])
    # dense: several questions to a slide (a question and its answers each, before: 31
    # questions of chart 5 on 24 slides), and several branches drawn together on one
    drawn = [part for _, part in parts if part.piece.leaf is None]
    questions = sum(len(part.piece.questions) for part in drawn)
    assert questions >= DENSE_SLIDE * len(drawn), (questions, len(drawn))
    for k in range(len(book.charts)):  # big advice boxes aside, fewer slides than questions
        shown = [w for w, part in parts if w.startswith(f"chart {k + 1} part") and part.piece.leaf is None]
        asked = len(book.charts[k].diagram.decisions())
        assert len(shown) <= max(1, -(-asked * 4 // 5)), (k + 1, len(shown), asked)
    # a question a part is entered by, from another part, says from which: one per such part
    entered = [(what, part) for what, part in drawn_with_names(parts)
               if "continued from part" in " ".join(re.sub(r"<[^>]*>", " ", part.graph.source).split())]
    assert entered, "the default knowledge base has charts split over slides"
    for what, part in entered:
        assert "◂ from part " in part.graph.source, what


def drawn_with_names(parts: list[tuple[str, Part]]) -> list[tuple[str, Part]]:
    """The parts that draw questions (not a box of advice on a part of its own)."""
    return [(what, part) for what, part in parts if part.piece.leaf is None]


@needs_dot
def test_cli_slides_of_every_chart_into_a_folder_are_the_ones_listed(
        tmp_path: Path, hsv_kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every chart's slide files, as written, are the ones --list names (text and JSON); two
    PNGs are rendered for real (3840x2160), the rest stubbed to keep the test fast."""
    from guidekb.commands import flowchart

    real = flowchart.render
    rendered: list[str] = []

    def quick(graph: graphviz.Digraph, fmt: str, dpi: int | None = None) -> bytes:
        rendered.append(fmt)
        return real(graph, fmt, dpi) if len(rendered) in (1, 3) else b"stub"

    monkeypatch.setattr(flowchart, "render", quick)
    out = tmp_path / "slides"
    result = CliRunner().invoke(app, ["flowchart", "--preset", "slide", "-o", str(out)])
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.glob("*.png"))
    assert names == sorted(name for name, _ in all_slides(chart_book(hsv_kb)))
    for name in sorted(names)[:1] + [n for n in names if n.startswith("chart-01")][:1]:
        png = (out / name).read_bytes()
        if png != b"stub":
            width, height = struct.unpack(">II", png[16:24])
            assert abs(width - 3840) <= 2 and abs(height - 2160) <= 2, (name, width, height)
    listed = json.loads(CliRunner().invoke(app, ["flowchart", "--list", "--format", "json"]).stdout)
    from_json = [listed["overview"]["files"]["slide"], *(f for c in listed["charts"] for f in c["files"]["slides"])]
    assert sorted(from_json) == names
    assert any(len(c["files"]["slides"]) > 1 for c in listed["charts"])
    text = CliRunner().invoke(app, ["flowchart", "--list"]).stdout
    from_text = ["overview.png"]
    for first, last, count in re.findall(r"slides: (\S+) … (\S+) \((\d+)\)", text):
        stem = first.rsplit("-", 1)[0]
        from_text += [f"{stem}-{n:02d}.png" for n in range(1, int(count) + 1)]
        assert from_text[-1] == last
    from_text += re.findall(r"slide: (\S+)", text)
    assert sorted(from_text) == names
    assert slide_names(chart_book(hsv_kb)) == [c["files"]["slides"] for c in listed["charts"]]


@needs_dot
def test_cli_one_chart_as_a_slide_or_says_it_needs_a_folder(tmp_path: Path) -> None:
    one = tmp_path / "chart1.png"
    result = CliRunner().invoke(app, ["flowchart", "--preset", "slide", "--chart", "1", "-o", str(one)])
    assert result.exit_code == 0, result.output
    width, height = struct.unpack(">II", one.read_bytes()[16:24])
    assert abs(width - 3840) <= 2 and abs(height - 2160) <= 2
    result = CliRunner().invoke(app, ["flowchart", "--preset", "slide", "--chart", "8", "-o",
                                      str(tmp_path / "chart8.png")])
    assert result.exit_code == 2 and "give a folder" in result.output
    folder = tmp_path / "chart8"
    result = CliRunner().invoke(app, ["flowchart", "--preset", "slide", "--chart", "8", "-o", str(folder)])
    assert result.exit_code == 0, result.output
    written = sorted(p.name for p in folder.glob("*.png"))
    assert len(written) > 1 and written[0] == "slide-01.png"


def test_a_chart_number_outside_the_book_is_a_clear_error() -> None:
    result = CliRunner().invoke(app, ["flowchart", "--chart", "99", "--format", "dot"])
    assert result.exit_code == 2 and "there is no chart 99" in result.output


@needs_dot
def test_one_chart_of_the_book_in_every_text_format(hsv_kb: KnowledgeBase) -> None:
    book = chart_book(hsv_kb)
    first = book.charts[1].diagram.question(next(iter(book.charts[1].diagram.decisions().values()))).text
    for fmt in ("dot", "mermaid", "html"):
        text = chart(hsv_kb, "decisions", fmt, number=2).decode()
        assert first.split()[0] in text


def test_list_in_words_and_in_json(hsv_kb: KnowledgeBase) -> None:
    book = chart_book(hsv_kb)
    result = CliRunner().invoke(app, ["flowchart", "--list", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    jsonschema.validate(data, SCHEMA)
    assert [c["number"] for c in data["charts"]] == list(range(1, len(book.charts) + 1))
    for listed, one in zip(data["charts"], book.charts, strict=True):
        assert listed["title"] == one.title and "_" not in listed["title"]
        assert listed["stage"]["name"] == one.stage
        assert {a["code"] for a in listed["advice"]} == set(one.codes)
        assert all(f.startswith("by-code/") for f in listed["files"]["by_code"])
    assert data["stages"][0]["title"] == "The patient and the lesion"
    text = CliRunner().invoke(app, ["flowchart", "--list"])
    assert text.exit_code == 0
    assert all(f"chart-{k + 1} " in text.stdout for k in range(len(book.charts)))
    bad = CliRunner().invoke(app, ["flowchart", "--list", "--format", "png"])
    assert bad.exit_code == 2 and "text or json" in bad.output


def test_the_schema_rejects_what_the_listing_never_writes() -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"kb": {"id": "x", "version": "1", "title": "t"}, "charts": []}, SCHEMA)


@needs_poppler
@pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium for --print-to-pdf")
def test_the_html_page_prints_one_chart_per_page(hsv_kb: KnowledgeBase, tmp_path: Path) -> None:
    page = tmp_path / "charts.html"
    page.write_bytes(chart(hsv_kb, "decisions", "html"))
    pdf = tmp_path / "charts.pdf"
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu",
                        "--disable-background-networking", "--disable-component-update", "--disable-sync",
                        "--no-first-run", f"--user-data-dir={profile}", "--no-pdf-header-footer",
                        f"--print-to-pdf={pdf}", page.as_uri()], capture_output=True, check=True, timeout=120)
    book = chart_book(hsv_kb)
    count = int(re.search(r"Pages:\s+(\d+)",  # type: ignore[union-attr]
                          subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout).group(1))
    where: dict[int, list[int]] = {}  # chart -> the pages its drawing is on
    for number in range(1, count + 1):
        text = subprocess.run(["pdftotext", "-f", str(number), "-l", str(number), str(pdf), "-"],
                              capture_output=True, text=True, check=True).stdout
        flat = " ".join(text.split())
        drawn = [k for k in range(len(book.charts)) if f"decision chart {k + 1} of {len(book.charts)}" in flat]
        assert len(drawn) <= 1, f"page {number} holds charts {drawn}"
        for k in drawn:
            where.setdefault(k, []).append(number)
    assert sorted(where) == list(range(len(book.charts))), where
    assert all(len(pages) == 1 for pages in where.values()), f"a chart split over pages: {where}"


@needs_dot
def test_list_with_a_case_names_the_slides_a_case_export_writes(hsv_kb: KnowledgeBase) -> None:
    """A patient's path draws numbered, wider arrows, so a chart can split into more slides:
    `--list --case` names those (it named the slides of an export without a case: 56 for 58)."""
    from guidekb.engine.format.cases import load_case
    from tests.conftest import HSV_KB

    case_file = HSV_KB / "cases" / "confirmed-resistance.yaml"
    book = chart_book(hsv_kb)
    written = sorted(name for name, _ in all_slides(book, load_case(case_file, hsv_kb)))
    result = CliRunner().invoke(app, ["flowchart", "--list", "--format", "json", "--kb", str(HSV_KB),
                                      "--case", str(case_file)])
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)
    named = sorted([listed["overview"]["files"]["slide"], *(f for c in listed["charts"] for f in c["files"]["slides"])])
    assert named == written
    assert written != sorted(name for name, _ in all_slides(book)), "this case's path splits a chart differently"
