"""The printed handout (`--preset handout --paper a4|letter`): the pathway overview, the
documents and their numbered reference lists, then each chart on its own page(s), each action
and prohibition box numbered, and under the chart the numbered notes: the verbatim quotes
behind each box with their section and the article's own reference numbers. A "DO NOT" box
carries its reason under it.

Nothing is shrunk to fit: each page is drawn at its own font size (10 pt and more) and a chart
taller or wider than the page is split into parts with "continued in part N" boxes
(guidekb.visualize.paging); notes that do not fit under their chart get pages of their own.
Only a part that cannot fit even alone is scaled down (`Page.scaled`; the tests name them).
The pages are joined into one PDF by poppler's `pdfunite` (Debian: poppler-utils).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import graphviz

from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.visualize import style
from guidekb.visualize.chartbook import ChartBook
from guidekb.visualize.dot import render
from guidekb.visualize.errors import VisualizeError
from guidekb.visualize.escaping import dot_html
from guidekb.visualize.overview import overview_graph
from guidekb.visualize.paging import A4, PAPERS, Sheet, fits, natural_size, on_sheet, paged_chart

A4_INCHES = (A4.width, A4.height)


def footnotes(book: ChartBook, k: int) -> dict[str, int]:
    """Code -> its footnote number in chart k: every code drawn in a box, in the knowledge
    base's order (a conclusion chart's conclusion too: its note quotes the rules drawing it)."""
    chart = book.charts[k]
    drawn = {c for o in chart.diagram.outcomes().values() for c in (*o.recommended, *o.forbidden)}
    kb = book.kb
    return {code: n for n, code in enumerate((c for c in [*kb.outcomes, *kb.derived_facts] if c in drawn), 1)}


def _source_number(kb: KnowledgeBase) -> dict[str, int]:
    return {source: n for n, source in enumerate(kb.documents, 1)}


def note_lines(book: ChartBook, k: int) -> list[str]:
    """The numbered notes of chart k, as plain text lines: each box's text, then the quotes of
    the rules behind it (source number, section and the article's reference numbers)."""
    kb = book.kb
    sources = _source_number(kb)
    because: dict[str, list[str]] = {}
    for per_leaf in book.charts[k].diagram.because.values():
        for code, rules in per_leaf.items():
            because.setdefault(code, [])
            because[code] += [r for r in rules if r not in because[code]]
    lines: list[str] = []
    for code, n in footnotes(book, k).items():
        lines.append(f"[{n}] {style.outcome_text(kb, code)}")
        for rule_id in because.get(code, []):
            for p in kb.rule(rule_id).provenance:
                refs = f"; references {', '.join(map(str, p.refs))}" if p.refs else ""
                lines.append(f"      “{p.quote}” (source {sources[p.source]}, {p.section}{refs})")
    return lines


def reference_lines(kb: KnowledgeBase) -> list[str]:
    """Every source document, numbered, with its own numbered reference list."""
    lines: list[str] = []
    for n, document in enumerate(kb.documents.values(), 1):
        title = " ".join(document.title.split())
        lines.append(f"Source {n}: {title}. {document.publisher}, {document.date}.")
        for number, ref in sorted(document.references.items()):
            if ref.listed:
                year = str(ref.year) if ref.year else None
                bits = [b for b in (ref.kind, ref.title, ref.publisher, year) if b]
                lines.append(f"      {number}. {'. '.join(bits)}.")
            else:
                lines.append(f"      {number}. (cited in the text; not in the published reference list)")
    return lines


def _notes_node(graph: graphviz.Digraph, lines: list[str], heading: str, width: int = 96) -> None:
    """The notes as the one block of a page of their own."""
    graph.node("notes", shape="plain", label=_notes_table(lines, heading, width))


_ATTRIBUTES = re.compile(r"\t(graph|node|edge) \[")  # a graph-wide attribute statement (one tab: top level)


def _with_notes_below(graph: graphviz.Digraph, lines: list[str], heading: str,
                      width: int) -> graphviz.Digraph:
    """The drawing with the notes under it, as the label at the foot of a frameless cluster
    holding everything drawn: the cluster is as wide as the wider of the two, the notes
    centred under the chart. (A notes node below every node was placed by dot beside the
    chart, not under it: chart 3 and its three lines of notes came to 724 pt on a 538 pt
    page, so every small chart's notes took a page of their own.)"""
    page = graph.copy()
    attributes = [line for line in page.body if _ATTRIBUTES.match(line)]
    drawn = [line for line in page.body if not _ATTRIBUTES.match(line)]
    notes = _notes_table(lines, heading, width)
    page.body = [*attributes, "\tsubgraph cluster_notes {\n",
                 f"\t\tgraph [peripheries=0 labelloc=b labeljust=l label={notes}]\n", *drawn, "\t}\n"]
    return page


def _notes_table(lines: list[str], heading: str, width: int) -> str:
    rows = [f'<TR><TD ALIGN="LEFT"><FONT POINT-SIZE="12"><B>{dot_html(heading)}</B></FONT></TD></TR>']
    rows += [f'<TR><TD ALIGN="LEFT" BALIGN="LEFT"><FONT POINT-SIZE="10">{dot_html(line, width)}'
             "</FONT></TD></TR>" for line in lines]
    return f'<<TABLE BORDER="0" CELLPADDING="1" CELLSPACING="0">{"".join(rows)}</TABLE>>'


def _note_width(sheet: Sheet) -> int:
    """Characters of 10 pt text a line of notes holds on the sheet."""
    return int(sheet.room[0] / (10 * 0.56))


def _notes_pages(lines: list[str], heading: str, sheet: Sheet) -> list[graphviz.Digraph]:
    """Notes too long for the page of their chart, on pages of their own, as many lines to a
    page as fit at 10 pt; each page after the first says it continues."""
    pages: list[graphviz.Digraph] = []
    rest = list(lines)
    while rest:
        count = len(rest)
        while True:
            title = heading if not pages else f"{heading} (continued)"
            graph = graphviz.Digraph("notes")
            graph.attr("graph", pad="0.05", fontname=style.FONT)
            graph.attr("node", fontname=style.FONT)
            _notes_node(graph, rest[:count], title, _note_width(sheet))
            if count == 1 or fits(graph, sheet):
                break
            height = natural_size(graph)[1]
            count = max(1, min(count - 1, int(count * sheet.room[1] / height)))
        pages.append(graph)
        rest = rest[count:]
    return pages


@dataclass(frozen=True)
class Page:
    """One page of the handout: its drawing, what it shows, and whether it had to be shrunk
    (only a part that cannot fit at its own size; tests list which)."""

    graph: graphviz.Digraph
    what: str
    chart: int | None = None  # the chart (from 0) it belongs to; None: the overview or sources
    scaled: bool = False


def handout_pages(book: ChartBook, sheet: Sheet = A4) -> list[Page]:
    """The pages: the overview, the sources with their reference lists, then each chart in
    as many parts as it needs at its own size, its notes under its last part when they fit
    there, else on pages of their own."""
    overview = overview_graph(book)
    overview.attr("graph", pad="0.05")
    pages = [Page(overview, "overview", scaled=not fits(overview, sheet))]
    pages += [Page(g, "sources") for g in
              _notes_pages(reference_lines(book.kb), "Sources and their reference lists", sheet)]
    for k, chart in enumerate(book.charts):
        heading = f"Chart {k + 1} of {len(book.charts)}: {chart.title}"
        parts = paged_chart(chart.diagram, heading, book.next_chart(k), sheet, notes=footnotes(book, k))
        lines = note_lines(book, k)
        last = _with_notes_below(parts[-1].graph, lines, NOTES_HEADING, _note_width(sheet))
        together = not parts[-1].scaled and fits(last, sheet)
        for part in parts[:-1] if together else parts:
            what = f"chart {k + 1}, part {part.number} of {part.count}"
            pages.append(Page(part.graph, what, k, part.scaled))
        if together:
            pages.append(Page(last, f"chart {k + 1}, part {parts[-1].number} of {parts[-1].count}, notes", k))
        else:
            pages += [Page(g, f"chart {k + 1}, notes", k) for g in _notes_pages(lines, NOTES_HEADING, sheet)]
    return pages


NOTES_HEADING = "Notes: the source behind each numbered box"


def handout_pdf(book: ChartBook, paper: str = "a4") -> bytes:
    """The handout as one PDF on A4 or Letter pages; needs graphviz and poppler's pdfunite."""
    unite = shutil.which("pdfunite")
    if unite is None:
        raise VisualizeError("the handout PDF needs poppler's `pdfunite` to join its pages: "
                             "sudo apt-get install poppler-utils")
    if paper not in PAPERS:
        raise VisualizeError(f"unknown paper '{paper}': choose {' or '.join(PAPERS)}")
    sheet = PAPERS[paper]
    with tempfile.TemporaryDirectory(prefix="guidekb-handout-") as folder:
        names = []
        for n, page in enumerate(handout_pages(book, sheet)):
            path = Path(folder) / f"page-{n:03d}.pdf"
            path.write_bytes(render(on_sheet(page.graph, sheet, page.scaled), "pdf"))
            names.append(str(path))
        joined = Path(folder) / "handout.pdf"
        subprocess.run([unite, *names, str(joined)], check=True, capture_output=True)
        return joined.read_bytes()
